// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";

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
/// domain, and a deadline in the message; contract wallets sign through ERC-1271.
/// Replay protection is scoped, so that a signature can never be spent against an
/// unrelated pending action: consent messages carry the nonce of that one
/// (holder, relying party) pair, key messages (rotation, cancellation) the holder's key
/// nonce, and an objection names the very recovery request it objects to.
///
/// Authorities are known by a fixed id (the account first appointed) and act through a
/// signing key the governor can replace without touching the holders they verified. A
/// removed authority's holders can be handed to a successor in one transaction, and
/// suspensions and revocations made by a key during a window the governor declared
/// compromised can be undone. See docs/identity.md for the incident procedure.
interface IIdentityRegistry is IERC5267 {
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

    /// @notice Stored lifecycle state of a holder's verification. `Reserved`: the wallet
    /// holds nothing yet but is the target of a pending recovery (nobody may move into it).
    enum Status {
        None,
        Active,
        Suspended,
        Revoked,
        Moved,
        Reserved
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

    /// @notice An authority appointed by the governor, known by its id (the account first
    /// appointed) and acting through `signingKey`.
    struct Authority {
        bool active; // Whether the authority may act now.
        Level maxLevel; // The highest assurance level it may grant.
        address signingKey; // The key it acts with now (its id until the governor rotates it).
        address successor; // The authority that acts for its holders once it is removed, or zero.
        uint40 compromisedSince; // Start of the last window declared compromised (0: none).
        uint40 compromisedUntil; // End of that window: when the compromised key stopped acting.
    }

    /// @notice A relying party appointed by the governor.
    struct RelyingParty {
        bool active; // Whether the relying party may check holders now.
        Sector sector; // The sector it belongs to.
    }

    /// @notice A holder's verification. Two storage slots. No reason for a suspension is
    /// stored: the issuer keeps it, the chain only sees a salted commitment in the event.
    struct Identity {
        bytes32 commitment; // Merkle root of the salted attribute leaves.
        address issuer; // The authority (its id) that verified the holder last.
        uint40 expiresAt; // Unix time from which the verification no longer holds.
        Level level; // The assurance level of the verification.
        Status status; // Active, suspended, revoked, moved to another wallet, or reserved.
        uint40 changedAt; // Unix time of the last change of status (verification included).
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
    /// @notice `account` is not the guardian (see {pause}).
    error IdentityNotGuardian(address account);
    /// @notice The registry is paused: writes that add trust wait for the governor's {unpause}.
    error IdentityPaused();
    /// @notice The registry is not paused.
    error IdentityNotPaused();
    /// @notice The zero address cannot take this role.
    error IdentityZeroAddress();
    /// @notice {initialize} ran already (on a proxy), or this is an implementation, which is never set up.
    error IdentityAlreadyInitialized();
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
    /// @notice A suspension needs the commitment to its reason (the issuer keeps the reason).
    error IdentityEmptyReason();
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
    /// @notice The recovery delay `delay` is outside [`minDelay`, `maxDelay`] seconds.
    error IdentityInvalidRecoveryDelay(uint256 delay, uint256 minDelay, uint256 maxDelay);
    /// @notice `wallet` is reserved as the target of `holder`'s pending recovery.
    error IdentityWalletReserved(address wallet, address holder);
    /// @notice `holder` is suspended: its key can neither move the identity nor object to a recovery.
    error IdentityHolderSuspended(address holder);
    /// @notice The objection names the recovery to `newHolder` ready at `readyAt`, which is
    /// not `holder`'s pending recovery (it ended, or another was requested).
    error IdentityRecoveryMismatch(address holder, address newHolder, uint40 readyAt);
    /// @notice The pending recovery of `holder` was requested with a key that no longer acts
    /// for its issuer (rotated, removed, or handed over): request it again.
    error IdentityRecoveryStale(address holder);
    /// @notice The signature is empty or malformed; no wallet was asked.
    error IdentityMalformedSignature(address holder);
    /// @notice `key` already signs for an authority, or is another authority's id.
    error IdentityKeyInUse(address key);
    /// @notice `authority` is still active: remove it first.
    error IdentityAuthorityActive(address authority);
    /// @notice `authority` has never been appointed.
    error IdentityUnknownAuthority(address authority);
    /// @notice `authority` cannot succeed `removed` (it is the same authority, or not active).
    error IdentityInvalidSuccessor(address removed, address authority);
    /// @notice A compromise window must start at or before the key stopped acting (`until`), not `since`.
    error IdentityInvalidCompromise(address authority, uint40 since, uint40 until);
    /// @notice `holder`'s suspension or revocation (at `changedAt`) was not made in a window
    /// declared compromised; only its issuer's ordinary means apply.
    error IdentityNotCompromised(address holder, uint40 changedAt);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The governor offered the role to `newGovernor`.
    event GovernanceTransferStarted(address indexed previousGovernor, address indexed newGovernor);
    /// @notice `newGovernor` accepted the role (also emitted at deployment).
    event GovernanceTransferred(address indexed previousGovernor, address indexed newGovernor);
    /// @notice The governor named `newGuardian` (zero: none) in place of `previousGuardian`
    /// (also emitted at deployment when one is named).
    event GuardianSet(address indexed previousGuardian, address indexed newGuardian);
    /// @notice `guardian` paused the writes that add trust.
    event Paused(address indexed guardian);
    /// @notice `governor` lifted the pause.
    event Unpaused(address indexed governor);
    /// @notice `authority` was appointed, or its maximum level changed.
    event AuthorityAppointed(address indexed authority, Level maxLevel);
    /// @notice `authority` was removed and can no longer act.
    event AuthorityRemoved(address indexed authority);
    /// @notice The governor replaced `authority`'s signing key `oldKey` with `newKey`.
    event AuthorityKeyRotated(address indexed authority, address indexed oldKey, address indexed newKey);
    /// @notice `successor` now acts for the holders of the removed `authority`.
    event AuthorityHandedOver(address indexed authority, address indexed successor);
    /// @notice The governor declared `authority`'s last retired key (named by the preceding
    /// {AuthorityKeyRotated} or {AuthorityRemoved}) compromised from `since` until `until`,
    /// when it stopped acting.
    event AuthorityCompromised(address indexed authority, uint40 since, uint40 until);
    /// @notice `relyingParty` was appointed, or its sector changed.
    event RelyingPartyAppointed(address indexed relyingParty, Sector sector);
    /// @notice `relyingParty` was removed and can no longer check holders.
    event RelyingPartyRemoved(address indexed relyingParty);
    /// @notice `issuer` verified `holder` for the first time.
    event HolderVerified(
        address indexed holder,
        address indexed issuer,
        bytes32 commitment,
        Level level,
        uint40 expiresAt
    );
    /// @notice `issuer` renewed or updated the verification of `holder`.
    event HolderReverified(
        address indexed holder,
        address indexed issuer,
        bytes32 commitment,
        Level level,
        uint40 expiresAt
    );
    /// @notice `issuer` suspended `holder`. The reason stays with the issuer; the salted
    /// commitment to it is anchored in the transaction's input ({suspend}), not repeated here.
    event HolderSuspended(address indexed holder, address indexed issuer);
    /// @notice `issuer` lifted the suspension of `holder`.
    event HolderReinstated(address indexed holder, address indexed issuer);
    /// @notice `issuer` revoked `holder` for good.
    event HolderRevoked(address indexed holder, address indexed issuer);
    /// @notice `issuer` undid a suspension or revocation of `holder` made with a compromised key.
    event HolderRestored(address indexed holder, address indexed issuer);
    /// @notice `relyingParty` checked `holder` and learnt `standing`: the holder's audit trail.
    event HolderChecked(address indexed holder, address indexed relyingParty, Standing standing);
    /// @notice `holder` consented to checks by `relyingParty` until `until`.
    event ConsentGranted(address indexed holder, address indexed relyingParty, uint40 until);
    /// @notice `holder` withdrew its consent to `relyingParty`.
    event ConsentWithdrawn(address indexed holder, address indexed relyingParty);
    /// @notice `holder` cancelled its outstanding key signatures; its next key nonce is `nonce`.
    event SignaturesCancelled(address indexed holder, uint32 nonce);
    /// @notice `holder` moved its identity to its new wallet `newHolder` with its own key.
    event HolderRotated(address indexed holder, address indexed newHolder);
    /// @notice `issuer` started recovering `holder`'s identity to `newHolder`; the old
    /// key may object until `readyAt`.
    event RecoveryRequested(address indexed holder, address indexed newHolder, address indexed issuer, uint40 readyAt);
    /// @notice `by` cancelled the pending recovery of `holder`: the holder objecting, its
    /// issuer withdrawing or replacing the request, or a new issuer taking the holder over.
    event RecoveryCancelled(address indexed holder, address indexed by);
    /// @notice `issuer` completed the recovery of `holder`'s identity to `newHolder`.
    event HolderRecovered(address indexed holder, address indexed newHolder, address indexed issuer);

    /*//////////////////////////////////////////////////////////////
                               GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    /// @notice Sets up the registry behind a new proxy: once, in the proxy's deployment.
    /// @param initialGovernor The first governor (it also owns the proxy's admin: the only way to an upgrade).
    /// @param initialGuardian Who may pause (zero: nobody until the governor names one).
    function initialize(address initialGovernor, address initialGuardian) external;

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

    /// @notice The account that may pause the registry in an incident, or the zero address.
    function guardian() external view returns (address);

    /// @notice Whether the registry is paused. While paused, nothing that adds trust can be
    /// written: verify, reverify, reinstate, restore, grantConsent(BySig), rotate(BySig) and
    /// completeRecovery revert {IdentityPaused}. Everything that takes trust away, or that
    /// governs, still works: suspend, revoke, requestRecovery, cancelRecovery(BySig),
    /// withdrawConsent(BySig), cancelSignatures(BySig), every governor function; so do reads.
    function paused() external view returns (bool);

    /// @notice Names `newGuardian` (zero: none) as the account that may pause.
    /// @dev Only the governor. Emits {GuardianSet}.
    /// @param newGuardian The new guardian.
    function setGuardian(address newGuardian) external;

    /// @notice Pauses the writes that add trust (see {paused}) during an incident.
    /// @dev Only the guardian; reverts {IdentityPaused} if already paused. Emits {Paused}.
    function pause() external;

    /// @notice Lifts the pause.
    /// @dev Only the governor; reverts {IdentityNotPaused} if not paused. Emits {Unpaused}.
    function unpause() external;

    /// @notice Appoints `authority`, or changes its maximum level. An authority keeps its
    /// signing key; appointing a removed one again lets it act again (with its last key),
    /// voids its holders' pending recoveries, and ends any hand-over of its holders.
    /// @dev Only the governor. `authority` must not be another authority's signing key.
    /// Emits {AuthorityAppointed}.
    /// @param authority The authority's account.
    /// @param maxLevel The highest assurance level it may grant.
    function appointAuthority(address authority, Level maxLevel) external;

    /// @notice Removes `authority`: it can no longer act, and holders it verified
    /// stand as {Standing.IssuerRemoved} while it is removed, unless the governor hands
    /// them to a successor ({handOverAuthority}). Another authority may take a holder
    /// over with {reverify}; re-appointing `authority` restores the others.
    /// @dev Only the governor. Emits {AuthorityRemoved}.
    /// @param authority The authority's id.
    function removeAuthority(address authority) external;

    /// @notice Replaces `authority`'s signing key with `newKey` (a lost or stolen key, or
    /// routine hygiene). Its holders are untouched and stay valid; the old key can no
    /// longer act, and recoveries it requested can no longer complete.
    /// @dev Only the governor, for an active authority. `newKey` must not sign for any
    /// authority nor be an authority's id. O(1). Emits {AuthorityKeyRotated}.
    /// @param authority The authority's id.
    /// @param newKey The key it acts with from now on.
    function rotateAuthorityKey(address authority, address newKey) external;

    /// @notice Hands the holders of the removed `removed` to the active `successor` in
    /// one step: they stand valid again, and `successor` acts for them as their issuer.
    /// @dev Only the governor. O(1): nothing is written per holder (a holder's issuer
    /// field is rewritten the first time the successor acts on it). One hop: if the
    /// successor is removed in turn, hand `removed` over again. Emits {AuthorityHandedOver}.
    /// @param removed The removed authority's id.
    /// @param successor The active authority that takes its holders.
    function handOverAuthority(address removed, address successor) external;

    /// @notice Declares that `authority`'s last retired key (rotated out or removed) was
    /// compromised from `since` until it stopped acting: the suspensions and revocations
    /// made in that window can be undone with {restore}.
    /// @dev Only the governor, once the key no longer acts (after {rotateAuthorityKey} or
    /// {removeAuthority}); `since` must not be after the key stopped acting. Replaces an
    /// earlier window. Emits {AuthorityCompromised}.
    /// @param authority The authority's id.
    /// @param since Unix time from which the key is considered the attacker's.
    function declareCompromise(address authority, uint40 since) external;

    /// @notice Appoints `relyingParty` in `sector`, or changes its sector.
    /// @dev Only the governor. Emits {RelyingPartyAppointed}.
    /// @param relyingParty The relying party's account.
    /// @param sector Its sector.
    function appointRelyingParty(address relyingParty, Sector sector) external;

    /// @notice Removes `relyingParty`: it can no longer check holders.
    /// @dev Only the governor. Emits {RelyingPartyRemoved}.
    /// @param relyingParty The relying party's account.
    function removeRelyingParty(address relyingParty) external;

    /// @notice The authority record of the authority with id `account` (all zero if never appointed).
    /// @param account The authority's id.
    /// @return The record.
    function authorityOf(address account) external view returns (Authority memory);

    /// @notice The authority `key` signs for now, or zero.
    /// @param key A signing key.
    /// @return The authority's id.
    function authorityOfKey(address key) external view returns (address);

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

    /// @notice Suspends `holder`; checks fail until reinstated. The reason stays with the
    /// issuer: the chain sees only `reasonCommitment`, a salted hash of it, in this call's
    /// input, where it anchors the issuer's case file in time (shown the salt and reason,
    /// anyone can check them against it). Nothing about the reason is stored or logged.
    /// @dev Only the holder's issuer, while active. The commitment is kept out of the event
    /// to stay within the suspension's gas budget (a log word costs 256 gas; the input
    /// already carries it). Emits {HolderSuspended}.
    /// @param holder The holder's wallet.
    /// @param reasonCommitment keccak256 of the salted reason (not zero; see chainpass.identity).
    function suspend(address holder, bytes32 reasonCommitment) external;

    /// @notice Lifts the suspension of `holder`.
    /// @dev Only the holder's issuer, while suspended. Emits {HolderReinstated}.
    /// @param holder The holder's wallet.
    function reinstate(address holder) external;

    /// @notice Revokes `holder` for good: no reinstatement, no re-verification (unless it
    /// was made with a key declared compromised: see {restore}).
    /// @dev Only the holder's issuer, while active or suspended. Emits {HolderRevoked}.
    /// @param holder The holder's wallet.
    function revoke(address holder) external;

    /// @notice Undoes a suspension or revocation of `holder` made with a key during a
    /// window the governor declared compromised: the holder is active again.
    /// @dev Only whoever acts for the holder's issuer now (its new key, or its successor).
    /// Emits {HolderRestored}.
    /// @param holder The holder's wallet.
    function restore(address holder) external;

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
    /// Deliberately not restricted: contracts (the product passport checks an actor's
    /// standing on every write) need it, and on a public chain a restricted getter hides
    /// nothing (storage is readable by anyone). Consent governs the audited check, not secrecy.
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
    /// @dev Replaces an earlier consent to the same party and voids unused signed consent
    /// messages for it (the pair's nonce moves on). Emits {ConsentGranted}.
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
    /// @param nonce The consent nonce of (`holder`, `relyingParty`) ({consentNonceOf}).
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
    /// @dev Also voids unused signed consent messages for that party (its nonce moves on).
    /// Emits {ConsentWithdrawn}.
    /// @param relyingParty The relying party.
    function withdrawConsent(address relyingParty) external;

    /// @notice Withdraws `holder`'s consent to `relyingParty` by the holder's signature.
    /// @dev EIP-712 `WithdrawConsent(address holder,address relyingParty,uint32 nonce,
    /// uint40 deadline)`. Emits {ConsentWithdrawn}.
    /// @param holder The holder.
    /// @param relyingParty The relying party.
    /// @param nonce The consent nonce of (`holder`, `relyingParty`).
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

    /// @notice The nonce the next consent message of `holder` for `relyingParty` must carry.
    /// @param holder The holder.
    /// @param relyingParty The relying party.
    /// @return The nonce of that pair: one sequence per relying party.
    function consentNonceOf(address holder, address relyingParty) external view returns (uint32);

    /// @notice The caller, a holder, voids the key signatures (rotation, cancellation) it
    /// has handed out and not yet seen used. Consent messages for a party are voided by
    /// withdrawing consent to it; an objection lapses with its recovery.
    /// @dev Increments the key nonce. Emits {SignaturesCancelled}.
    function cancelSignatures() external;

    /// @notice Voids `holder`'s outstanding key signatures, by the holder's signature.
    /// @dev EIP-712 `CancelSignatures(address holder,uint32 nonce,uint40 deadline)`.
    /// Emits {SignaturesCancelled}.
    /// @param holder The holder.
    /// @param nonce The holder's key nonce.
    /// @param deadline Unix time after which the signature is void.
    /// @param signature The holder's signature.
    function cancelSignaturesBySig(address holder, uint32 nonce, uint40 deadline, bytes calldata signature) external;

    /// @notice The caller, a holder, moves its identity to its new wallet `newHolder`.
    /// The old wallet stops verifying at once; consents are not carried over.
    /// @dev Only while active (not suspended) and with no recovery pending: a stolen key
    /// never outruns the bureau. `newHolder` must never have held an identity nor be
    /// reserved for a recovery. Emits {HolderRotated}.
    /// @param newHolder The new wallet.
    function rotate(address newHolder) external;

    /// @notice Moves `holder`'s identity to `newHolder` by the old key's signature.
    /// @dev EIP-712 `Rotate(address holder,address newHolder,uint32 nonce,uint40 deadline)`.
    /// Emits {HolderRotated}.
    /// @param holder The old wallet.
    /// @param newHolder The new wallet.
    /// @param nonce The holder's key nonce.
    /// @param deadline Unix time after which the signature is void.
    /// @param signature The old key's signature.
    function rotateBySig(
        address holder,
        address newHolder,
        uint32 nonce,
        uint40 deadline,
        bytes calldata signature
    ) external;

    /// @notice The key nonce `holder`'s next rotation or cancellation message must carry.
    /// @param holder The holder.
    /// @return The key nonce.
    function nonceOf(address holder) external view returns (uint32);

    /*//////////////////////////////////////////////////////////////
                                RECOVERY
    //////////////////////////////////////////////////////////////*/

    /// @notice Starts recovering `holder`'s identity to `newHolder` (a lost phone).
    /// The old key may object until the waiting period ends, unless the issuer suspended
    /// the holder (the resident reported the key lost or stolen). `newHolder` is reserved
    /// until the recovery ends: nobody can move an identity into it.
    /// @dev Only the holder's issuer. `newHolder` must hold nothing. A pending request made
    /// with a key that no longer acts is replaced (emitting {RecoveryCancelled}).
    /// Emits {RecoveryRequested}.
    /// @param holder The lost wallet.
    /// @param newHolder The new wallet.
    function requestRecovery(address holder, address newHolder) external;

    /// @notice Cancels the pending recovery of `holder`: the old key objects, or the
    /// issuer withdraws its request.
    /// @dev Only the holder (while not suspended) or whoever acts for its issuer.
    /// Emits {RecoveryCancelled}.
    /// @param holder The wallet whose recovery is pending.
    function cancelRecovery(address holder) external;

    /// @notice The old key's objection to a recovery, by signature (gasless).
    /// @dev EIP-712 `CancelRecovery(address holder,address newHolder,uint40 readyAt,uint40 deadline)`:
    /// it names the request it objects to, so no other message can use it up and it
    /// cannot be replayed against a later request. Emits {RecoveryCancelled}.
    /// @param holder The wallet whose recovery is pending.
    /// @param newHolder The pending recovery's target.
    /// @param readyAt The pending recovery's `readyAt`.
    /// @param deadline Unix time after which the signature is void.
    /// @param signature The old key's signature.
    function cancelRecoveryBySig(
        address holder,
        address newHolder,
        uint40 readyAt,
        uint40 deadline,
        bytes calldata signature
    ) external;

    /// @notice Completes a recovery once the waiting period is over: the identity moves
    /// to the new wallet and the old one stops verifying.
    /// @dev Only the holder's issuer, with the key that requested it. Emits {HolderRecovered}.
    /// @param holder The lost wallet.
    function completeRecovery(address holder) external;

    /// @notice The pending recovery of `holder` (all zero if none).
    /// @param holder The wallet.
    function recoveryOf(address holder) external view returns (Recovery memory);

    /// @notice Seconds the old key has to object to a recovery, fixed at deployment
    /// between 10 minutes and 90 days.
    /// @return The delay.
    function recoveryDelay() external view returns (uint256);

    /// @notice The EIP-712 domain separator of this contract on this chain.
    function DOMAIN_SEPARATOR() external view returns (bytes32);

    /// @notice The semantic version of this contract: the chainpass release that built it
    /// (the Python package's `__version__`).
    function version() external pure returns (string memory);
}
