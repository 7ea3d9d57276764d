// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {SignatureCheck} from "contracts/libraries/SignatureCheck.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

/// @notice chainpass's own signature code beside OpenZeppelin's, for the conformance test
/// (tests/test_signature_conformance.py). Compiled for Cancun: OpenZeppelin 5.7's
/// SignatureChecker and MessageHashUtils need `mcopy`, which is why the contracts keep their own.
contract SignatureHarness {
    /// @notice Whether chainpass's {SignatureCheck} takes `signature` as `signer`'s over `digest`.
    function ours(address signer, bytes32 digest, bytes calldata signature) external view returns (bool) {
        (SignatureCheck.Outcome outcome, ) = SignatureCheck.check(signer, digest, signature);
        return outcome == SignatureCheck.Outcome.Valid;
    }

    /// @notice Whether OpenZeppelin's SignatureChecker does.
    function openZeppelin(address signer, bytes32 digest, bytes calldata signature) external view returns (bool) {
        return SignatureChecker.isValidSignatureNowCalldata(signer, digest, signature);
    }

    /// @notice chainpass's EIP-712 digest.
    function ourTypedDataHash(bytes32 domainSeparator, bytes32 structHash) external pure returns (bytes32) {
        return SignatureCheck.typedDataHash(domainSeparator, structHash);
    }

    /// @notice OpenZeppelin's EIP-712 digest.
    function openZeppelinTypedDataHash(bytes32 domainSeparator, bytes32 structHash) external pure returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(domainSeparator, structHash);
    }
}
