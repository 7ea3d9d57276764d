// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IProductPassport
/// @notice A passport per item (GTIN + serial), lot (GTIN + lot number) or logistic
/// container, as an ERC-721 token whose id is derived from its GS1 keys, with a
/// tamper-evident history in GS1 EPCIS / CBV 2.0 terms: who did what (bizStep), leaving
/// the goods in which state (disposition), where (read point), when, and with which
/// document (its hash). Documents stay off-chain; the chain keeps their hashes.
/// @dev Every organisation acting on passports holds a role here and an active
/// verification in the identity registry at the moment it acts. Ownership (ERC-721) is
/// the commercial title; custody is who holds the goods, and moves only when the
/// receiver accepts an offer the holder signed. Transformations consume inputs and
/// produce outputs with their lineage kept, so a recall of an input reaches every
/// descendant.
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
        Decommissioned,
        Consumed // an input of a transformation: only a recall can still reach it
    }

    /// @notice Business steps: the whole CBV 2.0 standard vocabulary, chainpass's customs and
    /// recall steps, and `Other` for a step outside the CBV (an extension URI: the exact URI
    /// stays provable through the event's hash id, `eventId`).
    /// @dev Numbers 0-11 are the steps modelled first and never move; the rest follow in
    /// alphabetical order of their CBV names. How each step acts on a passport's state:
    /// - lifecycle steps (from-states, roles, next state, disposition):
    ///   Inspecting: from Active or Quarantined; inspector; Conformant -> Active, a
    ///     quarantining disposition (NonConformant, Damaged, Expired, Stolen, Mismatch*,
    ///     NeedsReplacement, NoPedigreeMatch) -> Quarantined.
    ///   Shipping: from Active; producer, carrier or retailer; -> InTransit; InTransit only.
    ///   Receiving: from InTransit; producer, carrier or retailer; -> Active; any usable
    ///     disposition (Active, Sellable, Available, InProgress, SellableAccessible, ...).
    ///   CustomsReleasing: from InTransit; customs; stays InTransit; InTransit only.
    ///   CustomsHolding: from InTransit; customs; -> Quarantined; NonConformant only.
    ///   RetailSelling: from Active; retailer; -> Sold; RetailSold only.
    ///   Recalling: from any state but Recalled; the passport's producer; -> Recalled; Recalled only.
    ///   Decommissioning: from any state; producer or retailer; -> Decommissioned; Inactive only.
    ///   Destroying: from any state; producer or retailer; -> Decommissioned; Destroyed only.
    ///   Commissioning, Packing, Unpacking: functions of their own ({commission}, {pack}, {unpack}).
    /// - Inspecting and Receiving with disposition InProgress (the step under way), and every
    ///   other step (Accepting ... VoidShipping, Other), are observations: any role records
    ///   them, in any state but Decommissioned, and the state changes only as the
    ///   disposition implies: a usable one (Active, InProgress, Sellable, Available, ...)
    ///   ends a journey (InTransit -> Active), InTransit starts one (Active -> InTransit), a
    ///   quarantining one quarantines (Active, InTransit, Sold -> Quarantined); others
    ///   (Conformant, Unknown, Completeness*, NonSellableOther, Unavailable, None) keep the
    ///   state; Recalled, RetailSold, Inactive, Destroyed, Disposed and Dispensed are
    ///   refused: their own steps record them.
    enum BizStep {
        None,
        Commissioning,
        Inspecting,
        Packing,
        Unpacking,
        Shipping,
        Receiving,
        CustomsReleasing, // chainpass: customs clears the goods (not a CBV 2.0 value)
        CustomsHolding, // chainpass: customs holds the goods (not a CBV 2.0 value)
        RetailSelling,
        Recalling, // chainpass: the producer recalls the goods (not a CBV 2.0 value)
        Decommissioning,
        Accepting,
        Arriving,
        Assembling,
        Collecting,
        Consigning,
        CreatingClassInstance,
        CycleCounting,
        Departing,
        Destroying,
        Disassembling,
        Dispensing,
        Encoding,
        EnteringExiting,
        Holding,
        Installing,
        Killing,
        Loading,
        Other, // CBV "other", and any step outside the CBV (an extension URI)
        Picking,
        Removing,
        Repackaging,
        Repairing,
        Replacing,
        Reserving,
        Sampling,
        SensorReporting,
        StagingOutbound,
        StockTaking,
        Stocking,
        Storing,
        Transporting,
        Unloading,
        VoidShipping
    }

    /// @notice Dispositions: the whole CBV 2.0 standard vocabulary, and chainpass's `Sellable`.
    /// @dev Numbers 0-8 never move; the rest follow in alphabetical order of their CBV names.
    /// See {BizStep} for what each does to a passport's state.
    enum Disposition {
        None,
        Active,
        InTransit,
        Conformant,
        NonConformant,
        Recalled,
        Sellable, // chainpass: usable and sellable (CBV 2.0 says SellableAccessible)
        RetailSold,
        Inactive,
        Available,
        CompletenessInferred,
        CompletenessVerified,
        ContainerClosed,
        ContainerOpen,
        Damaged,
        Destroyed,
        Dispensed,
        Disposed,
        Encoded,
        Expired,
        InProgress,
        MismatchClass,
        MismatchInstance,
        MismatchQuantity,
        NeedsReplacement,
        NoPedigreeMatch,
        NonSellableOther,
        PartiallyDispensed,
        Reserved,
        Returned,
        SellableAccessible,
        SellableNotAccessible,
        Stolen,
        Unavailable,
        Unknown
    }

    /// @notice The GS1 keys of a passport to commission.
    struct Key {
        uint64 gtin; // GTIN-14 as a number (check digit validated off-chain); 0: another GS1 key, in `serial`
        Kind kind; // Item, Lot or Container
        uint8 tier; // 0 for goods; 1 case, 2 pallet, 3 shipping container: a container holds lower tiers only
        bytes32 serial; // serial or lot number, ASCII, left-aligned and zero-padded (GS1 allows 20 chars);
        // with gtin 0, an item's or container's other GS1 key as AI + value, e.g. "00" + an
        // 18-digit SSCC (a logistic unit: a container), "8004" + a GIAI (an asset: an item)
    }

    /// @notice One EPCIS event (an ObjectEvent): one what, when, where and why for a list
    /// of passports.
    struct Event {
        BizStep bizStep; // what happened
        Disposition disposition; // the state it left the goods in
        uint40 eventTime; // when it happened (Unix time, as the actor declares)
        bytes32 readPoint; // where: the hash of the read point / location identifier
        bytes32 documentHash; // the certificate, declaration or receipt behind it (0 if none)
        bytes32 eventId; // the EPCIS event's hash id (CBV 2.0 event hash), 0 if none
        uint256[] ids; // the passports it happened to
    }

    /// @notice The stored record of a passport. One storage slot.
    struct Passport {
        address owner; // the owner (ERC-721): who holds the title
        Kind kind; // item, lot or container
        State state; // its own lifecycle state (see {effectiveState} for containers' and ancestors' effect)
        uint8 tier; // container tier; 0 for goods
        bool packed; // whether it is inside a container (see {containerOf})
        uint24 producer; // member number of the producer that commissioned it (see {producerOf})
        uint32 origin; // the transformation that produced it, by number; 0 if commissioned directly
    }

    /// @notice Who holds a passport's goods, when not its owner. One storage slot.
    struct Custody {
        address custodian; // zero: the owner holds them
        uint32 nonce; // counts custody changes: an offer is valid for one nonce only
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
    /// @notice ERC-721: passport `id` is owned by `owner`, not by the `from` given.
    error PassportWrongOwner(uint256 id, address owner);
    /// @notice Only `producer`, which commissioned passport `id`, may recall it.
    error PassportNotItsProducer(uint256 id, address producer);
    /// @notice Passport `id` in state `state` cannot be consumed: inputs are goods, active and unpacked.
    error PassportNotConsumable(uint256 id, State state);
    /// @notice A new transformation needs at least one input.
    error PassportNoInputs(bytes32 transformationId);
    /// @notice Transformation `transformationId` is `producer`'s: only it may add to it.
    error PassportNotItsTransformer(bytes32 transformationId, address producer);
    /// @notice The outputs of `transformationId` would descend from more than the allowed
    /// number of transformations.
    error PassportLineageTooLong(bytes32 transformationId, uint8 limit);
    /// @notice Passport `id`'s goods are held by `holder`, container `container` by
    /// `containerHolder`: packing cannot move goods between holders (hand them over first).
    error PassportHeldElsewhere(uint256 id, address holder, uint256 container, address containerHolder);
    /// @notice Something made from transformation `transformationId`'s outputs has been
    /// consumed already, so it takes no more inputs (they would not reach what was made).
    error PassportTransformationSealed(bytes32 transformationId);
    /// @notice Passport `id` is an output of `transformationId`: it cannot be its input too.
    error PassportOwnOutput(uint256 id, bytes32 transformationId);
    /// @notice Nothing more can happen to passport `id` in state `state`.
    error PassportInactive(uint256 id, State state);
    /// @notice `account` holds the goods of passport `id` already.
    error PassportAlreadyCustodian(uint256 id, address account);
    /// @notice The custody offer expired at `deadline`.
    error PassportOfferExpired(uint40 deadline);
    /// @notice The offer is not signed by `custodian`, who holds the goods (it recovers to `signer`).
    error PassportInvalidOffer(address custodian, address signer);
    /// @notice The signature has a high s: it is a malleated copy of another one.
    error PassportMalleableSignature(bytes32 s);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The governor offered the role to `newGovernor`.
    event GovernanceTransferStarted(address indexed previousGovernor, address indexed newGovernor);
    /// @notice `newGovernor` accepted the role (also emitted at deployment).
    event GovernanceTransferred(address indexed previousGovernor, address indexed newGovernor);
    /// @notice The governor set `account`'s roles to `roles` (a bit set).
    event RolesSet(address indexed account, uint8 roles);
    /// @notice Passport `id` was commissioned from its GS1 keys (its kind, tier and producer
    /// are in {passportOf} and {producerOf}, its first owner in {Transfer}); the batch's
    /// metadata is in {BatchCommissioned}.
    event PassportCommissioned(uint256 indexed id, uint64 gtin, bytes32 serial);
    /// @notice `producer` consumed passport `id` in transformation `transformationId`.
    event PassportConsumed(uint256 indexed id, bytes32 indexed transformationId, address indexed producer);
    /// @notice Passport `id` was produced by transformation `transformationId` (and commissioned).
    event PassportProduced(uint256 indexed id, bytes32 indexed transformationId, address indexed producer);
    /// @notice `producer` recorded (part of) transformation `transformationId`: `inputs`
    /// consumed and `outputs` produced in this call, with the metadata of the outputs.
    event TransformationRecorded(
        bytes32 indexed transformationId,
        address indexed producer,
        uint256 inputs,
        uint256 outputs,
        bytes32 metadataHash,
        string metadataURI
    );
    /// @notice Input `cause` of `transformationId` was recalled: so is everything it produced,
    /// and everything made from that.
    event TransformationRecalled(bytes32 indexed transformationId, uint256 indexed cause);
    /// @notice `to` accepted custody of passport `id`'s goods from `from`.
    event CustodyTransferred(uint256 indexed id, address indexed from, address indexed to);
    /// @notice `custodian` voided its outstanding custody offers for passport `id`.
    event CustodyOffersCancelled(uint256 indexed id, address indexed custodian);
    /// @notice A commissioning batch of `count` passports shares this metadata.
    event BatchCommissioned(address indexed producer, uint256 count, bytes32 metadataHash, string metadataURI);
    /// @notice `actor` recorded an EPCIS event (hash id `eventId`, 0 if none) on passport `id`.
    event PassportEventRecorded(
        uint256 indexed id,
        address indexed actor,
        bytes32 indexed eventId,
        BizStep bizStep,
        Disposition disposition,
        uint40 eventTime,
        bytes32 readPoint,
        bytes32 documentHash
    );
    /// @notice `actor` packed `id` into `container`: events on the container apply to it.
    /// `eventId` is the EPCIS AggregationEvent's hash id, 0 if none.
    event PassportPacked(uint256 indexed id, uint256 indexed container, address indexed actor, bytes32 eventId);
    /// @notice `actor` unpacked `id` from `container`.
    /// `eventId` is the EPCIS AggregationEvent's hash id, 0 if none.
    event PassportUnpacked(uint256 indexed id, uint256 indexed container, address indexed actor, bytes32 eventId);
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

    /// @notice Records EPCIS events, in order, each on every passport it lists; the role
    /// of the caller must fit each bizStep, and only a passport's producer recalls it.
    /// Lifecycle steps move a passport's state as {BizStep} lists; observations (any other
    /// step, and inspecting or receiving in progress) change it only as their disposition
    /// implies.
    /// @dev Only a verified actor. Emits {PassportEventRecorded} per event and passport,
    /// and {TransformationRecalled} when a recall reaches a consumed input.
    /// @param events The events.
    function recordEvents(Event[] calldata events) external;

    /// @notice Records (part of) transformation `transformationId`: consumes `inputs`
    /// (owned by the caller, active and unpacked) and commissions `outputs` (items or
    /// lots) descended from every input the transformation has consumed, in this call or
    /// an earlier one. A recall of any of them, or of their ancestors, reaches the outputs.
    /// Once one of its outputs has itself been consumed, a transformation takes no more
    /// inputs (outputs it still may).
    /// @dev Only a verified producer; only the producer that started a transformation adds
    /// to it. Emits {PassportConsumed} per input, {Transfer}, {PassportCommissioned} and
    /// {PassportProduced} per output, and one {TransformationRecorded}.
    /// @param transformationId The EPCIS transformation id (e.g. the keccak256 of its URI).
    /// @param inputs The passports consumed.
    /// @param outputs The GS1 keys of the passports produced.
    /// @param metadataHash Hash of the off-chain data of the outputs.
    /// @param metadataURI Where that data lives.
    function transform(
        bytes32 transformationId,
        uint256[] calldata inputs,
        Key[] calldata outputs,
        bytes32 metadataHash,
        string calldata metadataURI
    ) external;

    /// @notice Takes custody of passport `id`'s goods from whoever holds them, with the
    /// offer they signed (EIP-712 `CustodyOffer`) for the caller, this nonce and deadline.
    /// @dev Only a verified actor with a role, from a verified holder; not for packed
    /// goods (their container's custody is theirs). Emits {CustodyTransferred}.
    /// @param id The passport.
    /// @param deadline The offer's deadline.
    /// @param signature The holder's signature of the offer.
    function acceptCustody(uint256 id, uint40 deadline, bytes calldata signature) external;

    /// @notice Voids every outstanding custody offer of the caller for passport `id`.
    /// @dev Only its custodian, and not for packed goods (their container is handed over,
    /// not they). Emits {CustodyOffersCancelled}.
    /// @param id The passport.
    function cancelCustodyOffers(uint256 id) external;

    /// @notice Packs each of `ids` into `container`; events recorded on the container
    /// then apply to all of them, at a cost that does not grow with their number. The
    /// goods and the container must be held by the same party: packing never moves goods
    /// between holders.
    /// @dev Only a verified producer or carrier. Emits {PassportPacked} per id.
    /// @param container The container's passport.
    /// @param ids The passports to pack.
    /// @param eventId The EPCIS AggregationEvent's hash id (0 if none).
    function pack(uint256 container, uint256[] calldata ids, bytes32 eventId) external;

    /// @notice Unpacks each of `ids` from the container they are in.
    /// @dev Only a verified producer, carrier or retailer. Emits {PassportUnpacked} per id.
    /// @param ids The passports to unpack.
    /// @param eventId The EPCIS AggregationEvent's hash id (0 if none).
    function unpack(uint256[] calldata ids, bytes32 eventId) external;

    /// @notice The stored record of passport `id`.
    /// @param id The passport.
    function passportOf(uint256 id) external view returns (Passport memory);

    /// @notice Who holds passport `id`'s goods: its custodian, or its owner if it has none;
    /// for packed goods, whoever holds their outermost container.
    /// @param id The passport.
    function custodianOf(uint256 id) external view returns (address);

    /// @notice The custody record of passport `id` (custodian and offer nonce).
    /// @param id The passport.
    function custodyOf(uint256 id) external view returns (Custody memory);

    /// @notice The producer that commissioned passport `id`.
    /// @param id The passport.
    function producerOf(uint256 id) external view returns (address);

    /// @notice The transformation that produced passport `id` (0 if commissioned directly),
    /// whether it is recalled through any input, and the transformations it descends from.
    /// @param id The passport.
    function lineageOf(uint256 id)
        external
        view
        returns (bytes32 transformationId, bool recalled, bytes32[] memory ancestors);

    /// @notice The verdict on passport `id` in one call, for a scanner: whether it is
    /// genuine (commissioned by a producer that still holds the role and an identity in
    /// force), its effective state, its producer and who holds the goods. An unknown id
    /// is not genuine and has state None.
    /// @param id The passport.
    function verdictOf(uint256 id)
        external
        view
        returns (bool genuine, State state, address producer, address custodian);

    /// @notice The EIP-712 domain separator of custody offers.
    function DOMAIN_SEPARATOR() external view returns (bytes32);

    /// @notice The container passport `id` is packed in (0 if none).
    /// @param id The passport.
    function containerOf(uint256 id) external view returns (uint256);

    /// @notice The state that holds for `id` now, its ancestors' and containers' states
    /// included: anything made from a recalled input is recalled, and an item in a
    /// recalled, quarantined, sold or travelling container is so too.
    /// @param id The passport.
    function effectiveState(uint256 id) external view returns (State);

    /// @notice The semantic version of this contract.
    function version() external pure returns (string memory);
}
