// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";
import {AttributeProof} from "./libraries/AttributeProof.sol";

/// @title IdentityRegistry
/// @notice Verified identity shared with consent: verify once, rely everywhere.
/// @dev See {IIdentityRegistry}. Storage is laid out so that the hot paths read one
/// slot each: a holder's issuer, expiry, level and status share a slot, and so do an
/// authority's flag and level. Nothing here loops over storage.
contract IdentityRegistry is IIdentityRegistry {
    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    address private _governor;
    address private _pendingGovernor;
    mapping(address authority => Authority record) private _authorities;
    mapping(address relyingParty => RelyingParty record) private _relyingParties;
    mapping(address holder => Identity identity) private _identities;

    /*//////////////////////////////////////////////////////////////
                               MODIFIERS
    //////////////////////////////////////////////////////////////*/

    modifier onlyGovernor() {
        if (msg.sender != _governor) revert IdentityNotGovernor(msg.sender);
        _;
    }

    /// @param initialGovernor The first governor.
    constructor(address initialGovernor) {
        if (initialGovernor == address(0)) revert IdentityZeroAddress();
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
    function identityOf(address holder) external view returns (Identity memory) {
        return _identities[holder];
    }

    /// @inheritdoc IIdentityRegistry
    function standingOf(address holder) external view returns (Standing) {
        return _standing(_identities[holder]);
    }

    /// @inheritdoc IIdentityRegistry
    function check(address holder) external returns (Standing standing) {
        if (!_relyingParties[msg.sender].active) revert IdentityNotRelyingParty(msg.sender);
        standing = _standing(_identities[holder]);
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

    /// @inheritdoc IIdentityRegistry
    function version() external pure returns (string memory) {
        return "0.1.0";
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
        if (identity.status == Status.None) revert IdentityNotVerified(holder);
        if (identity.issuer != msg.sender) revert IdentityNotIssuer(holder, identity.issuer, msg.sender);
    }

    /// @dev The standing of `identity` at the current block time.
    function _standing(Identity storage identity) private view returns (Standing) {
        Status status = identity.status;
        if (status == Status.None) return Standing.NeverVerified;
        if (status == Status.Revoked) return Standing.Revoked;
        if (status == Status.Suspended) return Standing.Suspended;
        if (!_authorities[identity.issuer].active) return Standing.IssuerRemoved;
        if (identity.expiresAt <= block.timestamp) return Standing.Expired;
        return Standing.Valid;
    }
}
