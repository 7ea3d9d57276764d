// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";
import {AttributeProof} from "./libraries/AttributeProof.sol";
import {SignatureCheck} from "./libraries/SignatureCheck.sol";

/// @title IdentityRegistry
/// @notice Verified identity shared with consent: verify once, rely everywhere.
/// @dev See {IIdentityRegistry}. Storage is laid out so that the hot paths read one
/// slot each: a holder's issuer, expiry, level, status and time of the last change
/// share a slot; an authority's key, flag, level and key serial share a slot; a consent
/// and its nonce share a slot; a pending recovery and the holder's key nonce share a
/// slot. Nothing here loops over storage.
///
/// Deployed behind OpenZeppelin's `TransparentUpgradeableProxy` (docs/upgrades.md): the
/// storage is the proxy's, in this contract's sequential layout (checked against the last
/// release's by `make upgrade-check`), and set up once by {initialize}; the
/// implementation's constructor sets only the immutables and locks the implementation.
contract IdentityRegistry is IIdentityRegistry {
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    string private constant _NAME = "chainpass IdentityRegistry";
    string private constant _VERSION = "1";
    bytes32 private constant _NAME_HASH = keccak256(bytes(_NAME));
    bytes32 private constant _VERSION_HASH = keccak256(bytes(_VERSION));
    bytes32 private constant _GRANT_CONSENT_TYPEHASH = keccak256(
        "GrantConsent(address holder,address relyingParty,uint40 until,uint32 nonce,uint40 deadline)"
    );
    bytes32 private constant _WITHDRAW_CONSENT_TYPEHASH = keccak256(
        "WithdrawConsent(address holder,address relyingParty,uint32 nonce,uint40 deadline)"
    );
    bytes32 private constant _CANCEL_SIGNATURES_TYPEHASH = keccak256(
        "CancelSignatures(address holder,uint32 nonce,uint40 deadline)"
    );
    bytes32 private constant _ROTATE_TYPEHASH = keccak256(
        "Rotate(address holder,address newHolder,uint32 nonce,uint40 deadline)"
    );
    bytes32 private constant _CANCEL_RECOVERY_TYPEHASH = keccak256(
        "CancelRecovery(address holder,address newHolder,uint40 readyAt,uint40 deadline)"
    );

    /// @dev Bounds of the recovery delay. At least 10 minutes, so that a signed objection
    /// can be relayed even through a few congested blocks (counties should choose days; the
    /// deployer's default is 3); at most 90 days, so a resident is never locked out longer
    /// than a quarter, and `block.timestamp + delay` fits uint40 for 34,000 years.
    uint256 private constant _MIN_RECOVERY_DELAY = 10 minutes;
    uint256 private constant _MAX_RECOVERY_DELAY = 90 days;

    /// @dev A setting of the implementation: a new delay takes a new implementation (an
    /// upgrade through the timelock). An immutable costs no storage read on recovery.
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    uint256 private immutable _recoveryDelay;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    address private _governor;
    /// @dev Whether the guardian stopped the writes that add trust (see {pause}); packed
    /// beside the governor: one cold read for each of those writes.
    bool private _paused;
    address private _pendingGovernor;
    address private _guardian;
    /// @dev An authority as stored: one slot.
    struct AuthorityRecord {
        address key; // The key it acts with now: zero while removed (see `_parkedKeys`) or never appointed.
        bool active; // Whether it may act now.
        Level maxLevel; // The highest level it may grant.
        uint32 keySerial; // Changes whenever the key that acts for it changes.
        uint40 retiredAt; // When its last key stopped acting (rotated out, or removed).
    }

    /// @dev What is kept about an authority beyond the hot slot: one slot, read rarely.
    struct AuthorityFallback {
        address successor; // Acts for its holders while it is removed.
        uint40 compromisedSince; // The last window declared compromised ...
        uint40 compromisedUntil; // ... and its end.
    }

    /// @dev A consent and the nonce of its (holder, relying party) pair: one slot.
    struct Consent {
        uint40 until; // Unix time at which the consent ends (0: none).
        uint32 nonce; // The nonce the pair's next signed consent message must carry.
    }

    /// @dev A holder's pending recovery and its key nonce: one slot, read by every rotation.
    struct KeyState {
        address newHolder; // Target of the pending recovery (zero: none).
        uint40 readyAt; // When the pending recovery may complete (kept after it ends: see `_dropRecovery`).
        uint32 keySerial; // The serial of the authority key that requested it.
        uint24 nonce; // The holder's key nonce (rotation and cancellation messages).
    }

    mapping(address authority => AuthorityRecord record) private _authorities;
    mapping(address authority => AuthorityFallback record) private _fallbacks;
    mapping(address key => address authority) private _rotatedKeys;
    /// @dev The key of a removed authority, kept for its re-appointment.
    mapping(address authority => address key) private _parkedKeys;
    mapping(address relyingParty => RelyingParty record) private _relyingParties;
    mapping(address holder => Identity identity) private _identities;
    mapping(address holder => mapping(address relyingParty => Consent consent)) private _consents;
    mapping(address holder => KeyState state) private _keyStates;
    uint32 private _keySerials;

    /*//////////////////////////////////////////////////////////////
                               MODIFIERS
    //////////////////////////////////////////////////////////////*/

    modifier onlyGovernor() {
        if (msg.sender != _governor) revert IdentityNotGovernor(msg.sender);
        _;
    }

    /// @dev Refuses the writes that add trust while the registry is paused.
    modifier whenNotPaused() {
        if (_paused) revert IdentityPaused();
        _;
    }

    /// @param recoveryDelay_ Seconds the old key has to object to a recovery.
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor(uint256 recoveryDelay_) {
        if (recoveryDelay_ < _MIN_RECOVERY_DELAY || recoveryDelay_ > _MAX_RECOVERY_DELAY) {
            revert IdentityInvalidRecoveryDelay(recoveryDelay_, _MIN_RECOVERY_DELAY, _MAX_RECOVERY_DELAY);
        }
        _recoveryDelay = recoveryDelay_;
        // Locks the implementation: it governs itself, and only a proxy (whose storage starts
        // empty) is ever set up.
        _governor = address(this);
        emit GovernanceTransferred(address(0), address(this));
    }

    /// @inheritdoc IIdentityRegistry
    function initialize(address initialGovernor, address initialGuardian) external {
        if (_governor != address(0)) revert IdentityAlreadyInitialized();
        if (initialGovernor == address(0)) revert IdentityZeroAddress();
        _governor = initialGovernor;
        emit GovernanceTransferred(address(0), initialGovernor);
        if (initialGuardian != address(0)) {
            _guardian = initialGuardian;
            emit GuardianSet(address(0), initialGuardian);
        }
    }

    /*//////////////////////////////////////////////////////////////
                               GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IIdentityRegistry
    function governor() external view returns (address) {
        return _governor;
    }

    /// @inheritdoc IIdentityRegistry
    function pendingGovernor() external view returns (address) {
        return _pendingGovernor;
    }

    /// @inheritdoc IIdentityRegistry
    function transferGovernance(address newGovernor) external onlyGovernor {
        _pendingGovernor = newGovernor;
        emit GovernanceTransferStarted(msg.sender, newGovernor);
    }

    /// @inheritdoc IIdentityRegistry
    function acceptGovernance() external {
        if (msg.sender != _pendingGovernor || msg.sender == address(0)) {
            revert IdentityNotPendingGovernor(msg.sender);
        }
        address previous = _governor;
        _governor = msg.sender;
        delete _pendingGovernor;
        emit GovernanceTransferred(previous, msg.sender);
    }

    /// @inheritdoc IIdentityRegistry
    function guardian() external view returns (address) {
        return _guardian;
    }

    /// @inheritdoc IIdentityRegistry
    function paused() external view returns (bool) {
        return _paused;
    }

    /// @inheritdoc IIdentityRegistry
    function setGuardian(address newGuardian) external onlyGovernor {
        emit GuardianSet(_guardian, newGuardian);
        _guardian = newGuardian;
    }

    /// @inheritdoc IIdentityRegistry
    function pause() external {
        if (msg.sender != _guardian || msg.sender == address(0)) revert IdentityNotGuardian(msg.sender);
        if (_paused) revert IdentityPaused();
        _paused = true;
        emit Paused(msg.sender);
    }

    /// @inheritdoc IIdentityRegistry
    function unpause() external onlyGovernor {
        if (!_paused) revert IdentityNotPaused();
        _paused = false;
        emit Unpaused(msg.sender);
    }

    /// @inheritdoc IIdentityRegistry
    function appointAuthority(address authority, Level maxLevel) external onlyGovernor {
        if (authority == address(0)) revert IdentityZeroAddress();
        if (maxLevel == Level.None) revert IdentityInvalidLevel(maxLevel);
        if (_rotatedKeys[authority] != address(0)) revert IdentityKeyInUse(authority);
        AuthorityRecord storage record = _authorities[authority];
        if (!record.active) {
            address parked = _parkedKeys[authority];
            record.key = parked == address(0) ? authority : parked;
            record.active = true;
            record.keySerial = ++_keySerials;
            delete _fallbacks[authority].successor;
        }
        record.maxLevel = maxLevel;
        emit AuthorityAppointed(authority, maxLevel);
    }

    /// @inheritdoc IIdentityRegistry
    function removeAuthority(address authority) external onlyGovernor {
        AuthorityRecord storage record = _authorities[authority];
        if (!record.active) revert IdentityNotAuthority(authority);
        // A zero key is what stops it acting on the hot paths, which read the key only.
        _parkedKeys[authority] = record.key;
        record.key = address(0);
        record.active = false;
        record.retiredAt = uint40(block.timestamp);
        emit AuthorityRemoved(authority);
    }

    /// @inheritdoc IIdentityRegistry
    function rotateAuthorityKey(address authority, address newKey) external onlyGovernor {
        AuthorityRecord storage record = _authorities[authority];
        if (!record.active) revert IdentityNotAuthority(authority);
        if (newKey == address(0)) revert IdentityZeroAddress();
        if (_rotatedKeys[newKey] != address(0) || (newKey != authority && _authorities[newKey].keySerial != 0)) {
            revert IdentityKeyInUse(newKey);
        }
        address oldKey = record.key;
        if (newKey == oldKey) revert IdentityKeyInUse(newKey);
        if (oldKey != authority) delete _rotatedKeys[oldKey];
        if (newKey != authority) _rotatedKeys[newKey] = authority;
        record.key = newKey;
        record.keySerial = ++_keySerials;
        record.retiredAt = uint40(block.timestamp);
        emit AuthorityKeyRotated(authority, oldKey, newKey);
    }

    /// @inheritdoc IIdentityRegistry
    function handOverAuthority(address removed, address successor) external onlyGovernor {
        AuthorityRecord storage record = _authorities[removed];
        if (record.keySerial == 0) revert IdentityUnknownAuthority(removed);
        if (record.active) revert IdentityAuthorityActive(removed);
        if (successor == removed || !_authorities[successor].active)
            revert IdentityInvalidSuccessor(removed, successor);
        _fallbacks[removed].successor = successor;
        emit AuthorityHandedOver(removed, successor);
    }

    /// @inheritdoc IIdentityRegistry
    function declareCompromise(address authority, uint40 since) external onlyGovernor {
        AuthorityRecord storage record = _authorities[authority];
        if (record.keySerial == 0) revert IdentityUnknownAuthority(authority);
        // The window closes when the key stopped acting: a key still acting must be
        // rotated out (or the authority removed) first.
        uint40 until = record.retiredAt;
        if (until == 0) revert IdentityAuthorityActive(authority);
        if (since > until) revert IdentityInvalidCompromise(authority, since, until);
        AuthorityFallback storage fallback_ = _fallbacks[authority];
        fallback_.compromisedSince = since;
        fallback_.compromisedUntil = until;
        emit AuthorityCompromised(authority, since, until);
    }

    /// @inheritdoc IIdentityRegistry
    function appointRelyingParty(address relyingParty, Sector sector) external onlyGovernor {
        if (relyingParty == address(0)) revert IdentityZeroAddress();
        if (sector == Sector.None) revert IdentityInvalidSector(sector);
        _relyingParties[relyingParty] = RelyingParty({active: true, sector: sector});
        emit RelyingPartyAppointed(relyingParty, sector);
    }

    /// @inheritdoc IIdentityRegistry
    function removeRelyingParty(address relyingParty) external onlyGovernor {
        if (!_relyingParties[relyingParty].active) revert IdentityNotRelyingParty(relyingParty);
        delete _relyingParties[relyingParty];
        emit RelyingPartyRemoved(relyingParty);
    }

    /// @inheritdoc IIdentityRegistry
    function authorityOf(address account) external view returns (Authority memory) {
        AuthorityRecord memory record = _authorities[account];
        AuthorityFallback memory fallback_ = _fallbacks[account];
        return
            Authority({
                active: record.active,
                maxLevel: record.maxLevel,
                signingKey: record.active ? record.key : _parkedKeys[account],
                successor: fallback_.successor,
                compromisedSince: fallback_.compromisedSince,
                compromisedUntil: fallback_.compromisedUntil
            });
    }

    /// @inheritdoc IIdentityRegistry
    function authorityOfKey(address key) external view returns (address) {
        address rotated = _rotatedKeys[key];
        if (rotated != address(0)) return _authorities[rotated].key == key ? rotated : address(0);
        return _authorities[key].key == key ? key : address(0);
    }

    /// @inheritdoc IIdentityRegistry
    function relyingPartyOf(address account) external view returns (RelyingParty memory) {
        return _relyingParties[account];
    }

    /*//////////////////////////////////////////////////////////////
                              VERIFICATION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IIdentityRegistry
    function verify(address holder, bytes32 commitment, Level level, uint40 expiresAt) external whenNotPaused {
        if (holder == address(0)) revert IdentityZeroAddress();
        address authority = _checkGrant(commitment, level, expiresAt);
        Identity storage identity = _identities[holder];
        if (identity.status != Status.None) _refuseTaken(holder, identity);
        identity.commitment = commitment;
        identity.issuer = authority;
        identity.expiresAt = expiresAt;
        identity.level = level;
        identity.status = Status.Active;
        identity.changedAt = uint40(block.timestamp);
        emit HolderVerified(holder, authority, commitment, level, expiresAt);
    }

    /// @inheritdoc IIdentityRegistry
    function reverify(address holder, bytes32 commitment, Level level, uint40 expiresAt) external whenNotPaused {
        address authority = _checkGrant(commitment, level, expiresAt);
        Identity storage identity = _identities[holder];
        Status status = identity.status;
        if (status == Status.None || status == Status.Reserved) revert IdentityNotVerified(holder);
        if (status == Status.Revoked) revert IdentityHolderRevoked(holder);
        if (status == Status.Moved) revert IdentityHolderMoved(holder);
        address issuer = identity.issuer;
        if (issuer != authority) {
            if (_authorities[issuer].active) revert IdentityNotIssuer(holder, issuer, msg.sender);
            // A new issuer takes the holder over: the old issuer's pending request ends here.
            _dropRecoveryIfPending(holder, authority);
        }
        identity.commitment = commitment;
        identity.issuer = authority;
        identity.expiresAt = expiresAt;
        identity.level = level;
        emit HolderReverified(holder, authority, commitment, level, expiresAt);
    }

    /// @inheritdoc IIdentityRegistry
    function suspend(address holder, bytes32 reasonCommitment) external {
        if (reasonCommitment == bytes32(0)) revert IdentityEmptyReason();
        (Identity storage identity, Status status, address authority, ) = _actingIssuer(holder);
        if (status != Status.Active) revert IdentityNotActive(holder, status);
        identity.status = Status.Suspended;
        identity.changedAt = uint40(block.timestamp);
        emit HolderSuspended(holder, authority);
    }

    /// @inheritdoc IIdentityRegistry
    function reinstate(address holder) external whenNotPaused {
        (Identity storage identity, Status status, address authority, ) = _actingIssuer(holder);
        if (status != Status.Suspended) revert IdentityNotSuspended(holder, status);
        identity.status = Status.Active;
        identity.changedAt = uint40(block.timestamp);
        emit HolderReinstated(holder, authority);
    }

    /// @inheritdoc IIdentityRegistry
    function revoke(address holder) external {
        (Identity storage identity, Status status, address authority, ) = _actingIssuer(holder);
        if (status == Status.Revoked) revert IdentityHolderRevoked(holder);
        identity.status = Status.Revoked;
        identity.changedAt = uint40(block.timestamp);
        emit HolderRevoked(holder, authority);
    }

    /// @inheritdoc IIdentityRegistry
    function restore(address holder) external whenNotPaused {
        // The authority whose key made the change: the issuer before anyone takes over.
        address issuer = _identities[holder].issuer;
        (Identity storage identity, Status status, address authority, ) = _actingIssuer(holder);
        uint40 changedAt = identity.changedAt;
        AuthorityFallback memory fallback_ = _fallbacks[issuer];
        if (
            (status != Status.Suspended && status != Status.Revoked)
            || fallback_.compromisedUntil == 0
            || changedAt < fallback_.compromisedSince
            || changedAt > fallback_.compromisedUntil
        ) revert IdentityNotCompromised(holder, changedAt);
        identity.status = Status.Active;
        identity.changedAt = uint40(block.timestamp);
        emit HolderRestored(holder, authority);
    }

    /// @inheritdoc IIdentityRegistry
    function identityOf(address holder) external view returns (Identity memory identity) {
        identity = _identities[holder];
        // A tombstone keeps its successor in `issuer` (see {_transfer}), a reserved wallet
        // the holder it is reserved for: neither is an issuer.
        if (identity.status == Status.Moved || identity.status == Status.Reserved) identity.issuer = address(0);
    }

    /// @inheritdoc IIdentityRegistry
    function successorOf(address holder) external view returns (address) {
        Identity storage identity = _identities[holder];
        return identity.status == Status.Moved ? identity.issuer : address(0);
    }

    /// @inheritdoc IIdentityRegistry
    function standingOf(address holder) external view returns (Standing) {
        return _standing(_identities[holder]);
    }

    /// @inheritdoc IIdentityRegistry
    function check(address holder) external returns (Standing standing) {
        if (!_relyingParties[msg.sender].active) revert IdentityNotRelyingParty(msg.sender);
        standing =
            _consents[holder][msg.sender].until > block.timestamp ? _standing(_identities[holder]) : Standing.NoConsent;
        emit HolderChecked(holder, msg.sender, standing);
    }

    /// @inheritdoc IIdentityRegistry
    function verifyAttribute(
        address holder,
        string calldata key,
        string calldata value,
        bytes32 salt,
        bytes32[] calldata proof
    ) external view returns (bool) {
        Identity storage identity = _identities[holder];
        if (_standing(identity) != Standing.Valid) return false;
        return AttributeProof.verify(proof, identity.commitment, AttributeProof.leaf(salt, key, value));
    }

    /*//////////////////////////////////////////////////////////////
                          CONSENT AND SIGNATURES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IIdentityRegistry
    function grantConsent(address relyingParty, uint40 until) external whenNotPaused {
        _boundIdentity(msg.sender);
        _grantConsent(msg.sender, relyingParty, until, _consents[msg.sender][relyingParty].nonce);
    }

    /// @inheritdoc IIdentityRegistry
    function grantConsentBySig(
        address holder,
        address relyingParty,
        uint40 until,
        uint32 nonce,
        uint40 deadline,
        bytes calldata signature
    ) external whenNotPaused {
        _boundIdentity(holder);
        _checkDeadline(deadline);
        _checkNonce(holder, _consents[holder][relyingParty].nonce, nonce);
        _checkSignature(
            holder,
            keccak256(abi.encode(_GRANT_CONSENT_TYPEHASH, holder, relyingParty, until, nonce, deadline)),
            signature
        );
        _grantConsent(holder, relyingParty, until, nonce);
    }

    /// @inheritdoc IIdentityRegistry
    function withdrawConsent(address relyingParty) external {
        _existingIdentity(msg.sender);
        _withdrawConsent(msg.sender, relyingParty, _consents[msg.sender][relyingParty].nonce);
    }

    /// @inheritdoc IIdentityRegistry
    function withdrawConsentBySig(
        address holder,
        address relyingParty,
        uint32 nonce,
        uint40 deadline,
        bytes calldata signature
    ) external {
        _existingIdentity(holder);
        _checkDeadline(deadline);
        _checkNonce(holder, _consents[holder][relyingParty].nonce, nonce);
        _checkSignature(
            holder,
            keccak256(abi.encode(_WITHDRAW_CONSENT_TYPEHASH, holder, relyingParty, nonce, deadline)),
            signature
        );
        _withdrawConsent(holder, relyingParty, nonce);
    }

    /// @inheritdoc IIdentityRegistry
    function consentUntil(address holder, address relyingParty) external view returns (uint40) {
        return _consents[holder][relyingParty].until;
    }

    /// @inheritdoc IIdentityRegistry
    function consentNonceOf(address holder, address relyingParty) external view returns (uint32) {
        return _consents[holder][relyingParty].nonce;
    }

    /// @inheritdoc IIdentityRegistry
    function cancelSignatures() external {
        _existingIdentity(msg.sender);
        _bumpKeyNonce(msg.sender);
    }

    /// @inheritdoc IIdentityRegistry
    function cancelSignaturesBySig(address holder, uint32 nonce, uint40 deadline, bytes calldata signature) external {
        _existingIdentity(holder);
        _checkDeadline(deadline);
        _checkNonce(holder, _keyStates[holder].nonce, nonce);
        _checkSignature(holder, keccak256(abi.encode(_CANCEL_SIGNATURES_TYPEHASH, holder, nonce, deadline)), signature);
        _bumpKeyNonce(holder);
    }

    /// @inheritdoc IIdentityRegistry
    function rotate(address newHolder) external whenNotPaused {
        _movableIdentity(msg.sender);
        _checkFreeWallet(newHolder);
        _transfer(msg.sender, newHolder);
        emit HolderRotated(msg.sender, newHolder);
    }

    /// @inheritdoc IIdentityRegistry
    function rotateBySig(
        address holder,
        address newHolder,
        uint32 nonce,
        uint40 deadline,
        bytes calldata signature
    ) external whenNotPaused {
        uint24 expected = _movableIdentity(holder);
        _checkDeadline(deadline);
        _checkNonce(holder, expected, nonce);
        _checkSignature(holder, keccak256(abi.encode(_ROTATE_TYPEHASH, holder, newHolder, nonce, deadline)), signature);
        // No nonce to use up: the old wallet is a tombstone from now on, it signs nothing more.
        _checkFreeWallet(newHolder);
        _transfer(holder, newHolder);
        emit HolderRotated(holder, newHolder);
    }

    /// @inheritdoc IIdentityRegistry
    function nonceOf(address holder) external view returns (uint32) {
        return _keyStates[holder].nonce;
    }

    /*//////////////////////////////////////////////////////////////
                                RECOVERY
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IIdentityRegistry
    function requestRecovery(address holder, address newHolder) external {
        (, Status status, address authority, AuthorityRecord storage record) = _actingIssuer(holder);
        if (status == Status.Revoked) revert IdentityHolderRevoked(holder);
        uint32 keySerial = record.keySerial;
        KeyState storage state = _keyStates[holder];
        uint40 lastReadyAt = state.readyAt;
        if (state.newHolder != address(0)) {
            if (state.keySerial == keySerial) revert IdentityRecoveryPending(holder, state.newHolder, state.readyAt);
            _dropRecovery(holder, authority); // requested with a key that no longer acts
        }
        _checkFreeWallet(newHolder);
        // The delay is bounded at deployment: this cannot wrap for 34,000 years. Each request
        // of a holder is ready strictly later than the last one, so an objection (which names
        // its request by target and `readyAt`) can never be replayed against a later request.
        uint40 readyAt = uint40(block.timestamp + _recoveryDelay);
        if (readyAt <= lastReadyAt) readyAt = lastReadyAt + 1;
        state.newHolder = newHolder;
        state.readyAt = readyAt;
        state.keySerial = keySerial;
        Identity storage target = _identities[newHolder];
        target.issuer = holder;
        target.status = Status.Reserved;
        emit RecoveryRequested(holder, newHolder, authority, readyAt);
    }

    /// @inheritdoc IIdentityRegistry
    function cancelRecovery(address holder) external {
        address by = msg.sender;
        if (msg.sender == holder) {
            if (_identities[holder].status == Status.Suspended) revert IdentityHolderSuspended(holder);
        } else {
            address issuer = _identities[holder].issuer;
            (address authority, ) = _authorityOfCaller();
            if (authority == address(0) || !_actsFor(issuer, authority)) {
                revert IdentityNotHolderOrIssuer(holder, issuer, msg.sender);
            }
            by = authority;
        }
        if (_keyStates[holder].newHolder == address(0)) revert IdentityNoRecovery(holder);
        _dropRecovery(holder, by);
    }

    /// @inheritdoc IIdentityRegistry
    function cancelRecoveryBySig(
        address holder,
        address newHolder,
        uint40 readyAt,
        uint40 deadline,
        bytes calldata signature
    ) external {
        if (_existingIdentity(holder).status == Status.Suspended) revert IdentityHolderSuspended(holder);
        _checkDeadline(deadline);
        KeyState memory state = _keyStates[holder];
        if (state.newHolder == address(0)) revert IdentityNoRecovery(holder);
        if (state.newHolder != newHolder || state.readyAt != readyAt) {
            revert IdentityRecoveryMismatch(holder, newHolder, readyAt);
        }
        _checkSignature(
            holder,
            keccak256(abi.encode(_CANCEL_RECOVERY_TYPEHASH, holder, newHolder, readyAt, deadline)),
            signature
        );
        _dropRecovery(holder, holder);
    }

    /// @inheritdoc IIdentityRegistry
    function completeRecovery(address holder) external whenNotPaused {
        (, Status status, address authority, AuthorityRecord storage record) = _actingIssuer(holder);
        if (status == Status.Revoked) revert IdentityHolderRevoked(holder);
        KeyState memory state = _keyStates[holder];
        if (state.newHolder == address(0)) revert IdentityNoRecovery(holder);
        if (state.keySerial != record.keySerial) revert IdentityRecoveryStale(holder);
        if (block.timestamp < state.readyAt) revert IdentityRecoveryNotReady(holder, state.readyAt, block.timestamp);
        delete _keyStates[holder];
        // The target is reserved for this holder: nobody could have moved into it.
        _transfer(holder, state.newHolder);
        emit HolderRecovered(holder, state.newHolder, authority);
    }

    /// @inheritdoc IIdentityRegistry
    function recoveryOf(address holder) external view returns (Recovery memory) {
        KeyState memory state = _keyStates[holder];
        if (state.newHolder == address(0)) return Recovery({newHolder: address(0), readyAt: 0});
        return Recovery({newHolder: state.newHolder, readyAt: state.readyAt});
    }

    /// @inheritdoc IIdentityRegistry
    function recoveryDelay() external view returns (uint256) {
        return _recoveryDelay;
    }

    /// @inheritdoc IIdentityRegistry
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparator();
    }

    /// @inheritdoc IERC5267
    function eip712Domain()
        external
        view
        returns (bytes1, string memory, string memory, uint256, address, bytes32, uint256[] memory)
    {
        // name, version, chainId and verifyingContract: the fields _domainSeparator hashes.
        return (hex"0f", _NAME, _VERSION, block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    /// @inheritdoc IIdentityRegistry
    function version() external pure returns (string memory) {
        return "0.7.0";
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev The authority the caller signs for and its record, or zero if none. One slot
    /// read for an authority acting with its own id as key; two for a rotated key.
    function _authorityOfCaller() private view returns (address authority, AuthorityRecord memory record) {
        record = _authorities[msg.sender];
        if (record.key == msg.sender) return (msg.sender, record);
        authority = _rotatedKeys[msg.sender];
        if (authority == address(0)) return (address(0), record);
        record = _authorities[authority];
        if (record.key != msg.sender) return (address(0), record);
    }

    /// @dev The active authority the caller signs for, and its record.
    function _callerAuthority() private view returns (address authority, AuthorityRecord memory record) {
        (authority, record) = _authorityOfCaller();
        if (authority == address(0) || !record.active) revert IdentityNotAuthority(msg.sender);
    }

    /// @dev Whether `authority` acts for holders issued by `issuer`: it is the issuer, or
    /// the issuer was removed and handed its holders to it.
    function _actsFor(address issuer, address authority) private view returns (bool) {
        if (issuer == authority) return true;
        return !_authorities[issuer].active && _fallbacks[issuer].successor == authority;
    }

    /// @dev Reverts unless the caller is an active authority that may grant `level`
    /// with a non-empty `commitment` until a future `expiresAt`; returns its id.
    function _checkGrant(bytes32 commitment, Level level, uint40 expiresAt) private view returns (address authority) {
        AuthorityRecord memory record;
        (authority, record) = _callerAuthority();
        if (level == Level.None) revert IdentityInvalidLevel(level);
        if (level > record.maxLevel) revert IdentityLevelAboveAuthority(authority, level, record.maxLevel);
        if (commitment == bytes32(0)) revert IdentityEmptyCommitment();
        if (expiresAt <= block.timestamp) revert IdentityExpiryNotInFuture(expiresAt, block.timestamp);
    }

    /// @dev The identity of `holder` and its status, after checking that the caller acts for
    /// its issuer: the issuer's key, or its successor's (which then becomes the issuer,
    /// ending any pending recovery of the old one). Returns the acting authority and its
    /// record. The usual case (the issuer's own key, a bound identity) reads two slots.
    function _actingIssuer(
        address holder
    ) private returns (Identity storage identity, Status status, address authority, AuthorityRecord storage record) {
        identity = _identities[holder];
        authority = identity.issuer;
        status = identity.status;
        record = _authorities[authority];
        // The issuer's own key (a removed authority has none) on a bound identity: Active,
        // Suspended or Revoked. Anything else takes the long way, for the precise error.
        if (record.key == msg.sender && status != Status.None && status <= Status.Revoked) {
            return (identity, status, authority, record);
        }
        address issuer = authority;
        (authority, ) = _callerAuthority();
        record = _authorities[authority];
        if (status == Status.None || status == Status.Reserved) revert IdentityNotVerified(holder);
        if (status == Status.Moved) revert IdentityHolderMoved(holder);
        if (issuer != authority) {
            if (!_actsFor(issuer, authority)) revert IdentityNotIssuer(holder, issuer, msg.sender);
            identity.issuer = authority;
            _dropRecoveryIfPending(holder, authority);
        }
    }

    /// @dev The identity of `holder`, which must exist and not have moved away.
    function _existingIdentity(address holder) private view returns (Identity storage identity) {
        identity = _identities[holder];
        Status status = identity.status;
        if (status == Status.None || status == Status.Reserved) revert IdentityNotVerified(holder);
        if (status == Status.Moved) revert IdentityHolderMoved(holder);
    }

    /// @dev The identity of `holder`, which must be active or suspended: bound to this wallet.
    function _boundIdentity(address holder) private view returns (Identity storage identity) {
        identity = _existingIdentity(holder);
        if (identity.status == Status.Revoked) revert IdentityHolderRevoked(holder);
    }

    /// @dev Reverts unless the holder's own key may move its identity now: active (not
    /// suspended, not revoked) and no recovery pending. Returns the holder's key nonce.
    function _movableIdentity(address holder) private view returns (uint24 nonce) {
        Status status = _existingIdentity(holder).status;
        if (status == Status.Revoked) revert IdentityHolderRevoked(holder);
        if (status == Status.Suspended) revert IdentityHolderSuspended(holder);
        KeyState memory state = _keyStates[holder];
        if (state.newHolder != address(0)) revert IdentityRecoveryPending(holder, state.newHolder, state.readyAt);
        return state.nonce;
    }

    /// @dev Reverts unless `wallet` can receive an identity: not zero, never used, not reserved.
    function _checkFreeWallet(address wallet) private view {
        if (wallet == address(0)) revert IdentityZeroAddress();
        Identity storage target = _identities[wallet];
        if (target.status != Status.None) _refuseTaken(wallet, target);
    }

    /// @dev Reverts with the reason `wallet` (whose record is `record`) cannot take an identity.
    function _refuseTaken(address wallet, Identity storage record) private view {
        Status status = record.status;
        if (status == Status.Revoked) revert IdentityHolderRevoked(wallet);
        if (status == Status.Moved) revert IdentityHolderMoved(wallet);
        if (status == Status.Reserved) revert IdentityWalletReserved(wallet, record.issuer);
        revert IdentityAlreadyVerified(wallet, record.issuer);
    }

    /// @dev Moves `holder`'s identity to `newHolder`; the old wallet keeps a tombstone
    /// (status Moved) so it can never be verified again and its consents never revive.
    /// The tombstone names its successor in `issuer`, which a moved identity no longer
    /// needs: written in the same slot as the status, so following costs nothing more.
    function _transfer(address holder, address newHolder) private {
        Identity storage source = _identities[holder];
        _identities[newHolder] = source;
        source.commitment = bytes32(0);
        source.issuer = newHolder;
        source.status = Status.Moved;
    }

    function _grantConsent(address holder, address relyingParty, uint40 until, uint32 nonce) private {
        if (until <= block.timestamp) revert IdentityConsentNotInFuture(until, block.timestamp);
        if (relyingParty == address(0)) revert IdentityZeroAddress();
        _consents[holder][relyingParty] = Consent({until: until, nonce: nonce + 1});
        emit ConsentGranted(holder, relyingParty, until);
    }

    function _withdrawConsent(address holder, address relyingParty, uint32 nonce) private {
        _consents[holder][relyingParty] = Consent({until: 0, nonce: nonce + 1});
        emit ConsentWithdrawn(holder, relyingParty);
    }

    function _bumpKeyNonce(address holder) private {
        KeyState storage state = _keyStates[holder];
        uint24 nonce = state.nonce + 1;
        state.nonce = nonce;
        emit SignaturesCancelled(holder, nonce);
    }

    function _dropRecoveryIfPending(address holder, address by) private {
        if (_keyStates[holder].newHolder != address(0)) _dropRecovery(holder, by);
    }

    /// @dev Ends `holder`'s pending recovery and frees the target. Keeps the key nonce, and
    /// `readyAt`, which the next request must exceed (see {requestRecovery}).
    function _dropRecovery(address holder, address by) private {
        KeyState storage state = _keyStates[holder];
        Identity storage target = _identities[state.newHolder];
        target.issuer = address(0);
        target.status = Status.None;
        state.newHolder = address(0);
        state.keySerial = 0;
        emit RecoveryCancelled(holder, by);
    }

    function _checkDeadline(uint40 deadline) private view {
        if (block.timestamp > deadline) revert IdentitySignatureExpired(deadline, block.timestamp);
    }

    function _checkNonce(address holder, uint32 expected, uint32 given) private pure {
        if (given != expected) revert IdentityInvalidNonce(holder, expected, given);
    }

    /// @dev Reverts unless `signature` over the EIP-712 message `structHash` is `holder`'s
    /// (see {SignatureCheck}: empty and malformed signatures never reach a wallet).
    function _checkSignature(address holder, bytes32 structHash, bytes calldata signature) private view {
        bytes32 digest = SignatureCheck.typedDataHash(_domainSeparator(), structHash);
        (SignatureCheck.Outcome outcome, address signer) = SignatureCheck.check(holder, digest, signature);
        if (outcome == SignatureCheck.Outcome.Malleable) revert IdentityMalleableSignature(bytes32(signature[32:64]));
        if (outcome == SignatureCheck.Outcome.Malformed) revert IdentityMalformedSignature(holder);
        if (outcome != SignatureCheck.Outcome.Valid) revert IdentityInvalidSigner(holder, signer);
    }

    /// @dev Computed on every use: `address(this)` is the proxy's (a separator cached by
    /// the implementation's constructor would name the implementation).
    function _domainSeparator() private view returns (bytes32) {
        return SignatureCheck.domainSeparator(_NAME_HASH, _VERSION_HASH, address(this));
    }

    /// @dev The standing of `identity` at the current block time. A removed issuer's
    /// holders stand valid while the successor it handed them to is active.
    function _standing(Identity storage identity) private view returns (Standing) {
        Status status = identity.status;
        if (status == Status.None || status == Status.Reserved) return Standing.NeverVerified;
        if (status == Status.Revoked) return Standing.Revoked;
        if (status == Status.Moved) return Standing.Moved;
        if (status == Status.Suspended) return Standing.Suspended;
        address issuer = identity.issuer;
        if (!_authorities[issuer].active) {
            address successor = _fallbacks[issuer].successor;
            if (successor == address(0) || !_authorities[successor].active) return Standing.IssuerRemoved;
        }
        if (identity.expiresAt <= block.timestamp) return Standing.Expired;
        return Standing.Valid;
    }
}
