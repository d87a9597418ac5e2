// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorVotesQuorumFraction} from "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {GovernorCompactTally} from "./GovernorCompactTally.sol";
import {GovernorStorage} from "@openzeppelin/contracts/governance/extensions/GovernorStorage.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {Membership} from "./Membership.sol";

/// @title The commons' Governor: OpenZeppelin extensions composed, plus the steward rule.
/// @notice Counting and late-quorum protection are `GovernorCompactTally` (OpenZeppelin semantics, one slot
/// per proposal). Members vote (one member, one vote, from `Membership`); only stewards, appointed and
/// recalled by the members, may propose. Passed proposals run through the timelock, which holds
/// the treasury. `multicall` lets a relayer submit many signed ballots in one transaction.
contract CommonsGovernor is
    Governor,
    GovernorSettings,
    GovernorCompactTally,
    GovernorVotes,
    GovernorVotesQuorumFraction,
    GovernorTimelockControl,
    GovernorStorage,
    Multicall
{
    /// @notice Only a steward may propose.
    error CommonsOnlyStewards(address account);
    /// @notice The account is already a steward.
    error CommonsAlreadySteward(address account);
    /// @notice The account is not a steward.
    error CommonsNotSteward(address account);
    /// @notice The account had no vote at the proposal's snapshot (not yet a member, or delegated away).
    error CommonsNoVotingPower(address account, uint256 snapshot);

    /// @notice The members appointed `steward`.
    event StewardAppointed(address indexed steward);
    /// @notice The members recalled `steward`.
    event StewardRecalled(address indexed steward);

    /// @notice Whether an account is a steward now.
    mapping(address account => bool) public isSteward;

    /// @notice Deployment-time settings; all are changeable afterwards only by proposal.
    struct Settings {
        uint48 votingDelay;
        uint32 votingPeriod;
        uint256 quorumPercent;
        uint48 lateQuorumExtension;
    }

    /// @param name_ The commons' name (also the EIP-712 domain name of ballots).
    /// @param membership The membership token that counts votes.
    /// @param timelock The timelock that holds the treasury and executes passed proposals.
    /// @param stewards The founding stewards.
    /// @param settings Voting delay and period (seconds), quorum (percent of members), late-quorum extension (seconds).
    constructor(
        string memory name_,
        IVotes membership,
        TimelockController timelock,
        address[] memory stewards,
        Settings memory settings
    )
        Governor(name_)
        GovernorSettings(settings.votingDelay, settings.votingPeriod, 0)
        GovernorVotes(membership)
        GovernorVotesQuorumFraction(settings.quorumPercent)
        GovernorTimelockControl(timelock)
        GovernorCompactTally(settings.lateQuorumExtension)
    {
        for (uint256 i = 0; i < stewards.length; i++) {
            _appoint(stewards[i]);
        }
    }

    /// @notice Appoints `account` as a steward. Only by proposal.
    function appointSteward(address account) external onlyGovernance {
        _appoint(account);
    }

    /// @notice Recalls steward `account`. Only by proposal.
    function recallSteward(address account) external onlyGovernance {
        if (!isSteward[account]) revert CommonsNotSteward(account);
        isSteward[account] = false;
        emit StewardRecalled(account);
    }

    /// @notice Creates a proposal; only stewards may. The description is Markdown, first line `# Title`.
    function propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description
    ) public override returns (uint256) {
        if (!isSteward[_msgSender()]) revert CommonsOnlyStewards(_msgSender());
        return super.propose(targets, values, calldatas, description);
    }

    function _appoint(address account) private {
        if (isSteward[account]) revert CommonsAlreadySteward(account);
        isSteward[account] = true;
        emit StewardAppointed(account);
    }

    // The overrides below only resolve Solidity's multiple inheritance.

    function state(uint256 proposalId) public view override(Governor, GovernorTimelockControl) returns (ProposalState) {
        return super.state(proposalId);
    }

    function proposalDeadline(uint256 proposalId) public view override(Governor, GovernorCompactTally) returns (uint256) {
        return super.proposalDeadline(proposalId);
    }

    function proposalNeedsQueuing(uint256 proposalId) public view override(Governor, GovernorTimelockControl) returns (bool) {
        return super.proposalNeedsQueuing(proposalId);
    }

    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    function quorum(uint256 timepoint) public view override(Governor, GovernorVotesQuorumFraction) returns (uint256) {
        return super.quorum(timepoint);
    }

    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal override(Governor, GovernorStorage) returns (uint256) {
        return super._propose(targets, values, calldatas, description, proposer);
    }

    /// @dev Voters are numbered by their lifelong member number, so "who voted" packs 256 members per slot.
    function _voterNumber(address account) internal view override returns (uint256) {
        return Membership(address(token())).memberNumberOf(account);
    }

    /// @dev A vote of weight 0 would still mark the account as having voted; refuse it instead.
    function _countVote(
        uint256 proposalId,
        address account,
        uint8 support,
        uint256 totalWeight,
        bytes memory params
    ) internal override(Governor, GovernorCompactTally) returns (uint256) {
        // Weight comes only from membership, so a voter with weight always has a member number.
        if (totalWeight == 0) revert CommonsNoVotingPower(account, proposalSnapshot(proposalId));
        return super._countVote(proposalId, account, support, totalWeight, params);
    }

    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }
}
