// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title Simple counting (For / Against / Abstain) and late-quorum protection in one storage slot per proposal.
/// @notice Same rules and events as OpenZeppelin's GovernorCountingSimple + GovernorPreventLateQuorum, stored
/// compactly: the tallies, the quorum at the snapshot (fixed at the first vote) and the extended deadline share
/// one slot, so counting a vote reads and writes a single slot and never recomputes the quorum. Who voted is a
/// bitmap indexed by a small per-voter number (`_voterNumber`), so 256 voters share one slot.
abstract contract GovernorCompactTally is Governor {
    enum VoteType {
        Against,
        For,
        Abstain
    }

    struct Tally {
        uint48 againstVotes;
        uint48 forVotes;
        uint48 abstainVotes;
        uint48 quorumPlusOne; // quorum at the snapshot plus one; 0 until the first vote
        uint48 extendedDeadline; // 0 until quorum is reached
    }

    mapping(uint256 proposalId => Tally) private _tallies;
    mapping(uint256 proposalId => mapping(uint256 word => uint256 bits)) private _votedBits;
    uint48 private _voteExtension;

    /// @notice The deadline of `proposalId` moved to `extendedDeadline` because quorum was reached late.
    event ProposalExtended(uint256 indexed proposalId, uint64 extendedDeadline);
    /// @notice The late-quorum extension changed.
    event LateQuorumVoteExtensionSet(uint64 oldVoteExtension, uint64 newVoteExtension);

    /// @notice The late-quorum extension may not exceed the voting period.
    error GovernorPreventLateQuorumVoteExtensionTooLarge(uint256 newVoteExtension, uint256 maxVoteExtension);

    constructor(uint48 initialVoteExtension) {
        _setLateQuorumVoteExtension(initialVoteExtension);
    }

    /// @notice Votes are For, Against or Abstain; For and Abstain count toward quorum.
    // solhint-disable-next-line func-name-mixedcase
    function COUNTING_MODE() public pure virtual override returns (string memory) {
        return "support=bravo&quorum=for,abstain";
    }

    /// @notice Whether `account` has voted on `proposalId`.
    function hasVoted(uint256 proposalId, address account) public view virtual override returns (bool) {
        uint256 number = _voterNumber(account);
        return _votedBits[proposalId][number >> 8] & (1 << (number & 255)) != 0;
    }

    /// @dev A number unique to `account` and stable for life (0 only for accounts that can never hold votes).
    function _voterNumber(address account) internal view virtual returns (uint256);

    /// @notice The tallies of `proposalId`.
    function proposalVotes(
        uint256 proposalId
    ) public view virtual returns (uint256 againstVotes, uint256 forVotes, uint256 abstainVotes) {
        Tally storage tally = _tallies[proposalId];
        return (tally.againstVotes, tally.forVotes, tally.abstainVotes);
    }

    /// @notice The deadline, pushed back if quorum was reached within the last `lateQuorumVoteExtension` seconds.
    function proposalDeadline(uint256 proposalId) public view virtual override returns (uint256) {
        return Math.max(super.proposalDeadline(proposalId), _tallies[proposalId].extendedDeadline);
    }

    /// @notice How long voting stays open after quorum is reached, at least.
    function lateQuorumVoteExtension() public view virtual returns (uint48) {
        return _voteExtension;
    }

    /// @notice Changes the late-quorum extension. Only by proposal.
    function setLateQuorumVoteExtension(uint48 newVoteExtension) public virtual onlyGovernance {
        _setLateQuorumVoteExtension(newVoteExtension);
    }

    function _setLateQuorumVoteExtension(uint48 newVoteExtension) internal virtual {
        uint256 maxVoteExtension = votingPeriod();
        if (newVoteExtension > maxVoteExtension) {
            revert GovernorPreventLateQuorumVoteExtensionTooLarge(newVoteExtension, maxVoteExtension);
        }
        emit LateQuorumVoteExtensionSet(_voteExtension, newVoteExtension);
        _voteExtension = newVoteExtension;
    }

    function _quorumReached(uint256 proposalId) internal view virtual override returns (bool) {
        Tally memory tally = _tallies[proposalId];
        uint256 required = tally.quorumPlusOne == 0 ? quorum(proposalSnapshot(proposalId)) : tally.quorumPlusOne - 1;
        return required <= uint256(tally.forVotes) + tally.abstainVotes;
    }

    function _voteSucceeded(uint256 proposalId) internal view virtual override returns (bool) {
        Tally storage tally = _tallies[proposalId];
        return tally.forVotes > tally.againstVotes;
    }

    function _countVote(
        uint256 proposalId,
        address account,
        uint8 support,
        uint256 totalWeight,
        bytes memory // params
    ) internal virtual override returns (uint256) {
        uint256 number = _voterNumber(account);
        uint256 bits = _votedBits[proposalId][number >> 8];
        uint256 mask = 1 << (number & 255);
        if (bits & mask != 0) revert GovernorAlreadyCastVote(account);
        _votedBits[proposalId][number >> 8] = bits | mask;

        Tally memory tally = _tallies[proposalId];
        uint48 weight = SafeCast.toUint48(totalWeight);
        if (support == uint8(VoteType.Against)) {
            tally.againstVotes += weight;
        } else if (support == uint8(VoteType.For)) {
            tally.forVotes += weight;
        } else if (support == uint8(VoteType.Abstain)) {
            tally.abstainVotes += weight;
        } else {
            revert GovernorInvalidVoteType();
        }
        // The quorum at the snapshot never changes, so compute it once, at the first vote.
        if (tally.quorumPlusOne == 0) {
            tally.quorumPlusOne = SafeCast.toUint48(quorum(proposalSnapshot(proposalId)) + 1);
        }
        if (tally.extendedDeadline == 0 && tally.quorumPlusOne - 1 <= uint256(tally.forVotes) + tally.abstainVotes) {
            uint48 extendedDeadline = clock() + _voteExtension;
            if (extendedDeadline > proposalDeadline(proposalId)) emit ProposalExtended(proposalId, extendedDeadline);
            tally.extendedDeadline = extendedDeadline;
        }
        _tallies[proposalId] = tally;
        return totalWeight;
    }
}
