// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";

/// @title Counter that is not upgrade-safe
/// @notice Its constructor writes storage that a proxy never sees (no
/// `@custom:oz-upgrades-unsafe-allow constructor`), and it can selfdestruct.
contract Counter is Initializable layout at 0x6d3fcc99499ad7699034ab4a5157cc1748c38c66d0c7dd64ab2bacee7c48bc00 {
    address private _owner;
    uint64 private _count;

    constructor(address owner) {
        _owner = owner;
    }

    function initialize(address owner) external initializer {
        _owner = owner;
    }

    function retire() external {
        require(msg.sender == _owner, "not the owner");
        selfdestruct(payable(_owner));
    }
}
