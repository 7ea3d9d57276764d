// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";

/// @title Counter, version 2: a field appended, the double count fixed, and the base slot
/// spelled with the erc7201 builtin (solc 0.8.35+; the same slot as v1's literal): compatible with v1
/// @notice Storage at the ERC-7201 slot of "chainpass.test.Counter", initialised once through
/// a proxy; the implementation's constructor sets only an immutable and disables initialisation.
/// @custom:oz-upgrades-unsafe-allow state-variable-immutable
contract Counter is Initializable layout at erc7201("chainpass.test.Counter") {
    uint256 private immutable _limit;

    address private _owner;
    uint64 private _count;
    mapping(address account => uint256 value) private _values;
    uint256 private _total;

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
        _count += 1;
        _total += value;
    }

    function total() external view returns (uint256) {
        return _total;
    }

    function count() external view returns (uint64) {
        return _count;
    }
}
