// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IIdentityRegistry
/// @notice "Verify once, rely everywhere": authorities record that they verified a
/// person (a holder wallet) in person, relying parties check that verification.
/// @dev No personal data ever reaches this contract. An authority records only a
/// commitment: the root of a Merkle tree of salted attribute leaves built off-chain.
/// Attribute values travel off-chain from the holder to a relying party and are
/// checked against that root (see `verifyAttribute`).
///
/// Holders never need gas: every holder action (consent, key rotation, cancelling
/// signatures, objecting to a recovery) also exists as an EIP-712 signed message that
/// anyone may relay. Signatures carry the chain id and this contract's address in the
/// domain, and a per-holder nonce and a deadline in the message; contract wallets sign
/// through ERC-1271.
interface IIdentityRegistry {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice Assurance level of a verification, as in eIDAS.
    enum Level {
        None,
        Low,
        Substantial,
        High
    }

    /// @notice Sector of a relying party.
    enum Sector {
        None,
        Government,
        Bank,
        Hospital,
        Hotel,
        Courier,
        Other
    }

    /// @notice Stored lifecycle state of a holder's verification.
    enum Status {
        None,
        Active,
        Suspended,
        Revoked,
        Moved
    }

    /// @notice What a relying party learns from a check: whether the holder's
    /// verification is in force right now and, if not, why not.
    enum Standing {
        NeverVerified,
        Valid,
        Suspended,
        Revoked,
        Expired,
        IssuerRemoved,
        Moved,
        NoConsent
    }

    /// @notice An authority appointed by the governor.
    struct Authority {
        bool active; // Whether the authority may act now.
        Level maxLevel; // The highest assurance level it may grant.
    }

    /// @notice A relying party appointed by the governor.
    struct RelyingParty {
        bool active; // Whether the relying party may check holders now.
        Sector sector; // The sector it belongs to.
    }

    /// @notice A holder's verification. Two storage slots.
    struct Identity {
        bytes32 commitment; // Merkle root of the salted attribute leaves.
        address issuer; // The authority that verified the holder last.
        uint40 expiresAt; // Unix time from which the verification no longer holds.
        Level level; // The assurance level of the verification.
        Status status; // Active, suspended, revoked, or moved to another wallet.
        uint8 suspensionReason; // Reason code of the current suspension, 0 when not suspended.
        uint32 nonce; // The nonce the holder's next signed message must carry.
    }

    /// @notice A pending recovery of a holder's identity to a new wallet. One slot.
    struct Recovery {
        address newHolder; // The wallet the identity moves to.
        uint40 readyAt; // Unix time from which the issuer may complete the recovery.
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice `account` is not the governor.
    error IdentityNotGovernor(address account);
    /// @notice `account` is not the pending governor.
    error IdentityNotPendingGovernor(address account);
    /// @notice The zero address cannot take this role.
    error IdentityZeroAddress();
    /// @notice `level` is not a level that can be granted.
    error IdentityInvalidLevel(Level level);
    /// @notice `sector` is not a sector.
    error IdentityInvalidSector(Sector sector);
    /// @notice `account` is not an active authority.
    error IdentityNotAuthority(address account);
    /// @notice `account` is not an active relying party.
    error IdentityNotRelyingParty(address account);
    /// @notice `authority` may grant at most `maxLevel`, not `level`.
    error IdentityLevelAboveAuthority(address authority, Level level, Level maxLevel);
    /// @notice The expiry `expiresAt` is not after the current block time `nowTime`.
    error IdentityExpiryNotInFuture(uint40 expiresAt, uint256 nowTime);
    /// @notice A commitment must not be zero.
    error IdentityEmptyCommitment();
    /// @notice `holder` is already verified by `issuer`; use `reverify`.
    error IdentityAlreadyVerified(address holder, address issuer);
    /// @notice `holder` has never been verified.
    error IdentityNotVerified(address holder);
    /// @notice Only `issuer`, the holder's issuing authority, may do this, not `account`.
    error IdentityNotIssuer(address holder, address issuer, address account);
    /// @notice `holder`'s verification was revoked; revocation is final.
    error IdentityHolderRevoked(address holder);
    /// @notice `holder` is not active (its status is `status`).
    error IdentityNotActive(address holder, Status status);
    /// @notice `holder` is not suspended (its status is `status`).
    error IdentityNotSuspended(address holder, Status status);
    /// @notice A suspension needs a reason code other than 0.
    error IdentityInvalidReason(uint8 reason);
    /// @notice `holder`'s identity moved to another wallet; this one can do nothing more.
    error IdentityHolderMoved(address holder);
    /// @notice A consent must last until a time after now (`nowTime`), not `until`.
    error IdentityConsentNotInFuture(uint40 until, uint256 nowTime);
    /// @notice The signed message expired at `deadline`; the chain's time is `nowTime`.
    error IdentitySignatureExpired(uint40 deadline, uint256 nowTime);
    /// @notice The message carries nonce `given`, but `holder`'s next nonce is `expected`:
    /// the signature was used already, or cancelled.
    error IdentityInvalidNonce(address holder, uint32 expected, uint32 given);
    /// @notice The signature is not `holder`'s (it recovers to `signer`): a field was
    /// altered, or it was signed for another chain, contract or account.
    error IdentityInvalidSigner(address holder, address signer);
    /// @notice The signature's s value is in the upper half of the curve order: a
    /// malleated copy of a valid signature.
    error IdentityMalleableSignature(bytes32 s);
    /// @notice `holder` has a pending recovery to `newHolder`, ready at `readyAt`.
    error IdentityRecoveryPending(address holder, address newHolder, uint40 readyAt);
    /// @notice `holder` has no pending recovery.
    error IdentityNoRecovery(address holder);
    /// @notice The recovery of `holder` cannot complete before `readyAt` (now `nowTime`).
    error IdentityRecoveryNotReady(address holder, uint40 readyAt, uint256 nowTime);
    /// @notice Only `holder` itself or its issuer `issuer` may do this, not `account`.
    error IdentityNotHolderOrIssuer(address holder, address issuer, address account);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The governor offered the role to `newGovernor`.
    event GovernanceTransferStarted(address indexed previousGovernor, address indexed newGovernor);
    /// @notice `newGovernor` accepted the role (also emitted at deployment).
    event GovernanceTransferred(address indexed previousGovernor, address indexed newGovernor);
    /// @notice `authority` was appointed, or its maximum level changed.
    event AuthorityAppointed(address indexed authority, Level maxLevel);
    /// @notice `authority` was removed and can no longer act.
    event AuthorityRemoved(address indexed authority);
    /// @notice `relyingParty` was appointed, or its sector changed.
    event RelyingPartyAppointed(address indexed relyingParty, Sector sector);
    /// @notice `relyingParty` was removed and can no longer check holders.
    event RelyingPartyRemoved(address indexed relyingParty);
    /// @notice `issuer` verified `holder` for the first time.
    event HolderVerified(
        address indexed holder, address indexed issuer, bytes32 commitment, Level level, uint40 expiresAt
    );
    /// @notice `issuer` renewed or updated the verification of `holder`.
    event HolderReverified(
        address indexed holder, address indexed issuer, bytes32 commitment, Level level, uint40 expiresAt
    );
    /// @notice `issuer` suspended `holder` for reason code `reason`.
    event HolderSuspended(address indexed holder, address indexed issuer, uint8 reason);
    /// @notice `issuer` lifted the suspension of `holder`.
    event HolderReinstated(address indexed holder, address indexed issuer);
    /// @notice `issuer` revoked `holder` for good.
    event HolderRevoked(address indexed holder, address indexed issuer);
    /// @notice `relyingParty` checked `holder` and learnt `standing`: the holder's audit trail.
    event HolderChecked(address indexed holder, address indexed relyingParty, Standing standing);
    /// @notice `holder` consented to checks by `relyingParty` until `until`.
    event ConsentGranted(address indexed holder, address indexed relyingParty, uint40 until);
    /// @notice `holder` withdrew its consent to `relyingParty`.
    event ConsentWithdrawn(address indexed holder, address indexed relyingParty);
    /// @notice `holder` cancelled every outstanding signature; its next nonce is `nonce`.
    event SignaturesCancelled(address indexed holder, uint32 nonce);
    /// @notice `holder` moved its identity to its new wallet `newHolder` with its own key.
    event HolderRotated(address indexed holder, address indexed newHolder);
    /// @notice `issuer` started recovering `holder`'s identity to `newHolder`; the old
    /// key may object until `readyAt`.
    event RecoveryRequested(
        address indexed holder, address indexed newHolder, address indexed issuer, uint40 readyAt
    );
    /// @notice `by` (the holder or its issuer) cancelled the pending recovery of `holder`.
    event RecoveryCancelled(address indexed holder, address indexed by);
    /// @notice `issuer` completed the recovery of `holder`'s identity to `newHolder`.
    event HolderRecovered(address indexed holder, address indexed newHolder, address indexed issuer);

    /*//////////////////////////////////////////////////////////////
                               GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    /// @notice The account that appoints and removes authorities and relying parties.
    function governor() external view returns (address);

    /// @notice The account offered the governor role, or the zero address.
    function pendingGovernor() external view returns (address);

    /// @notice Offers the governor role to `newGovernor`, who must accept it.
    /// @dev Only the governor. Offering to the zero address cancels a pending offer.
    /// Emits {GovernanceTransferStarted}.
    /// @param newGovernor The proposed governor.
    function transferGovernance(address newGovernor) external;

    /// @notice Accepts the governor role offered to the caller.
    /// @dev Only the pending governor. Emits {GovernanceTransferred}.
    function acceptGovernance() external;

    /// @notice Appoints `authority`, or changes its maximum level.
    /// @dev Only the governor. Emits {AuthorityAppointed}.
    /// @param authority The authority's account.
    /// @param maxLevel The highest assurance level it may grant.
    function appointAuthority(address authority, Level maxLevel) external;

    /// @notice Removes `authority`: it can no longer act, and holders it verified
    /// stand as {Standing.IssuerRemoved} while it is removed. Another authority may
    /// take them over with {reverify}; re-appointing `authority` restores the others.
    /// @dev Only the governor. Emits {AuthorityRemoved}.
    /// @param authority The authority's account.
    function removeAuthority(address authority) external;

    /// @notice Appoints `relyingParty` in `sector`, or changes its sector.
    /// @dev Only the governor. Emits {RelyingPartyAppointed}.
    /// @param relyingParty The relying party's account.
    /// @param sector Its sector.
    function appointRelyingParty(address relyingParty, Sector sector) external;

    /// @notice Removes `relyingParty`: it can no longer check holders.
    /// @dev Only the governor. Emits {RelyingPartyRemoved}.
    /// @param relyingParty The relying party's account.
    function removeRelyingParty(address relyingParty) external;

    /// @notice The authority record of `account` (inactive and level None if never appointed).
    /// @param account The account to look up.
    function authorityOf(address account) external view returns (Authority memory);

    /// @notice The relying-party record of `account` (inactive and sector None if never appointed).
    /// @param account The account to look up.
    function relyingPartyOf(address account) external view returns (RelyingParty memory);

    /*//////////////////////////////////////////////////////////////
                              VERIFICATION
    //////////////////////////////////////////////////////////////*/

    /// @notice Records that the caller, an authority, verified `holder` in person.
    /// @dev Only an active authority, for a holder with no verification yet.
    /// Emits {HolderVerified}.
    /// @param holder The holder's wallet.
    /// @param commitment Merkle root of the holder's salted attribute leaves.
    /// @param level Assurance level, at most the authority's maximum.
    /// @param expiresAt Unix time from which the verification no longer holds.
    function verify(address holder, bytes32 commitment, Level level, uint40 expiresAt) external;

    /// @notice Renews or updates the verification of `holder`; keeps its status.
    /// @dev Only the holder's issuer, or any active authority once the issuer was
    /// removed (it then becomes the issuer). Not for revoked holders.
    /// Emits {HolderReverified}.
    /// @param holder The holder's wallet.
    /// @param commitment Merkle root of the holder's salted attribute leaves.
    /// @param level Assurance level, at most the authority's maximum.
    /// @param expiresAt Unix time from which the verification no longer holds.
    function reverify(address holder, bytes32 commitment, Level level, uint40 expiresAt) external;

    /// @notice Suspends `holder` with reason code `reason`; checks fail until reinstated.
    /// @dev Only the holder's issuer, while active. Emits {HolderSuspended}.
    /// @param holder The holder's wallet.
    /// @param reason A non-zero reason code (the client library names them).
    function suspend(address holder, uint8 reason) external;

    /// @notice Lifts the suspension of `holder`.
    /// @dev Only the holder's issuer, while suspended. Emits {HolderReinstated}.
    /// @param holder The holder's wallet.
    function reinstate(address holder) external;

    /// @notice Revokes `holder` for good: no reinstatement, no re-verification.
    /// @dev Only the holder's issuer, while active or suspended. Emits {HolderRevoked}.
    /// @param holder The holder's wallet.
    function revoke(address holder) external;

    /// @notice The stored verification of `holder` (all zero if never verified).
    /// @param holder The holder's wallet.
    function identityOf(address holder) external view returns (Identity memory);

    /// @notice The wallet that `holder`'s identity moved to, by rotation or recovery: one
    /// hop (that wallet may have moved on too: ask again). Lets contracts that keep an
    /// organisation's wallet follow it through key changes.
    /// @param holder A wallet.
    /// @return The wallet the identity moved to, or zero if it has not moved.
    function successorOf(address holder) external view returns (address);

    /// @notice Whether `holder`'s verification is in force now and, if not, why not.
    /// @dev A read anyone can make; it leaves no audit trail. Relying parties use {check}.
    /// @param holder The holder's wallet.
    function standingOf(address holder) external view returns (Standing);

    /// @notice Checks `holder` as the calling relying party and records the check
    /// in the holder's audit trail.
    /// @dev Only an active relying party. Without the holder's consent in force the
    /// answer is {Standing.NoConsent}, whatever the verification's state, and the
    /// attempt is recorded all the same. Emits {HolderChecked}.
    /// @param holder The holder's wallet.
    /// @return standing Whether the verification is in force now and, if not, why not.
    function check(address holder) external returns (Standing standing);

    /// @notice Whether `holder` is verified now and their commitment contains the
    /// attribute `key` = `value` with salt `salt`, proven by `proof`.
    /// @dev Leaf: keccak256(bytes.concat(keccak256(abi.encode(salt, key, value)))).
    /// Inner nodes hash the sorted pair. Returns false when the standing is not Valid.
    /// @param holder The holder's wallet.
    /// @param key The attribute's name, e.g. "age_over_18".
    /// @param value The attribute's value as committed, e.g. "true".
    /// @param salt The attribute's salt.
    /// @param proof The Merkle proof from the leaf to the commitment.
    function verifyAttribute(
        address holder,
        string calldata key,
        string calldata value,
        bytes32 salt,
        bytes32[] calldata proof
    ) external view returns (bool);

    /*//////////////////////////////////////////////////////////////
                          CONSENT AND SIGNATURES
    //////////////////////////////////////////////////////////////*/

    /// @notice The caller, a holder, consents to checks by `relyingParty` until `until`.
    /// @dev Replaces an earlier consent to the same party. Emits {ConsentGranted}.
    /// @param relyingParty The relying party.
    /// @param until Unix time at which the consent ends.
    function grantConsent(address relyingParty, uint40 until) external;

    /// @notice Records `holder`'s signed consent to checks by `relyingParty`; anyone may
    /// submit it and pay the gas.
    /// @dev EIP-712 `GrantConsent(address holder,address relyingParty,uint40 until,
    /// uint32 nonce,uint40 deadline)`. Emits {ConsentGranted}.
    /// @param holder The consenting holder.
    /// @param relyingParty The relying party.
    /// @param until Unix time at which the consent ends.
    /// @param nonce The holder's current nonce.
    /// @param deadline Unix time after which the signature is void.
    /// @param signature 65-byte ECDSA signature, or an ERC-1271 contract wallet's signature.
    function grantConsentBySig(
        address holder,
        address relyingParty,
        uint40 until,
        uint32 nonce,
        uint40 deadline,
        bytes calldata signature
    ) external;

    /// @notice The caller, a holder, withdraws its consent to `relyingParty`.
    /// @dev Emits {ConsentWithdrawn}.
    /// @param relyingParty The relying party.
    function withdrawConsent(address relyingParty) external;

    /// @notice Withdraws `holder`'s consent to `relyingParty` by the holder's signature.
    /// @dev EIP-712 `WithdrawConsent(address holder,address relyingParty,uint32 nonce,
    /// uint40 deadline)`. Emits {ConsentWithdrawn}.
    /// @param holder The holder.
    /// @param relyingParty The relying party.
    /// @param nonce The holder's current nonce.
    /// @param deadline Unix time after which the signature is void.
    /// @param signature The holder's signature.
    function withdrawConsentBySig(
        address holder,
        address relyingParty,
        uint32 nonce,
        uint40 deadline,
        bytes calldata signature
    ) external;

    /// @notice Until when `holder` consents to checks by `relyingParty` (0: never or withdrawn).
    /// @param holder The holder.
    /// @param relyingParty The relying party.
    function consentUntil(address holder, address relyingParty) external view returns (uint40);

    /// @notice The caller, a holder, voids every signature it has handed out and not
    /// yet seen used.
    /// @dev Increments the nonce. Emits {SignaturesCancelled}.
    function cancelSignatures() external;

    /// @notice Voids `holder`'s outstanding signatures, by the holder's signature.
    /// @dev EIP-712 `CancelSignatures(address holder,uint32 nonce,uint40 deadline)`.
    /// Emits {SignaturesCancelled}.
    /// @param holder The holder.
    /// @param nonce The holder's current nonce.
    /// @param deadline Unix time after which the signature is void.
    /// @param signature The holder's signature.
    function cancelSignaturesBySig(address holder, uint32 nonce, uint40 deadline, bytes calldata signature)
        external;

    /// @notice The caller, a holder, moves its identity to its new wallet `newHolder`.
    /// The old wallet stops verifying at once; consents are not carried over.
    /// @dev `newHolder` must never have held an identity. Emits {HolderRotated}.
    /// @param newHolder The new wallet.
    function rotate(address newHolder) external;

    /// @notice Moves `holder`'s identity to `newHolder` by the old key's signature.
    /// @dev EIP-712 `Rotate(address holder,address newHolder,uint32 nonce,uint40 deadline)`.
    /// Emits {HolderRotated}.
    /// @param holder The old wallet.
    /// @param newHolder The new wallet.
    /// @param nonce The holder's current nonce.
    /// @param deadline Unix time after which the signature is void.
    /// @param signature The old key's signature.
    function rotateBySig(
        address holder,
        address newHolder,
        uint32 nonce,
        uint40 deadline,
        bytes calldata signature
    ) external;

    /// @notice The nonce `holder`'s next signed message must carry.
    /// @param holder The holder.
    function nonceOf(address holder) external view returns (uint32);

    /*//////////////////////////////////////////////////////////////
                                RECOVERY
    //////////////////////////////////////////////////////////////*/

    /// @notice Starts recovering `holder`'s identity to `newHolder` (a lost phone).
    /// The old key may object until the waiting period ends.
    /// @dev Only the holder's issuer. Emits {RecoveryRequested}.
    /// @param holder The lost wallet.
    /// @param newHolder The new wallet.
    function requestRecovery(address holder, address newHolder) external;

    /// @notice Cancels the pending recovery of `holder`: the old key objects, or the
    /// issuer withdraws its request.
    /// @dev Only the holder or its issuer. Emits {RecoveryCancelled}.
    /// @param holder The wallet whose recovery is pending.
    function cancelRecovery(address holder) external;

    /// @notice The old key's objection to a recovery, by signature (gasless).
    /// @dev EIP-712 `CancelRecovery(address holder,uint32 nonce,uint40 deadline)`.
    /// Emits {RecoveryCancelled}.
    /// @param holder The wallet whose recovery is pending.
    /// @param nonce The holder's current nonce.
    /// @param deadline Unix time after which the signature is void.
    /// @param signature The old key's signature.
    function cancelRecoveryBySig(address holder, uint32 nonce, uint40 deadline, bytes calldata signature)
        external;

    /// @notice Completes a recovery once the waiting period is over: the identity moves
    /// to the new wallet and the old one stops verifying.
    /// @dev Only the holder's issuer. Emits {HolderRecovered}.
    /// @param holder The lost wallet.
    function completeRecovery(address holder) external;

    /// @notice The pending recovery of `holder` (all zero if none).
    /// @param holder The wallet.
    function recoveryOf(address holder) external view returns (Recovery memory);

    /// @notice Seconds the old key has to object to a recovery.
    function recoveryDelay() external view returns (uint256);

    /// @notice The EIP-712 domain separator of this contract on this chain.
    function DOMAIN_SEPARATOR() external view returns (bytes32);

    /// @notice The semantic version of this contract.
    function version() external pure returns (string memory);
}
