// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IProductPassport
/// @notice A passport per item (GTIN + serial), lot (GTIN + lot number) or logistic
/// container, as an ERC-721 token whose id is derived from its GS1 keys, with a
/// tamper-evident history in GS1 EPCIS / CBV 2.0 terms: who did what (bizStep), leaving
/// the goods in which state (disposition), where (read point), when, and with which
/// document (its hash). Documents stay off-chain; the chain keeps their hashes.
/// @dev Every organisation acting on passports holds a role here and an active
/// verification in the identity registry at the moment it acts.
interface IProductPassport {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice What a passport stands for.
    enum Kind {
        None,
        Item, // GTIN + serial number (AI 21)
        Lot, // GTIN + lot number (AI 10)
        Container // a case, pallet or shipping container, identified like an item
    }

    /// @notice The lifecycle state of a passport.
    enum State {
        None,
        Active,
        InTransit,
        Quarantined,
        Recalled,
        Sold,
        Decommissioned
    }

    /// @notice CBV 2.0 business steps this contract records.
    enum BizStep {
        None,
        Commissioning,
        Inspecting,
        Packing,
        Unpacking,
        Shipping,
        Receiving,
        CustomsReleasing,
        CustomsHolding,
        RetailSelling,
        Recalling,
        Decommissioning
    }

    /// @notice CBV 2.0 dispositions this contract records.
    enum Disposition {
        None,
        Active,
        InTransit,
        Conformant,
        NonConformant,
        Recalled,
        Sellable,
        RetailSold,
        Inactive
    }

    /// @notice The GS1 keys of a passport to commission.
    struct Key {
        uint64 gtin; // GTIN-14 as a number (check digit validated off-chain)
        Kind kind; // Item, Lot or Container
        uint8 tier; // 0 for goods; 1 case, 2 pallet, 3 shipping container: a container holds lower tiers only
        bytes32 serial; // serial or lot number, ASCII, left-aligned and zero-padded (GS1 allows 20 chars)
    }

    /// @notice One EPCIS event to record.
    struct Event {
        uint256 id; // the passport
        BizStep bizStep; // what happened
        Disposition disposition; // the state it left the goods in
        uint40 eventTime; // when it happened (Unix time, as the actor declares)
        bytes32 readPoint; // where: a hash or packed GLN of the read point / location
        bytes32 documentHash; // the certificate, declaration or receipt behind it (0 if none)
    }

    /// @notice The stored record of a passport. One storage slot.
    struct Passport {
        address owner; // the owner (ERC-721)
        Kind kind; // item, lot or container
        State state; // its own lifecycle state (see {effectiveState} for containers' effect)
        uint8 tier; // container tier; 0 for goods
        uint40 commissionedAt; // block time of commissioning
        bool packed; // whether it is inside a container (see {containerOf})
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice `account` is not the governor.
    error PassportNotGovernor(address account);
    /// @notice `account` is not the pending governor.
    error PassportNotPendingGovernor(address account);
    /// @notice `account` lacks role(s) `role` for this action.
    error PassportMissingRole(address account, uint8 role);
    /// @notice `account` has no identity in force in the registry (its standing is `standing`).
    error PassportActorNotVerified(address account, uint8 standing);
    /// @notice No passport has id `id`.
    error PassportUnknown(uint256 id);
    /// @notice A passport with these GS1 keys exists already (id `id`).
    error PassportExists(uint256 id);
    /// @notice The key is malformed: kind, tier or serial do not fit together.
    error PassportInvalidKey(uint64 gtin, bytes32 serial);
    /// @notice `bizStep` cannot be recorded on passport `id` in state `state`.
    error PassportInvalidTransition(uint256 id, State state, BizStep bizStep);
    /// @notice `bizStep` cannot be recorded with disposition `disposition`.
    error PassportInvalidDisposition(BizStep bizStep, Disposition disposition);
    /// @notice Passport `id` is packed in `container`: act on the container, or unpack it first.
    error PassportInContainer(uint256 id, uint256 container);
    /// @notice Passport `id` is not packed.
    error PassportNotPacked(uint256 id);
    /// @notice `container` (tier `containerTier`) cannot hold `id` (tier `tier`): a container
    /// holds lower tiers only, so nothing can end up inside itself.
    error PassportCannotHold(uint256 container, uint8 containerTier, uint256 id, uint8 tier);
    /// @notice A batch must not be empty.
    error PassportEmptyBatch();
    /// @notice The zero address cannot take this role.
    error PassportZeroAddress();
    /// @notice ERC-721: `account` may not transfer passport `id`.
    error PassportNotOwnerNorApproved(address account, uint256 id);
    /// @notice ERC-721: `receiver` does not accept ERC-721 tokens.
    error PassportInvalidReceiver(address receiver);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The governor offered the role to `newGovernor`.
    event GovernanceTransferStarted(address indexed previousGovernor, address indexed newGovernor);
    /// @notice `newGovernor` accepted the role (also emitted at deployment).
    event GovernanceTransferred(address indexed previousGovernor, address indexed newGovernor);
    /// @notice The governor set `account`'s roles to `roles` (a bit set).
    event RolesSet(address indexed account, uint8 roles);
    /// @notice `producer` commissioned passport `id` from its GS1 keys (its kind and tier
    /// are in {passportOf}); the batch's metadata is in {BatchCommissioned}.
    event PassportCommissioned(uint256 indexed id, address indexed producer, uint64 gtin, bytes32 serial);
    /// @notice A commissioning batch of `count` passports shares this metadata.
    event BatchCommissioned(address indexed producer, uint256 count, bytes32 metadataHash, string metadataURI);
    /// @notice `actor` recorded an EPCIS event on passport `id`.
    event PassportEventRecorded(
        uint256 indexed id,
        address indexed actor,
        BizStep indexed bizStep,
        Disposition disposition,
        uint40 eventTime,
        bytes32 readPoint,
        bytes32 documentHash
    );
    /// @notice `actor` packed `id` into `container`: events on the container apply to it.
    event PassportPacked(uint256 indexed id, uint256 indexed container, address indexed actor);
    /// @notice `actor` unpacked `id` from `container`.
    event PassportUnpacked(uint256 indexed id, uint256 indexed container, address indexed actor);
    /// @notice ERC-721 transfer (also commissioning, from the zero address).
    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    /// @notice ERC-721 approval.
    event Approval(address indexed owner, address indexed approved, uint256 indexed tokenId);
    /// @notice ERC-721 operator approval.
    event ApprovalForAll(address indexed owner, address indexed operator, bool approved);

    /*//////////////////////////////////////////////////////////////
                               FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice The identity registry that vouches for every actor.
    function identityRegistry() external view returns (address);

    /// @notice The account that sets roles.
    function governor() external view returns (address);

    /// @notice Offers the governor role to `newGovernor`, who must accept it.
    /// @dev Only the governor. Emits {GovernanceTransferStarted}.
    /// @param newGovernor The proposed governor.
    function transferGovernance(address newGovernor) external;

    /// @notice Accepts the governor role offered to the caller.
    /// @dev Emits {GovernanceTransferred}.
    function acceptGovernance() external;

    /// @notice Sets `account`'s roles: producer 1, inspector 2, carrier 4, customs 8, retailer 16.
    /// @dev Only the governor. Emits {RolesSet}.
    /// @param account The organisation's account.
    /// @param roles The bit set of its roles (0 removes them all).
    function setRoles(address account, uint8 roles) external;

    /// @notice The roles of `account`, as a bit set.
    /// @param account The account.
    function rolesOf(address account) external view returns (uint8);

    /// @notice The passport id of GS1 keys `gtin` + `kind` + `serial`:
    /// uint256(keccak256(abi.encode(gtin, kind, serial))).
    /// @param gtin The GTIN-14 as a number.
    /// @param kind Item, Lot or Container.
    /// @param serial The serial or lot number, ASCII left-aligned in 32 bytes.
    function passportId(uint64 gtin, Kind kind, bytes32 serial) external pure returns (uint256);

    /// @notice Commissions one passport per key, owned by the calling producer; their ids
    /// are {passportId} of each key.
    /// @dev Only a verified producer. Emits {Transfer}, {PassportCommissioned} per key
    /// and one {BatchCommissioned}.
    /// @param keys The GS1 keys, one per passport.
    /// @param metadataHash Hash of the off-chain product data shared by the batch.
    /// @param metadataURI Where that data lives.
    function commission(Key[] calldata keys, bytes32 metadataHash, string calldata metadataURI) external;

    /// @notice Records EPCIS events, in order; the role of the caller must fit each bizStep.
    /// @dev Only a verified actor. Emits {PassportEventRecorded} per event.
    /// @param events The events.
    function recordEvents(Event[] calldata events) external;

    /// @notice Packs each of `ids` into `container`; events recorded on the container
    /// then apply to all of them, at a cost that does not grow with their number.
    /// @dev Only a verified producer or carrier. Emits {PassportPacked} per id.
    /// @param container The container's passport.
    /// @param ids The passports to pack.
    function pack(uint256 container, uint256[] calldata ids) external;

    /// @notice Unpacks each of `ids` from the container they are in.
    /// @dev Only a verified producer, carrier or retailer. Emits {PassportUnpacked} per id.
    /// @param ids The passports to unpack.
    function unpack(uint256[] calldata ids) external;

    /// @notice The stored record of passport `id`.
    /// @param id The passport.
    function passportOf(uint256 id) external view returns (Passport memory);

    /// @notice The container passport `id` is packed in (0 if none).
    /// @param id The passport.
    function containerOf(uint256 id) external view returns (uint256);

    /// @notice The state that holds for `id` now, its containers' states included: an
    /// item in a recalled, quarantined or travelling container is recalled, quarantined
    /// or in transit too.
    /// @param id The passport.
    function effectiveState(uint256 id) external view returns (State);

    /// @notice The semantic version of this contract.
    function version() external pure returns (string memory);
}
