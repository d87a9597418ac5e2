// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721Votes} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721Votes.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

/// @title Membership of a commons: one member, one non-transferable token, one vote.
/// @notice The owner (the commons' timelock, so: a passed proposal) admits and removes members;
/// a member may resign at any time. A new member votes from the moment of admission, because
/// the contract delegates their vote to themselves. Votes are checkpointed by timestamp (ERC-6372).
/// When a member leaves, the votes delegated to them return to their owners; a member holds at most
/// `maxDelegators` delegated votes, so leaving (or being removed) always fits in a block.
/// Handles are unique among current members, ignoring case, and use only letters, digits, '-', '_' and '.'.
contract Membership is ERC721, ERC721Votes, Ownable {
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @notice The account already holds a membership; an address holds at most one.
    error MembershipAlreadyMember(address account);
    /// @notice The account holds no membership.
    error MembershipNotMember(address account);
    /// @notice Memberships cannot be transferred, only admitted, removed or resigned.
    error MembershipNotTransferable(uint256 tokenId);
    /// @notice A vote can only be delegated to a member (or back to oneself).
    error MembershipDelegateNotMember(address delegatee);
    /// @notice A handle must be 1 to 64 characters: ASCII letters, digits, '-', '_' or '.'.
    error MembershipInvalidHandle(string handle);
    /// @notice A current member already goes by this handle (compared ignoring case).
    error MembershipHandleTaken(string handle, address holder);
    /// @notice The delegatee already holds the most delegated votes one member may hold.
    error MembershipTooManyDelegators(address delegatee, uint256 maxDelegators);
    /// @notice The lists of founding members and their handles differ in length.
    error MembershipFoundersMismatch(uint256 members, uint256 handles);

    /// @notice `member` was admitted with token `tokenId` under `handle`.
    event MemberAdmitted(address indexed member, uint256 indexed tokenId, string handle);
    /// @notice `member` (token `tokenId`, `handle`) was removed by the commons.
    event MemberRemoved(address indexed member, uint256 indexed tokenId, string handle);
    /// @notice `member` (token `tokenId`, `handle`) resigned.
    event MemberResigned(address indexed member, uint256 indexed tokenId, string handle);

    uint256 private _lastMemberNumber;
    // An address keeps its member number for life; its token id is that number, re-minted on readmission.
    mapping(address account => uint256) private _memberNumber;
    mapping(uint256 tokenId => string) private _handles;
    mapping(address delegatee => EnumerableSet.AddressSet) private _delegators;
    // keccak256 of a handle in lower case → the current member who goes by it.
    mapping(bytes32 handleKey => address) private _handleHolder;

    /// @notice The most members who may delegate their vote to one member at a time. Returning their votes when
    /// that member leaves costs gas per delegator, so this bounds the cost of removal and resignation.
    uint256 public immutable maxDelegators;

    /// @param name_ The commons' name, also the token name.
    /// @param owner_ Who admits and removes members: the commons' timelock.
    /// @param founders Founding members, admitted at deployment.
    /// @param handles Their handles, in the same order.
    /// @param maxDelegators_ The most members who may delegate to one member at a time.
    constructor(
        string memory name_,
        address owner_,
        address[] memory founders,
        string[] memory handles,
        uint256 maxDelegators_
    ) ERC721(name_, "MEMBER") EIP712(name_, "1") Ownable(owner_) {
        maxDelegators = maxDelegators_;
        if (founders.length != handles.length) revert MembershipFoundersMismatch(founders.length, handles.length);
        for (uint256 i = 0; i < founders.length; i++) {
            _admit(founders[i], handles[i]);
        }
    }

    /// @notice Admits `account` as a member under `handle`; their vote is active at once.
    function admit(address account, string calldata handle) external onlyOwner {
        _admit(account, handle);
    }

    /// @notice Removes `account` from the commons; their token is burned and their vote ends.
    function remove(address account) external onlyOwner {
        (uint256 tokenId, string memory handle) = _burnMembership(account);
        emit MemberRemoved(account, tokenId, handle);
    }

    /// @notice Ends the caller's own membership. Anyone may leave at any time.
    function resign() external {
        (uint256 tokenId, string memory handle) = _burnMembership(_msgSender());
        emit MemberResigned(_msgSender(), tokenId, handle);
    }

    /// @notice Whether `account` is a member now.
    function isMember(address account) public view returns (bool) {
        uint256 number = _memberNumber[account];
        return number != 0 && _ownerOf(number) == account;
    }

    /// @notice The membership token of `account`, or 0 for a non-member.
    function tokenOf(address account) external view returns (uint256) {
        return isMember(account) ? _memberNumber[account] : 0;
    }

    /// @notice The number `account` got at its first admission, kept after it leaves; 0 if never a member.
    function memberNumberOf(address account) external view returns (uint256) {
        return _memberNumber[account];
    }

    /// @notice The handle a member was admitted under.
    function handleOf(address account) external view returns (string memory) {
        if (!isMember(account)) revert MembershipNotMember(account);
        return _handles[_memberNumber[account]];
    }

    /// @notice The current member going by `handle` (ignoring case), or address(0) if none.
    function holderOfHandle(string calldata handle) external view returns (address) {
        return _handleHolder[_handleKey(handle)];
    }

    /// @notice The members who delegate their vote to `delegatee` now.
    function delegatorsOf(address delegatee) external view returns (address[] memory) {
        return _delegators[delegatee].values();
    }

    /// @notice The number of members now.
    function memberCount() external view returns (uint256) {
        return _getTotalSupply();
    }

    /// @notice ERC-6372: votes are checkpointed by block timestamp.
    function clock() public view override returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @notice ERC-6372 clock description.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    function _admit(address account, string memory handle) private {
        if (isMember(account)) revert MembershipAlreadyMember(account);
        bytes32 key = _handleKey(handle);
        address holder = _handleHolder[key];
        if (holder != address(0)) revert MembershipHandleTaken(handle, holder);
        _handleHolder[key] = account;
        uint256 tokenId = _memberNumber[account];
        if (tokenId == 0) {
            tokenId = ++_lastMemberNumber;
            _memberNumber[account] = tokenId;
        }
        _handles[tokenId] = handle;
        _mint(account, tokenId);
        // One member, one vote, active from the start: nobody has to "activate" voting power.
        _delegate(account, account);
        emit MemberAdmitted(account, tokenId, handle);
    }

    function _burnMembership(address account) private returns (uint256 tokenId, string memory handle) {
        if (!isMember(account)) revert MembershipNotMember(account);
        tokenId = _memberNumber[account];
        handle = _handles[tokenId];
        delete _handleHolder[_handleKey(handle)];
        address ownDelegate = delegates(account);
        if (ownDelegate != account) _delegators[ownDelegate].remove(account);
        _burn(tokenId);
        // A vote never leaves the commons: votes delegated to a leaving member go back to their owners.
        EnumerableSet.AddressSet storage delegators = _delegators[account];
        for (uint256 i = delegators.length(); i > 0; i--) {
            address delegator = delegators.at(i - 1);
            _delegate(delegator, delegator);
        }
    }

    /// @dev Delegation by members only and only to members (or oneself), so a vote never leaves the commons;
    /// each delegatee's delegators are tracked so their votes can return to them when the delegatee leaves.
    function _delegate(address account, address delegatee) internal override {
        if (!isMember(account)) revert MembershipNotMember(account);
        if (delegatee != account && !isMember(delegatee)) revert MembershipDelegateNotMember(delegatee);
        address previous = delegates(account);
        if (previous != account && previous != address(0)) _delegators[previous].remove(account);
        if (delegatee != account && _delegators[delegatee].add(account) && _delegators[delegatee].length() > maxDelegators) {
            revert MembershipTooManyDelegators(delegatee, maxDelegators);
        }
        super._delegate(account, delegatee);
    }

    /// @dev The handle in lower case, hashed; reverts with MembershipInvalidHandle unless it is 1 to 64 safe characters.
    function _handleKey(string memory handle) private pure returns (bytes32) {
        bytes memory lower = bytes(handle);
        uint256 length = lower.length;
        if (length == 0 || length > 64) revert MembershipInvalidHandle(handle);
        lower = new bytes(length);
        for (uint256 i = 0; i < length; i++) {
            bytes1 c = bytes(handle)[i];
            if (c >= "A" && c <= "Z") {
                c = bytes1(uint8(c) + 32);
            } else if (!((c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "-" || c == "_" || c == ".")) {
                revert MembershipInvalidHandle(handle);
            }
            lower[i] = c;
        }
        return keccak256(lower);
    }

    /// @dev Mint and burn only: a membership is personal.
    function _update(address to, uint256 tokenId, address auth) internal override(ERC721, ERC721Votes) returns (address) {
        address from = _ownerOf(tokenId);
        if (from != address(0) && to != address(0)) revert MembershipNotTransferable(tokenId);
        return super._update(to, tokenId, auth);
    }

    function _increaseBalance(address account, uint128 value) internal override(ERC721, ERC721Votes) {
        super._increaseBalance(account, value);
    }
}
