// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title TestWallet
/// @notice A minimal ERC-1271 contract wallet for the tests: it accepts a signature
/// when the EOA `owner` made it over the digest. Not part of the package.
contract TestWallet {
    bytes4 private constant _MAGIC_VALUE = 0x1626ba7e;

    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice 0x1626ba7e when `signature` is a 65-byte (r, s, v) signature by `owner` over `hash`.
    function isValidSignature(bytes32 hash, bytes memory signature) external view returns (bytes4) {
        if (signature.length != 65) return 0xffffffff;
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := mload(add(signature, 0x20))
            s := mload(add(signature, 0x40))
            v := byte(0, mload(add(signature, 0x60)))
        }
        if (v < 27) v += 27;
        address signer = ecrecover(hash, v, r, s);
        return signer != address(0) && signer == owner ? _MAGIC_VALUE : bytes4(0xffffffff);
    }
}
