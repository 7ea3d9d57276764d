// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title AttributeProof
/// @notice Merkle proofs of salted attribute leaves, as built by `chainpass.attributes`.
/// @dev A leaf is keccak256(bytes.concat(keccak256(abi.encode(salt, key, value)))): the
/// double hash keeps a leaf from ever passing as an inner node. Inner nodes hash the
/// sorted pair of their children, so a proof is just the list of sibling hashes.
library AttributeProof {
    /// @dev The leaf for attribute `key` = `value` salted with `salt`.
    function leaf(bytes32 salt, string calldata key, string calldata value) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(salt, key, value))));
    }

    /// @dev Whether `proof` leads from `leafHash` to `root`.
    function verify(bytes32[] calldata proof, bytes32 root, bytes32 leafHash) internal pure returns (bool) {
        bytes32 node = leafHash;
        for (uint256 i = 0; i < proof.length; ++i) {
            node = _hashPair(node, proof[i]);
        }
        return node == root;
    }

    /// @dev keccak256 of the sorted pair (a, b).
    function _hashPair(bytes32 a, bytes32 b) private pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }
}
