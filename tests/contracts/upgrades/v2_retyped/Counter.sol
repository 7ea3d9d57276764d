// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";

/// @title Counter, version 2 with `_count` widened to uint128 (breaks v1's layout)
/// @notice Storage at the ERC-7201 slot of "chainpass.test.Counter", initialised once through
/// a proxy; the implementation's constructor sets only an immutable and disables initialisation.
/// @custom:oz-upgrades-unsafe-allow state-variable-immutable
contract Counter is Initializable layout at 0x6d3fcc99499ad7699034ab4a5157cc1748c38c66d0c7dd64ab2bacee7c48bc00 {
    uint256 private immutable _limit;

    address private _owner;
    uint128 private _count;
    mapping(address account => uint256 value) private _values;

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor(uint256 limit) {
        _limit = limit;
        _disableInitializers();
    }

    function initialize(address owner) external initializer {
        _owner = owner;
    }

    function put(uint256 value) external {
        require(value <= _limit, "over the limit");
        _values[msg.sender] = value;
        _count += 2; // the bug version 2 fixes
    }

    function count() external view returns (uint128) {
        return _count;
    }
}
