// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {Membership} from "./Membership.sol";

interface IProposer {
    function propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description
    ) external returns (uint256);
}

/// @title Initiatives: members draft proposals, other members co-sign them, and enough support puts them to a vote.
/// @notice Any member drafts an initiative (the full proposal in an event), may revise it (earlier signatures no
/// longer count) or withdraw it. Members support it by signing (EIP-712) the exact proposal, this initiative and
/// revision, and an expiry; anyone may post such a signature. `submit` checks every signature again and proposes
/// through the governor, where this contract is a steward; the proposal's description ends with
/// `#proposer=<this contract>` so no one else can submit it, and `InitiativeSubmitted` names the author and
/// co-signers. An initiative is submitted at most once, so a signature never serves a second proposal.
/// A member may also sign a draft, revision or withdrawal (EIP-712, with a single-use nonce and a deadline) for
/// anyone (the relay) to send: the signer is the author, so a copy sent by someone else still drafts theirs.
/// The share of members whose support is needed and how long an initiative stays open are settings of the
/// commons, changed only by the timelock (a passed proposal).
contract Initiatives is EIP712 {
    /// @notice An initiative's life: open while it gathers support; withdrawn by its author; submitted as a proposal.
    enum Status {
        None,
        Open,
        Withdrawn,
        Submitted
    }

    struct Initiative {
        address author;
        uint32 revision;
        Status status;
        uint48 revisedAt;
        bytes32 proposalHash; // EIP-712 hash of Proposal(targets, values, calldatas, descriptionHash)
        uint256 proposalId; // the governor's proposal once submitted
    }

    /// @notice One posted signature of support, as `submit` takes it.
    struct Support {
        address supporter;
        uint256 expiry;
        bytes signature;
    }

    /// @notice An author's signature for a draft, revision or withdrawal someone else sends (the relay).
    struct AuthorSignature {
        address author;
        uint256 nonce; // any number, used once per author
        uint256 deadline; // unusable after this time
        bytes signature;
    }

    /// @notice Support is always from at least this many members besides the author.
    uint256 public constant MIN_COSIGNERS = 2;

    bytes32 public constant PROPOSAL_TYPEHASH =
        keccak256("Proposal(address[] targets,uint256[] values,bytes[] calldatas,bytes32 descriptionHash)");
    bytes32 public constant SUPPORT_TYPEHASH =
        keccak256(
            "Support(uint256 initiative,uint256 revision,address supporter,uint256 nonce,Proposal proposal,uint256 expiry)"
            "Proposal(address[] targets,uint256[] values,bytes[] calldatas,bytes32 descriptionHash)"
        );

    bytes32 public constant DRAFT_TYPEHASH =
        keccak256(
            "Draft(address author,Proposal proposal,uint256 nonce,uint256 deadline)"
            "Proposal(address[] targets,uint256[] values,bytes[] calldatas,bytes32 descriptionHash)"
        );
    bytes32 public constant REVISION_TYPEHASH =
        keccak256(
            "Revision(uint256 initiative,uint256 revision,address author,Proposal proposal,uint256 nonce,uint256 deadline)"
            "Proposal(address[] targets,uint256[] values,bytes[] calldatas,bytes32 descriptionHash)"
        );
    bytes32 public constant WITHDRAWAL_TYPEHASH =
        keccak256("Withdrawal(uint256 initiative,address author,uint256 nonce,uint256 deadline)");

    Membership public immutable membership;
    IProposer public immutable governor;
    address public immutable timelock;

    /// @notice The share of current members (in basis points, 10000 = all) whose support, the author's included,
    /// an initiative needs; never fewer than the author and `MIN_COSIGNERS`.
    uint256 public supportShareBps;
    /// @notice Seconds an initiative stays open after its latest draft or revision.
    uint256 public lifetime;
    /// @notice The number of initiatives drafted; ids run from 1.
    uint256 public initiativeCount;

    mapping(uint256 id => Initiative) private _initiatives;
    /// @notice A supporter's signatures for an initiative name this nonce; withdrawing support bumps it.
    mapping(uint256 id => mapping(address supporter => uint256)) public supportNonce;
    /// @notice Whether `author` has used `nonce` in a signed draft, revision or withdrawal.
    mapping(address author => mapping(uint256 nonce => bool)) public authorNonceUsed;

    /// @notice `author` drafted initiative `id`: the proposal it would become (description: Markdown, `# Title` first).
    event InitiativeDrafted(
        uint256 indexed id,
        address indexed author,
        address[] targets,
        uint256[] values,
        bytes[] calldatas,
        string description
    );
    /// @notice The author revised initiative `id`; signatures for earlier revisions no longer count.
    event InitiativeRevised(
        uint256 indexed id,
        uint256 revision,
        address[] targets,
        uint256[] values,
        bytes[] calldatas,
        string description
    );
    /// @notice The author withdrew initiative `id`.
    event InitiativeWithdrawn(uint256 indexed id, address indexed author);
    /// @notice `supporter` signed support for revision `revision` of initiative `id`, valid until `expiry`.
    event SupportPosted(
        uint256 indexed id,
        address indexed supporter,
        uint256 revision,
        uint256 nonce,
        uint256 expiry,
        bytes signature
    );
    /// @notice `supporter` withdrew their support for initiative `id`; their signatures with a lower nonce are void.
    event SupportWithdrawn(uint256 indexed id, address indexed supporter, uint256 nonce);
    /// @notice Initiative `id` became governor proposal `proposalId`, by `author` with `supporters`.
    event InitiativeSubmitted(
        uint256 indexed id,
        uint256 indexed proposalId,
        address indexed author,
        uint256 revision,
        address[] supporters
    );
    /// @notice The commons changed the share of members whose support an initiative needs.
    event SupportShareSet(uint256 oldShareBps, uint256 newShareBps);
    /// @notice The commons changed how long an initiative stays open.
    event LifetimeSet(uint256 oldLifetime, uint256 newLifetime);

    /// @notice Only members draft, revise or support.
    error InitiativesNotMember(address account);
    /// @notice There is no initiative `id`.
    error InitiativesUnknown(uint256 id);
    /// @notice Only the author `author` may do this to initiative `id`; `account` tried.
    error InitiativesNotAuthor(uint256 id, address account, address author);
    /// @notice Initiative `id` is not open (status: 2 withdrawn, 3 submitted).
    error InitiativesNotOpen(uint256 id, Status status);
    /// @notice Initiative `id` was already submitted, as proposal `proposalId`.
    error InitiativesAlreadySubmitted(uint256 id, uint256 proposalId);
    /// @notice Initiative `id` expired at `expiredAt` without being submitted.
    error InitiativesExpired(uint256 id, uint256 expiredAt);
    /// @notice A proposal needs at least one action and as many values and calldatas as targets.
    error InitiativesInvalidActions(uint256 targets, uint256 values, uint256 calldatas);
    /// @notice The actions or text given are not those of initiative `id`'s current revision.
    error InitiativesProposalDiffers(uint256 id, uint256 revision);
    /// @notice The author's support is counted already; `account` is the author of initiative `id`.
    error InitiativesAuthorSigned(uint256 id, address account);
    /// @notice `supporter` appears twice (supporters are listed once each, in ascending address order).
    error InitiativesSupporterRepeated(address supporter);
    /// @notice Supporters must be listed in ascending address order; `supporter` is out of order.
    error InitiativesSupportersUnordered(address supporter);
    /// @notice `supporter`'s signature expired at `expiry`.
    error InitiativesSignatureExpired(address supporter, uint256 expiry);
    /// @notice `supporter` withdrew the support this signature gave to initiative `id`.
    error InitiativesSupportWithdrawn(uint256 id, address supporter);
    /// @notice The signature is not `supporter`'s for this initiative, revision, proposal, commons and chain.
    error InitiativesInvalidSignature(uint256 id, uint256 revision, address supporter);
    /// @notice Initiative `id` has the support of `count` members (author included) but needs `needed`.
    error InitiativesSupportShort(uint256 id, uint256 count, uint256 needed);
    /// @notice `author`'s signature for a draft, revision or withdrawal could be used until `deadline`, now past.
    error InitiativesDeadlinePassed(address author, uint256 deadline);
    /// @notice `author` already used nonce `nonce`: each signed draft, revision or withdrawal is used once.
    error InitiativesNonceUsed(address author, uint256 nonce);
    /// @notice The signature is not `author`'s for this draft, revision or withdrawal, commons and chain.
    error InitiativesInvalidAuthorSignature(address author);
    /// @notice Only the timelock (a passed proposal) changes the settings; `account` tried.
    error InitiativesOnlyTimelock(address account);
    /// @notice A support share is 1 to 10000 basis points and a lifetime more than 0 seconds.
    error InitiativesInvalidSetting(uint256 value);

    /// @param name_ The commons' name (the EIP-712 domain name of signatures, version "1").
    /// @param membership_ Who is a member.
    /// @param governor_ The governor initiatives are proposed to (this contract must be one of its stewards).
    /// @param timelock_ The only account that changes the settings.
    /// @param supportShareBps_ The share of members whose support is needed, in basis points.
    /// @param lifetime_ Seconds an initiative stays open after its latest draft or revision.
    constructor(
        string memory name_,
        Membership membership_,
        IProposer governor_,
        address timelock_,
        uint256 supportShareBps_,
        uint256 lifetime_
    ) EIP712(name_, "1") {
        membership = membership_;
        governor = governor_;
        timelock = timelock_;
        _setSupportShare(supportShareBps_);
        _setLifetime(lifetime_);
    }

    /// @notice Drafts an initiative: the proposal it would become. Only members.
    /// @return id The new initiative's id.
    function draft(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata calldatas,
        string calldata description
    ) external returns (uint256 id) {
        return _draft(msg.sender, targets, values, calldatas, description);
    }

    /// @notice Drafts an initiative `signed.author` signed (a `Draft`); anyone may send it. The author is the signer,
    /// a member now; the nonce is used once and the deadline not past.
    /// @return id The new initiative's id.
    function draftBySig(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata calldatas,
        string calldata description,
        AuthorSignature calldata signed
    ) external returns (uint256 id) {
        bytes32 proposalHash = _proposalHash(targets, values, calldatas, description);
        _useAuthorSignature(
            signed,
            keccak256(abi.encode(DRAFT_TYPEHASH, signed.author, proposalHash, signed.nonce, signed.deadline))
        );
        return _draft(signed.author, targets, values, calldatas, description);
    }

    /// @notice Replaces an open initiative's proposal and restarts its time; earlier signatures no longer count.
    function revise(
        uint256 id,
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata calldatas,
        string calldata description
    ) external {
        _revise(id, msg.sender, targets, values, calldatas, description);
    }

    /// @notice Revises initiative `id` as its author signed (a `Revision` of its current revision); anyone may send it.
    function reviseBySig(
        uint256 id,
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata calldatas,
        string calldata description,
        AuthorSignature calldata signed
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(
                REVISION_TYPEHASH,
                id,
                _initiatives[id].revision,
                signed.author,
                _proposalHash(targets, values, calldatas, description),
                signed.nonce,
                signed.deadline
            )
        );
        _useAuthorSignature(signed, structHash);
        _revise(id, signed.author, targets, values, calldatas, description);
    }

    /// @notice The author withdraws an open initiative; it can never be submitted.
    function withdraw(uint256 id) external {
        _withdraw(id, msg.sender);
    }

    /// @notice Withdraws initiative `id` as its author signed (a `Withdrawal`); anyone may send it.
    function withdrawBySig(uint256 id, AuthorSignature calldata signed) external {
        _useAuthorSignature(
            signed,
            keccak256(abi.encode(WITHDRAWAL_TYPEHASH, id, signed.author, signed.nonce, signed.deadline))
        );
        _withdraw(id, signed.author);
    }

    /// @notice Posts `supporter`'s signature of support for the current revision of initiative `id`. Anyone may
    /// post a valid one (a relay, or the supporter from their wallet); it is checked now and again at `submit`.
    function postSupport(uint256 id, address supporter, uint256 expiry, bytes calldata signature) external {
        Initiative storage initiative = _open(id);
        if (supporter == initiative.author) revert InitiativesAuthorSigned(id, supporter);
        _checkSupport(id, initiative, supporter, expiry, signature);
        emit SupportPosted(id, supporter, initiative.revision, supportNonce[id][supporter], expiry, signature);
    }

    /// @notice Withdraws the caller's support for initiative `id`: every signature they gave it stops counting.
    function withdrawSupport(uint256 id) external {
        Initiative storage initiative = _initiatives[id];
        if (initiative.status == Status.None) revert InitiativesUnknown(id);
        if (initiative.status == Status.Submitted) revert InitiativesAlreadySubmitted(id, initiative.proposalId);
        uint256 nonce = ++supportNonce[id][msg.sender];
        emit SupportWithdrawn(id, msg.sender, nonce);
    }

    /// @notice Puts initiative `id` to a vote: checks every signature (supporters in ascending address order, each a
    /// member now, unexpired, not withdrawn, for exactly this proposal and revision), the author a member now and
    /// the support enough, then proposes it through the governor. Anyone may call it.
    /// @return proposalId The governor's proposal.
    function submit(
        uint256 id,
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata calldatas,
        string calldata description,
        Support[] calldata signatures
    ) external returns (uint256 proposalId) {
        (Initiative storage initiative, address[] memory supporters) = _checkSubmission(
            id,
            _proposalHash(targets, values, calldatas, description),
            signatures
        );
        // Marked before the call out, so the same initiative can never be submitted twice.
        initiative.status = Status.Submitted;
        proposalId = governor.propose(targets, values, calldatas, _boundDescription(description));
        initiative.proposalId = proposalId;
        emit InitiativeSubmitted(id, proposalId, initiative.author, initiative.revision, supporters);
    }

    /// @notice How many members' support (the author's included) an initiative needs now.
    function supportNeeded() public view returns (uint256) {
        uint256 share = (membership.memberCount() * supportShareBps + 9999) / 10000;
        return share > MIN_COSIGNERS + 1 ? share : MIN_COSIGNERS + 1;
    }

    /// @notice Initiative `id`: author, revision, status, time of the latest draft or revision, the EIP-712 hash of
    /// its proposal, the governor's proposal once submitted, and when it expires.
    function initiative(
        uint256 id
    )
        external
        view
        returns (
            address author,
            uint256 revision,
            Status status,
            uint256 revisedAt,
            bytes32 proposalHash,
            uint256 proposalId,
            uint256 expiresAt
        )
    {
        Initiative storage i = _initiatives[id];
        return (i.author, i.revision, i.status, i.revisedAt, i.proposalHash, i.proposalId, i.revisedAt + lifetime);
    }

    /// @notice The EIP-712 digest a supporter signs.
    function supportDigest(
        uint256 id,
        uint256 revision,
        address supporter,
        uint256 nonce,
        bytes32 proposalHash,
        uint256 expiry
    ) public view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(abi.encode(SUPPORT_TYPEHASH, id, revision, supporter, nonce, proposalHash, expiry))
            );
    }

    /// @notice Changes the share of members whose support is needed (basis points). Only the timelock.
    function setSupportShare(uint256 shareBps) external {
        if (msg.sender != timelock) revert InitiativesOnlyTimelock(msg.sender);
        _setSupportShare(shareBps);
    }

    /// @notice Changes how long an initiative stays open (seconds). Only the timelock.
    function setLifetime(uint256 seconds_) external {
        if (msg.sender != timelock) revert InitiativesOnlyTimelock(msg.sender);
        _setLifetime(seconds_);
    }

    function _setSupportShare(uint256 shareBps) private {
        if (shareBps == 0 || shareBps > 10000) revert InitiativesInvalidSetting(shareBps);
        emit SupportShareSet(supportShareBps, shareBps);
        supportShareBps = shareBps;
    }

    function _setLifetime(uint256 seconds_) private {
        if (seconds_ == 0 || seconds_ > type(uint48).max) revert InitiativesInvalidSetting(seconds_);
        emit LifetimeSet(lifetime, seconds_);
        lifetime = seconds_;
    }

    /// @dev The open initiative `id` and its supporters, once the proposal, the author and every signature are checked.
    function _checkSubmission(
        uint256 id,
        bytes32 proposalHash,
        Support[] calldata signatures
    ) private view returns (Initiative storage initiative, address[] memory supporters) {
        initiative = _open(id);
        if (proposalHash != initiative.proposalHash) revert InitiativesProposalDiffers(id, initiative.revision);
        address author = initiative.author;
        if (!membership.isMember(author)) revert InitiativesNotMember(author);
        supporters = _checkSupporters(id, initiative, author, signatures);
        uint256 needed = supportNeeded();
        if (supporters.length + 1 < needed) revert InitiativesSupportShort(id, supporters.length + 1, needed);
    }

    /// @dev The supporters of `signatures`, each checked; ascending order makes "each member once" one comparison.
    function _checkSupporters(
        uint256 id,
        Initiative storage initiative,
        address author,
        Support[] calldata signatures
    ) private view returns (address[] memory supporters) {
        supporters = new address[](signatures.length);
        address previous;
        for (uint256 i = 0; i < signatures.length; i++) {
            address supporter = signatures[i].supporter;
            if (supporter == author) revert InitiativesAuthorSigned(id, supporter);
            if (supporter <= previous) {
                if (supporter == previous) revert InitiativesSupporterRepeated(supporter);
                revert InitiativesSupportersUnordered(supporter);
            }
            _checkSupport(id, initiative, supporter, signatures[i].expiry, signatures[i].signature);
            supporters[i] = supporter;
            previous = supporter;
        }
    }

    /// @dev The description bound to this contract, so only it can submit the proposal to the governor.
    function _boundDescription(string calldata description) private view returns (string memory) {
        return string.concat(description, "\n\n#proposer=", Strings.toHexString(address(this)));
    }

    function _checkSupport(
        uint256 id,
        Initiative storage initiative,
        address supporter,
        uint256 expiry,
        bytes calldata signature
    ) private view {
        if (!membership.isMember(supporter)) revert InitiativesNotMember(supporter);
        if (expiry < block.timestamp) revert InitiativesSignatureExpired(supporter, expiry);
        uint256 nonce = supportNonce[id][supporter];
        bytes32 proposalHash = initiative.proposalHash;
        uint256 revision = initiative.revision;
        if (SignatureChecker.isValidSignatureNow(supporter, supportDigest(id, revision, supporter, nonce, proposalHash, expiry), signature)) {
            return;
        }
        // Only on the way to a refusal: say so when the signature was good before its signer withdrew it.
        for (uint256 old = 0; old < nonce; old++) {
            bytes32 digest = supportDigest(id, revision, supporter, old, proposalHash, expiry);
            if (SignatureChecker.isValidSignatureNow(supporter, digest, signature)) {
                revert InitiativesSupportWithdrawn(id, supporter);
            }
        }
        revert InitiativesInvalidSignature(id, revision, supporter);
    }

    function _draft(
        address author,
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata calldatas,
        string calldata description
    ) private returns (uint256 id) {
        if (!membership.isMember(author)) revert InitiativesNotMember(author);
        id = ++initiativeCount;
        Initiative storage initiative = _initiatives[id];
        initiative.author = author;
        initiative.status = Status.Open;
        initiative.revisedAt = uint48(block.timestamp);
        initiative.proposalHash = _proposalHash(targets, values, calldatas, description);
        emit InitiativeDrafted(id, author, targets, values, calldatas, description);
    }

    function _revise(
        uint256 id,
        address author,
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata calldatas,
        string calldata description
    ) private {
        Initiative storage initiative = _authorsOpen(id, author);
        if (!membership.isMember(author)) revert InitiativesNotMember(author);
        uint32 revision = ++initiative.revision;
        initiative.revisedAt = uint48(block.timestamp);
        initiative.proposalHash = _proposalHash(targets, values, calldatas, description);
        emit InitiativeRevised(id, revision, targets, values, calldatas, description);
    }

    function _withdraw(uint256 id, address author) private {
        Initiative storage initiative = _authorsOpen(id, author);
        initiative.status = Status.Withdrawn;
        emit InitiativeWithdrawn(id, author);
    }

    /// @dev Checks `signed` over `structHash` (deadline, nonce unused, the author's signature) and uses its nonce.
    function _useAuthorSignature(AuthorSignature calldata signed, bytes32 structHash) private {
        if (block.timestamp > signed.deadline) revert InitiativesDeadlinePassed(signed.author, signed.deadline);
        if (authorNonceUsed[signed.author][signed.nonce]) revert InitiativesNonceUsed(signed.author, signed.nonce);
        if (!SignatureChecker.isValidSignatureNow(signed.author, _hashTypedDataV4(structHash), signed.signature)) {
            revert InitiativesInvalidAuthorSignature(signed.author);
        }
        authorNonceUsed[signed.author][signed.nonce] = true;
    }

    function _open(uint256 id) private view returns (Initiative storage initiative) {
        initiative = _initiatives[id];
        if (initiative.status == Status.None) revert InitiativesUnknown(id);
        if (initiative.status == Status.Submitted) revert InitiativesAlreadySubmitted(id, initiative.proposalId);
        if (initiative.status != Status.Open) revert InitiativesNotOpen(id, initiative.status);
        uint256 expiresAt = initiative.revisedAt + lifetime;
        if (block.timestamp > expiresAt) revert InitiativesExpired(id, expiresAt);
    }

    function _authorsOpen(uint256 id, address account) private view returns (Initiative storage initiative) {
        initiative = _open(id);
        if (initiative.author != account) revert InitiativesNotAuthor(id, account, initiative.author);
    }

    function _proposalHash(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata calldatas,
        string calldata description
    ) private pure returns (bytes32) {
        if (targets.length == 0 || targets.length != values.length || targets.length != calldatas.length) {
            revert InitiativesInvalidActions(targets.length, values.length, calldatas.length);
        }
        bytes32[] memory calldataHashes = new bytes32[](calldatas.length);
        for (uint256 i = 0; i < calldatas.length; i++) {
            calldataHashes[i] = keccak256(calldatas[i]);
        }
        return
            keccak256(
                abi.encode(
                    PROPOSAL_TYPEHASH,
                    keccak256(abi.encodePacked(targets)),
                    keccak256(abi.encodePacked(values)),
                    keccak256(abi.encodePacked(calldataHashes)),
                    keccak256(bytes(description))
                )
            );
    }
}
