// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC1271} from "../interfaces/IERC1271.sol";

/// @title SignatureCheck
/// @notice Whether a signature over an EIP-712 digest is an account's: a 65-byte ECDSA
/// signature with a low s (EIP-2), or one the account's contract wallet accepts (ERC-1271).
library SignatureCheck {
    /// @dev Half the secp256k1 order: a larger s is a malleated signature (EIP-2).
    uint256 internal constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// @notice The outcome of a check.
    enum Outcome {
        Valid,
        WrongSigner,
        Malleable
    }

    /// @dev Checks `signature` over `digest` against `signer`; returns the outcome and the
    /// address the ECDSA signature recovers to (zero if none), for error messages.
    function check(address signer, bytes32 digest, bytes calldata signature)
        internal
        view
        returns (Outcome outcome, address recovered)
    {
        if (signature.length == 65) {
            bytes32 r = bytes32(signature[0:32]);
            bytes32 s = bytes32(signature[32:64]);
            uint8 v = uint8(signature[64]);
            if (uint256(s) > HALF_ORDER) return (Outcome.Malleable, address(0));
            recovered = ecrecover(digest, v < 27 ? v + 27 : v, r, s);
            if (recovered == signer && recovered != address(0)) return (Outcome.Valid, recovered);
        }
        if (signer.code.length != 0) {
            (bool ok, bytes memory result) =
                signer.staticcall(abi.encodeCall(IERC1271.isValidSignature, (digest, signature)));
            if (ok && result.length >= 32 && abi.decode(result, (bytes4)) == IERC1271.isValidSignature.selector) {
                return (Outcome.Valid, recovered);
            }
        }
        return (Outcome.WrongSigner, recovered);
    }

    /// @dev The EIP-712 domain separator of contract `verifyingContract` named `nameHash`, version `versionHash`.
    function domainSeparator(bytes32 nameHash, bytes32 versionHash, address verifyingContract)
        internal
        view
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                nameHash,
                versionHash,
                block.chainid,
                verifyingContract
            )
        );
    }
}
