// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Compiled so that the Python side gets the TimelockController ABI and bytecode from the same build.
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
