// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title AttributeProof
/// @notice Merkle proofs of salted attribute leaves, as built by `chainpass.attributes`.
/// @dev A leaf is keccak256(bytes.concat(keccak256(abi.encode(salt, key, value)))): the
/// double hash keeps a leaf from ever passing as an inner node. Inner nodes hash the
/// sorted pair of their children, so a proof is just the list of sibling hashes; the
/// proof is checked by OpenZeppelin's audited MerkleProof.
library AttributeProof {
    /// @dev The leaf for attribute `key` = `value` salted with `salt`.
    function leaf(bytes32 salt, string calldata key, string calldata value) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(salt, key, value))));
    }

    /// @dev Whether `proof` leads from `leafHash` to `root`: OpenZeppelin's MerkleProof (sorted
    /// pairs, the tree `chainpass.attributes` and OpenZeppelin's StandardMerkleTree build).
    function verify(bytes32[] calldata proof, bytes32 root, bytes32 leafHash) internal pure returns (bool) {
        return MerkleProof.verifyCalldata(proof, root, leafHash);
    }
}
