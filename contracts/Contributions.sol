// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title Attributed contributions to a commons' treasury: who gave what, with a note, forwarded at once.
/// @notice Anyone contributes ETH or a tracked ERC-20 token with a short note; the funds go straight to the
/// treasury (the timelock) in the same call, so this contract never holds anything. Only the treasury (that is,
/// a passed vote) changes which tokens are tracked.
contract Contributions {
    using SafeERC20 for IERC20;

    /// @notice The longest note, in bytes.
    uint256 public constant MAX_NOTE_BYTES = 280;

    /// @notice The commons' treasury (its TimelockController), which receives every contribution.
    address payable public immutable treasury;

    /// @notice Whether `token` is accepted as a contribution and shown as an asset of the treasury.
    mapping(address token => bool) public isTracked;

    address[] private _tracked;

    /// @notice `contributor` gave `amount` of `asset` (address(0) for ETH) to the treasury, saying `note`.
    event Contributed(address indexed contributor, address indexed asset, uint256 amount, string note);

    /// @notice The commons now tracks `token`.
    event TokenTracked(address indexed token);

    /// @notice The commons no longer tracks `token`.
    event TokenUntracked(address indexed token);

    /// @notice Only the treasury changes the tracked tokens; `caller` is not it.
    error ContributionsOnlyTreasury(address caller);

    /// @notice A contribution of nothing.
    error ContributionsZeroAmount();

    /// @notice `token` is not tracked by the commons.
    error ContributionsUntrackedToken(address token);

    /// @notice `token` is tracked already (`tracked` true), or was not tracked (`tracked` false).
    error ContributionsTrackedAlready(address token, bool tracked);

    /// @notice The note is `length` bytes, more than `max`.
    error ContributionsNoteTooLong(uint256 length, uint256 max);

    /// @notice The treasury refused the ETH.
    error ContributionsForwardFailed();

    /// @param treasury_ The timelock that receives contributions and alone changes the tracked tokens.
    /// @param tokens Tokens tracked from the start (chosen at deployment).
    constructor(address payable treasury_, address[] memory tokens) {
        treasury = treasury_;
        for (uint256 i = 0; i < tokens.length; i++) {
            _track(tokens[i]);
        }
    }

    /// @notice Gives the ETH sent to the treasury, recorded as the sender's with `note`.
    function contribute(string calldata note) external payable {
        if (msg.value == 0) revert ContributionsZeroAmount();
        _checkNote(note);
        emit Contributed(msg.sender, address(0), msg.value, note);
        (bool ok, ) = treasury.call{value: msg.value}("");
        if (!ok) revert ContributionsForwardFailed();
    }

    /// @notice Moves `amount` of a tracked `token` from the sender (who approved this contract) to the treasury,
    /// recorded as the sender's with `note`. Works with tokens that return no boolean (SafeERC20).
    function contributeToken(IERC20 token, uint256 amount, string calldata note) external {
        if (amount == 0) revert ContributionsZeroAmount();
        if (!isTracked[address(token)]) revert ContributionsUntrackedToken(address(token));
        _checkNote(note);
        emit Contributed(msg.sender, address(token), amount, note);
        token.safeTransferFrom(msg.sender, treasury, amount);
    }

    /// @notice Tracks `token` (the treasury only, i.e. by a vote).
    function trackToken(address token) external {
        if (msg.sender != treasury) revert ContributionsOnlyTreasury(msg.sender);
        _track(token);
    }

    /// @notice Stops tracking `token` (the treasury only, i.e. by a vote); what the treasury holds stays there.
    function untrackToken(address token) external {
        if (msg.sender != treasury) revert ContributionsOnlyTreasury(msg.sender);
        if (!isTracked[token]) revert ContributionsTrackedAlready(token, false);
        isTracked[token] = false;
        for (uint256 i = 0; i < _tracked.length; i++) {
            if (_tracked[i] == token) {
                _tracked[i] = _tracked[_tracked.length - 1];
                _tracked.pop();
                break;
            }
        }
        emit TokenUntracked(token);
    }

    /// @notice The tracked tokens (in no particular order).
    function trackedTokens() external view returns (address[] memory) {
        return _tracked;
    }

    function _track(address token) private {
        if (isTracked[token]) revert ContributionsTrackedAlready(token, true);
        isTracked[token] = true;
        _tracked.push(token);
        emit TokenTracked(token);
    }

    function _checkNote(string calldata note) private pure {
        if (bytes(note).length > MAX_NOTE_BYTES) revert ContributionsNoteTooLong(bytes(note).length, MAX_NOTE_BYTES);
    }
}
