// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title IERC1271
/// @notice Standard signature validation for contract wallets (ERC-1271).
interface IERC1271 {
    /// @notice Whether `signature` is valid for `hash` on behalf of this contract.
    /// @param hash The signed digest.
    /// @param signature The signature data.
    /// @return magicValue 0x1626ba7e when valid.
    function isValidSignature(bytes32 hash, bytes memory signature) external view returns (bytes4 magicValue);
}
