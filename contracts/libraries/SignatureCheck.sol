// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title SignatureCheck
/// @notice Whether a signature over an EIP-712 message is an account's: a 65-byte ECDSA
/// signature with a low s (EIP-2) and v 27 or 28, recovered by OpenZeppelin's {ECDSA}, or
/// one the account's contract wallet accepts (ERC-1271), asked with bounded gas.
/// @dev OpenZeppelin's `SignatureChecker` is not used for the wallet half: it forwards all
/// remaining gas to the wallet (a hostile one burns a relayer's gas limit), and 5.7 copies
/// the signature with `mcopy`, a Cancun opcode this build's EVM (Shanghai, for Ganache) lacks.
/// tests/test_signature_conformance.py checks {check} against `SignatureChecker` itself.
library SignatureCheck {
    /// @dev Gas a contract wallet gets to answer ERC-1271's isValidSignature: enough for a
    /// multi-owner wallet checking a few ECDSA signatures (a 3-of-n Safe needs ~25k), and
    /// a bound on what a hostile wallet can burn of a relayer's gas. Only 32 bytes of its
    /// answer are copied, so a huge answer costs the caller nothing either.
    uint256 internal constant WALLET_GAS = 50_000;

    /// @notice The outcome of a check.
    enum Outcome {
        Valid,
        WrongSigner,
        Malleable,
        Malformed
    }

    /// @dev Checks `signature` over `digest` against `signer`; returns the outcome and the
    /// address the ECDSA signature recovers to (zero if none), for error messages. An
    /// empty signature, or a 65-byte one with a v other than 27/28 or a high s, is refused
    /// before any wallet is asked.
    function check(
        address signer,
        bytes32 digest,
        bytes calldata signature
    ) internal view returns (Outcome outcome, address recovered) {
        if (signature.length == 0) return (Outcome.Malformed, address(0));
        if (signature.length == 65) {
            uint8 v = uint8(signature[64]);
            if (v != 27 && v != 28) return (Outcome.Malformed, address(0));
            ECDSA.RecoverError failure;
            (recovered, failure, ) = ECDSA.tryRecoverCalldata(digest, signature);
            if (failure == ECDSA.RecoverError.InvalidSignatureS) return (Outcome.Malleable, address(0));
            if (failure == ECDSA.RecoverError.NoError && recovered == signer) return (Outcome.Valid, recovered);
        }
        if (signer.code.length != 0 && _walletAccepts(signer, digest, signature)) return (Outcome.Valid, recovered);
        return (Outcome.WrongSigner, recovered);
    }

    /// @dev Whether contract wallet `wallet` accepts `signature` over `digest` (ERC-1271),
    /// asked with at most {WALLET_GAS} and reading at most one word of its answer, which
    /// must be exactly the magic value.
    function _walletAccepts(
        address wallet,
        bytes32 digest,
        bytes calldata signature
    ) private view returns (bool accepted) {
        bytes memory data = abi.encodeCall(IERC1271.isValidSignature, (digest, signature));
        bytes32 magic = bytes32(IERC1271.isValidSignature.selector);
        uint256 gasBound = WALLET_GAS;
        assembly ("memory-safe") {
            mstore(0x00, 0)
            let ok := staticcall(gasBound, wallet, add(data, 0x20), mload(data), 0x00, 0x20)
            accepted := and(and(ok, gt(returndatasize(), 0x1f)), eq(mload(0x00), magic))
        }
    }

    /// @dev The EIP-712 digest of `structHash` in the domain `domainSeparator_`. Written
    /// here, not taken from OpenZeppelin's `MessageHashUtils`: that imports `Strings` and
    /// `Bytes`, whose `mcopy` (a Cancun opcode) does not compile for this build's Shanghai.
    function typedDataHash(bytes32 domainSeparator_, bytes32 structHash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator_, structHash));
    }

    /// @dev The EIP-712 domain separator of contract `verifyingContract` named `nameHash`, version `versionHash`.
    function domainSeparator(
        bytes32 nameHash,
        bytes32 versionHash,
        address verifyingContract
    ) internal view returns (bytes32) {
        return
            keccak256(
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
