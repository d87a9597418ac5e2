// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Casts many signed ballots on one governor in one transaction, each ballot on its own.
/// @notice A ballot the governor refuses when the batch runs (counted already because someone copied it out of
/// the mempool, its nonce used, voting closed, the voter removed) is skipped with `BallotSkipped` and the others
/// still count; the governor's own `multicall` would revert them all. Anyone may call it: a ballot counts at most
/// once whoever sends it, and a skipped ballot's signature stays unused.
/// Each ballot is given exactly `BALLOT_GAS`: a ballot that burns all it is given (a voter's wallet contract that
/// approves ballots in a simulation and loops on-chain) is skipped on its own, and cannot starve the ballots after it.
contract VoteBatcher {
    /// @notice The gas each ballot is given: a castVote…BySig with a long reason and a smart wallet's signature check
    /// use a fraction of it.
    uint256 public constant BALLOT_GAS = 300_000;
    // What a ballot needs left before its call: BALLOT_GAS past the 63/64 rule, and the bookkeeping after the call.
    uint256 private constant BALLOT_GAS_NEEDED = (BALLOT_GAS * 64) / 63 + 20_000;
    // The most of a refusal's revert data kept in BallotSkipped.
    uint256 private constant REASON_BYTES = 256;

    /// @notice The governor the ballots are cast on.
    address public immutable governor;

    /// @notice The governor refused ballot `index` of a batch (`reason` is its revert data), so it was not counted;
    /// `gasUsed` is what trying it cost.
    event BallotSkipped(uint256 indexed proposalId, address indexed voter, uint256 index, uint256 gasUsed, bytes reason);

    /// @notice The transaction carried too little gas to give ballot `index` its BALLOT_GAS.
    error VoteBatcherOutOfGas(uint256 index);

    /// @param governor_ The governor whose `castVote…BySig` functions the ballots call.
    constructor(address governor_) {
        governor = governor_;
    }

    /// @notice Casts each ballot (the calldata of one of the governor's `castVote…BySig` functions) on its own.
    /// @return counted Bit `i` is set when ballot `i` counted.
    function castVotes(bytes[] calldata ballots) external returns (uint256 counted) {
        address target = governor;
        for (uint256 i = 0; i < ballots.length; i++) {
            bytes calldata ballot = ballots[i];
            uint256 gasBefore = gasleft();
            if (gasBefore < BALLOT_GAS_NEEDED) revert VoteBatcherOutOfGas(i);
            bool ok;
            // Each ballot is copied to the same scratch memory and its return data left unread, so a batch
            // costs no more memory than one ballot.
            assembly ("memory-safe") {
                let input := mload(0x40)
                calldatacopy(input, ballot.offset, ballot.length)
                ok := call(BALLOT_GAS, target, 0, input, ballot.length, 0, 0)
            }
            if (ok) {
                counted |= 1 << i;
            } else {
                _skipped(ballot, i, gasBefore);
            }
        }
    }

    function _skipped(bytes calldata ballot, uint256 index, uint256 gasBefore) private {
        // The call had its full BALLOT_GAS (checked before it), so a failure is the ballot's own, never starvation.
        bytes memory reason;
        assembly ("memory-safe") {
            let size := returndatasize()
            if gt(size, REASON_BYTES) { size := REASON_BYTES }
            reason := mload(0x40)
            mstore(reason, size)
            returndatacopy(add(reason, 0x20), 0, size)
            mstore(0x40, add(add(reason, 0x20), and(add(size, 31), not(31))))
        }
        // Every castVote…BySig takes (uint256 proposalId, uint8 support, address voter, …).
        uint256 proposalId;
        address voter;
        if (ballot.length >= 100) {
            proposalId = uint256(bytes32(ballot[4:36]));
            voter = address(uint160(uint256(bytes32(ballot[68:100]))));
        }
        emit BallotSkipped(proposalId, voter, index, gasBefore - gasleft(), reason);
    }
}
