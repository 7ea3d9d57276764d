// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";
import {AttributeProof} from "./libraries/AttributeProof.sol";
import {SignatureCheck} from "./libraries/SignatureCheck.sol";

/// @title IdentityRegistry
/// @notice Verified identity shared with consent: verify once, rely everywhere.
/// @dev See {IIdentityRegistry}. Storage is laid out so that the hot paths read one
/// slot each: a holder's issuer, expiry, level, status and signature nonce share a
/// slot, and so do an authority's flag and level. Nothing here loops over storage.
contract IdentityRegistry is IIdentityRegistry {
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    bytes32 private constant _NAME_HASH = keccak256("chainpass IdentityRegistry");
    bytes32 private constant _VERSION_HASH = keccak256("1");
    bytes32 private constant _GRANT_CONSENT_TYPEHASH = keccak256(
        "GrantConsent(address holder,address relyingParty,uint40 until,uint32 nonce,uint40 deadline)"
    );
    bytes32 private constant _WITHDRAW_CONSENT_TYPEHASH =
        keccak256("WithdrawConsent(address holder,address relyingParty,uint32 nonce,uint40 deadline)");
    bytes32 private constant _CANCEL_SIGNATURES_TYPEHASH =
        keccak256("CancelSignatures(address holder,uint32 nonce,uint40 deadline)");
    bytes32 private constant _ROTATE_TYPEHASH =
        keccak256("Rotate(address holder,address newHolder,uint32 nonce,uint40 deadline)");
    bytes32 private constant _CANCEL_RECOVERY_TYPEHASH =
        keccak256("CancelRecovery(address holder,uint32 nonce,uint40 deadline)");

    uint256 private immutable _recoveryDelay;
    uint256 private immutable _cachedChainId;
    bytes32 private immutable _cachedDomainSeparator;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    address private _governor;
    address private _pendingGovernor;
    mapping(address authority => Authority record) private _authorities;
    mapping(address relyingParty => RelyingParty record) private _relyingParties;
    mapping(address holder => Identity identity) private _identities;
    mapping(address holder => mapping(address relyingParty => uint40 until)) private _consents;
    mapping(address holder => Recovery recovery) private _recoveries;

    /*//////////////////////////////////////////////////////////////
                               MODIFIERS
    //////////////////////////////////////////////////////////////*/

    modifier onlyGovernor() {
        if (msg.sender != _governor) revert IdentityNotGovernor(msg.sender);
        _;
    }

    /// @param initialGovernor The first governor.
    /// @param recoveryDelay_ Seconds the old key has to object to a recovery.
    constructor(address initialGovernor, uint256 recoveryDelay_) {
        if (initialGovernor == address(0)) revert IdentityZeroAddress();
        _recoveryDelay = recoveryDelay_;
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = _buildDomainSeparator();
        _governor = initialGovernor;
        emit GovernanceTransferred(address(0), initialGovernor);
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
    function appointAuthority(address authority, Level maxLevel) external onlyGovernor {
        if (authority == address(0)) revert IdentityZeroAddress();
        if (maxLevel == Level.None) revert IdentityInvalidLevel(maxLevel);
        _authorities[authority] = Authority({active: true, maxLevel: maxLevel});
        emit AuthorityAppointed(authority, maxLevel);
    }

    /// @inheritdoc IIdentityRegistry
    function removeAuthority(address authority) external onlyGovernor {
        if (!_authorities[authority].active) revert IdentityNotAuthority(authority);
        delete _authorities[authority];
        emit AuthorityRemoved(authority);
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
        return _authorities[account];
    }

    /// @inheritdoc IIdentityRegistry
    function relyingPartyOf(address account) external view returns (RelyingParty memory) {
        return _relyingParties[account];
    }

    /*//////////////////////////////////////////////////////////////
                              VERIFICATION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IIdentityRegistry
    function verify(address holder, bytes32 commitment, Level level, uint40 expiresAt) external {
        if (holder == address(0)) revert IdentityZeroAddress();
        _checkGrant(commitment, level, expiresAt);
        Identity storage identity = _identities[holder];
        Status status = identity.status;
        if (status == Status.Revoked) revert IdentityHolderRevoked(holder);
        if (status == Status.Moved) revert IdentityHolderMoved(holder);
        if (status != Status.None) revert IdentityAlreadyVerified(holder, identity.issuer);
        identity.commitment = commitment;
        identity.issuer = msg.sender;
        identity.expiresAt = expiresAt;
        identity.level = level;
        identity.status = Status.Active;
        emit HolderVerified(holder, msg.sender, commitment, level, expiresAt);
    }

    /// @inheritdoc IIdentityRegistry
    function reverify(address holder, bytes32 commitment, Level level, uint40 expiresAt) external {
        _checkGrant(commitment, level, expiresAt);
        Identity storage identity = _identities[holder];
        Status status = identity.status;
        if (status == Status.None) revert IdentityNotVerified(holder);
        if (status == Status.Revoked) revert IdentityHolderRevoked(holder);
        if (status == Status.Moved) revert IdentityHolderMoved(holder);
        address issuer = identity.issuer;
        if (issuer != msg.sender && _authorities[issuer].active) {
            revert IdentityNotIssuer(holder, issuer, msg.sender);
        }
        identity.commitment = commitment;
        identity.issuer = msg.sender;
        identity.expiresAt = expiresAt;
        identity.level = level;
        emit HolderReverified(holder, msg.sender, commitment, level, expiresAt);
    }

    /// @inheritdoc IIdentityRegistry
    function suspend(address holder, uint8 reason) external {
        if (reason == 0) revert IdentityInvalidReason(reason);
        Identity storage identity = _issuedByCaller(holder);
        if (identity.status != Status.Active) revert IdentityNotActive(holder, identity.status);
        identity.status = Status.Suspended;
        identity.suspensionReason = reason;
        emit HolderSuspended(holder, msg.sender, reason);
    }

    /// @inheritdoc IIdentityRegistry
    function reinstate(address holder) external {
        Identity storage identity = _issuedByCaller(holder);
        if (identity.status != Status.Suspended) revert IdentityNotSuspended(holder, identity.status);
        identity.status = Status.Active;
        identity.suspensionReason = 0;
        emit HolderReinstated(holder, msg.sender);
    }

    /// @inheritdoc IIdentityRegistry
    function revoke(address holder) external {
        Identity storage identity = _issuedByCaller(holder);
        if (identity.status == Status.Revoked) revert IdentityHolderRevoked(holder);
        identity.status = Status.Revoked;
        identity.suspensionReason = 0;
        emit HolderRevoked(holder, msg.sender);
    }

    /// @inheritdoc IIdentityRegistry
    function identityOf(address holder) external view returns (Identity memory identity) {
        identity = _identities[holder];
        // A tombstone keeps its successor in `issuer` (see {_move}); that is {successorOf}'s.
        if (identity.status == Status.Moved) identity.issuer = address(0);
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
        standing = _consents[holder][msg.sender] > block.timestamp
            ? _standing(_identities[holder])
            : Standing.NoConsent;
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
    function grantConsent(address relyingParty, uint40 until) external {
        _boundIdentity(msg.sender);
        _grantConsent(msg.sender, relyingParty, until);
    }

    /// @inheritdoc IIdentityRegistry
    function grantConsentBySig(
        address holder,
        address relyingParty,
        uint40 until,
        uint32 nonce,
        uint40 deadline,
        bytes calldata signature
    ) external {
        _useSignature(
            _boundIdentity(holder),
            holder,
            nonce,
            deadline,
            keccak256(abi.encode(_GRANT_CONSENT_TYPEHASH, holder, relyingParty, until, nonce, deadline)),
            signature
        );
        _grantConsent(holder, relyingParty, until);
    }

    /// @inheritdoc IIdentityRegistry
    function withdrawConsent(address relyingParty) external {
        _existingIdentity(msg.sender);
        _withdrawConsent(msg.sender, relyingParty);
    }

    /// @inheritdoc IIdentityRegistry
    function withdrawConsentBySig(
        address holder,
        address relyingParty,
        uint32 nonce,
        uint40 deadline,
        bytes calldata signature
    ) external {
        _useSignature(
            _existingIdentity(holder),
            holder,
            nonce,
            deadline,
            keccak256(abi.encode(_WITHDRAW_CONSENT_TYPEHASH, holder, relyingParty, nonce, deadline)),
            signature
        );
        _withdrawConsent(holder, relyingParty);
    }

    /// @inheritdoc IIdentityRegistry
    function consentUntil(address holder, address relyingParty) external view returns (uint40) {
        return _consents[holder][relyingParty];
    }

    /// @inheritdoc IIdentityRegistry
    function cancelSignatures() external {
        Identity storage identity = _existingIdentity(msg.sender);
        uint32 nonce = identity.nonce + 1;
        identity.nonce = nonce;
        emit SignaturesCancelled(msg.sender, nonce);
    }

    /// @inheritdoc IIdentityRegistry
    function cancelSignaturesBySig(address holder, uint32 nonce, uint40 deadline, bytes calldata signature)
        external
    {
        _useSignature(
            _existingIdentity(holder),
            holder,
            nonce,
            deadline,
            keccak256(abi.encode(_CANCEL_SIGNATURES_TYPEHASH, holder, nonce, deadline)),
            signature
        );
        emit SignaturesCancelled(holder, nonce + 1);
    }

    /// @inheritdoc IIdentityRegistry
    function rotate(address newHolder) external {
        _boundIdentity(msg.sender);
        _move(msg.sender, newHolder);
        emit HolderRotated(msg.sender, newHolder);
    }

    /// @inheritdoc IIdentityRegistry
    function rotateBySig(
        address holder,
        address newHolder,
        uint32 nonce,
        uint40 deadline,
        bytes calldata signature
    ) external {
        _useSignature(
            _boundIdentity(holder),
            holder,
            nonce,
            deadline,
            keccak256(abi.encode(_ROTATE_TYPEHASH, holder, newHolder, nonce, deadline)),
            signature
        );
        _move(holder, newHolder);
        emit HolderRotated(holder, newHolder);
    }

    /// @inheritdoc IIdentityRegistry
    function nonceOf(address holder) external view returns (uint32) {
        return _identities[holder].nonce;
    }

    /*//////////////////////////////////////////////////////////////
                                RECOVERY
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IIdentityRegistry
    function requestRecovery(address holder, address newHolder) external {
        Identity storage identity = _issuedByCaller(holder);
        if (identity.status == Status.Revoked) revert IdentityHolderRevoked(holder);
        _checkFreeWallet(newHolder);
        Recovery storage recovery = _recoveries[holder];
        if (recovery.readyAt != 0) revert IdentityRecoveryPending(holder, recovery.newHolder, recovery.readyAt);
        uint40 readyAt = uint40(block.timestamp + _recoveryDelay);
        recovery.newHolder = newHolder;
        recovery.readyAt = readyAt;
        emit RecoveryRequested(holder, newHolder, msg.sender, readyAt);
    }

    /// @inheritdoc IIdentityRegistry
    function cancelRecovery(address holder) external {
        if (msg.sender != holder) {
            address issuer = _identities[holder].issuer;
            if (msg.sender != issuer) revert IdentityNotHolderOrIssuer(holder, issuer, msg.sender);
        }
        _cancelRecovery(holder, msg.sender);
    }

    /// @inheritdoc IIdentityRegistry
    function cancelRecoveryBySig(address holder, uint32 nonce, uint40 deadline, bytes calldata signature)
        external
    {
        _useSignature(
            _existingIdentity(holder),
            holder,
            nonce,
            deadline,
            keccak256(abi.encode(_CANCEL_RECOVERY_TYPEHASH, holder, nonce, deadline)),
            signature
        );
        _cancelRecovery(holder, holder);
    }

    /// @inheritdoc IIdentityRegistry
    function completeRecovery(address holder) external {
        Identity storage identity = _issuedByCaller(holder);
        if (identity.status == Status.Revoked) revert IdentityHolderRevoked(holder);
        Recovery memory recovery = _recoveries[holder];
        if (recovery.readyAt == 0) revert IdentityNoRecovery(holder);
        if (block.timestamp < recovery.readyAt) {
            revert IdentityRecoveryNotReady(holder, recovery.readyAt, block.timestamp);
        }
        _move(holder, recovery.newHolder);
        emit HolderRecovered(holder, recovery.newHolder, msg.sender);
    }

    /// @inheritdoc IIdentityRegistry
    function recoveryOf(address holder) external view returns (Recovery memory) {
        return _recoveries[holder];
    }

    /// @inheritdoc IIdentityRegistry
    function recoveryDelay() external view returns (uint256) {
        return _recoveryDelay;
    }

    /// @inheritdoc IIdentityRegistry
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparator();
    }

    /// @inheritdoc IIdentityRegistry
    function version() external pure returns (string memory) {
        return "0.2.0";
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev Reverts unless the caller is an active authority that may grant `level`
    /// with a non-empty `commitment` until a future `expiresAt`.
    function _checkGrant(bytes32 commitment, Level level, uint40 expiresAt) private view {
        Authority memory authority = _authorities[msg.sender];
        if (!authority.active) revert IdentityNotAuthority(msg.sender);
        if (level == Level.None) revert IdentityInvalidLevel(level);
        if (level > authority.maxLevel) revert IdentityLevelAboveAuthority(msg.sender, level, authority.maxLevel);
        if (commitment == bytes32(0)) revert IdentityEmptyCommitment();
        if (expiresAt <= block.timestamp) revert IdentityExpiryNotInFuture(expiresAt, block.timestamp);
    }

    /// @dev The identity of `holder`, after checking that the caller is an active
    /// authority and the holder's issuer.
    function _issuedByCaller(address holder) private view returns (Identity storage identity) {
        if (!_authorities[msg.sender].active) revert IdentityNotAuthority(msg.sender);
        identity = _identities[holder];
        Status status = identity.status;
        if (status == Status.None) revert IdentityNotVerified(holder);
        if (status == Status.Moved) revert IdentityHolderMoved(holder);
        if (identity.issuer != msg.sender) revert IdentityNotIssuer(holder, identity.issuer, msg.sender);
    }

    /// @dev The identity of `holder`, which must exist and not have moved away.
    function _existingIdentity(address holder) private view returns (Identity storage identity) {
        identity = _identities[holder];
        Status status = identity.status;
        if (status == Status.None) revert IdentityNotVerified(holder);
        if (status == Status.Moved) revert IdentityHolderMoved(holder);
    }

    /// @dev The identity of `holder`, which must be active or suspended: bound to this wallet.
    function _boundIdentity(address holder) private view returns (Identity storage identity) {
        identity = _existingIdentity(holder);
        if (identity.status == Status.Revoked) revert IdentityHolderRevoked(holder);
    }

    /// @dev Reverts unless `wallet` can receive an identity: not zero, never used.
    function _checkFreeWallet(address wallet) private view {
        if (wallet == address(0)) revert IdentityZeroAddress();
        Identity storage target = _identities[wallet];
        if (target.status == Status.Moved) revert IdentityHolderMoved(wallet);
        if (target.status != Status.None) revert IdentityAlreadyVerified(wallet, target.issuer);
    }

    /// @dev Moves `holder`'s identity to `newHolder`; the old wallet keeps a tombstone
    /// (status Moved) so it can never be verified again and its consents never revive.
    /// The tombstone names its successor in `issuer`, which a moved identity no longer
    /// needs: written in the same slot as the status, so following costs nothing more.
    function _move(address holder, address newHolder) private {
        _checkFreeWallet(newHolder);
        Identity storage source = _identities[holder];
        _identities[newHolder] = source;
        source.commitment = bytes32(0);
        source.issuer = newHolder;
        source.status = Status.Moved;
        source.suspensionReason = 0;
        delete _recoveries[holder];
    }

    function _grantConsent(address holder, address relyingParty, uint40 until) private {
        if (until <= block.timestamp) revert IdentityConsentNotInFuture(until, block.timestamp);
        if (relyingParty == address(0)) revert IdentityZeroAddress();
        _consents[holder][relyingParty] = until;
        emit ConsentGranted(holder, relyingParty, until);
    }

    function _withdrawConsent(address holder, address relyingParty) private {
        delete _consents[holder][relyingParty];
        emit ConsentWithdrawn(holder, relyingParty);
    }

    function _cancelRecovery(address holder, address by) private {
        if (_recoveries[holder].readyAt == 0) revert IdentityNoRecovery(holder);
        delete _recoveries[holder];
        emit RecoveryCancelled(holder, by);
    }

    /// @dev Checks the deadline, the nonce and `holder`'s signature over `structHash`,
    /// then uses up the nonce.
    function _useSignature(
        Identity storage identity,
        address holder,
        uint32 nonce,
        uint40 deadline,
        bytes32 structHash,
        bytes calldata signature
    ) private {
        if (block.timestamp > deadline) revert IdentitySignatureExpired(deadline, block.timestamp);
        uint32 expected = identity.nonce;
        if (nonce != expected) revert IdentityInvalidNonce(holder, expected, nonce);
        _checkSignature(holder, keccak256(abi.encodePacked("\x19\x01", _domainSeparator(), structHash)), signature);
        identity.nonce = expected + 1;
    }

    /// @dev Reverts unless `signature` over `digest` is `holder`'s (see {SignatureCheck}).
    function _checkSignature(address holder, bytes32 digest, bytes calldata signature) private view {
        (SignatureCheck.Outcome outcome, address signer) = SignatureCheck.check(holder, digest, signature);
        if (outcome == SignatureCheck.Outcome.Malleable) revert IdentityMalleableSignature(bytes32(signature[32:64]));
        if (outcome != SignatureCheck.Outcome.Valid) revert IdentityInvalidSigner(holder, signer);
    }

    function _domainSeparator() private view returns (bytes32) {
        return block.chainid == _cachedChainId ? _cachedDomainSeparator : _buildDomainSeparator();
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return SignatureCheck.domainSeparator(_NAME_HASH, _VERSION_HASH, address(this));
    }

    /// @dev The standing of `identity` at the current block time.
    function _standing(Identity storage identity) private view returns (Standing) {
        Status status = identity.status;
        if (status == Status.None) return Standing.NeverVerified;
        if (status == Status.Revoked) return Standing.Revoked;
        if (status == Status.Moved) return Standing.Moved;
        if (status == Status.Suspended) return Standing.Suspended;
        if (!_authorities[identity.issuer].active) return Standing.IssuerRemoved;
        if (identity.expiresAt <= block.timestamp) return Standing.Expired;
        return Standing.Valid;
    }
}
