// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title IERC5267
/// @notice Retrieval of EIP-712 domains (ERC-5267): clients read the domain they sign in
/// from the contract instead of hard-coding it.
interface IERC5267 {
    /// @notice The domain changed (never emitted by a contract whose domain is fixed).
    event EIP712DomainChanged();

    /// @notice The fields and values of this contract's EIP-712 domain.
    /// @return fields A bit map of the fields used: name, version, chainId, verifyingContract, salt.
    /// @return name The domain's name.
    /// @return version The domain's version.
    /// @return chainId The chain id.
    /// @return verifyingContract This contract.
    /// @return salt The salt (unused: zero).
    /// @return extensions EIP-712 extensions (none).
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        );
}
