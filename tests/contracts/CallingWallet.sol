// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {TestWallet} from "./TestWallet.sol";

/// @dev Test-only: a contract wallet (ERC-1271 through TestWallet) whose owner can make it call
/// other contracts, so it can itself accept custody of goods.
contract CallingWallet is TestWallet {
    constructor(address owner_) TestWallet(owner_) {}

    function execute(address target, bytes calldata data) external returns (bytes memory result) {
        require(msg.sender == owner, "not the owner");
        bool ok;
        (ok, result) = target.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }
}
