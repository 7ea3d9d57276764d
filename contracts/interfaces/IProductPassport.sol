// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {IIdentityRegistry} from "./IIdentityRegistry.sol";

/// @title IProductPassport
/// @notice A passport per item (GTIN + serial), lot (GTIN + lot number) or logistic
/// container, as an ERC-721 token whose id is derived from its GS1 keys, with a
/// tamper-evident history in GS1 EPCIS / CBV 2.0 terms: who did what (bizStep), leaving
/// the goods in which state (disposition), where (read point), when, and with which
/// document (its hash). Documents stay off-chain; the chain keeps their hashes.
/// @dev Every organisation acting on passports holds a role here and an active
/// verification in the identity registry at the moment it acts, and acts only on the
/// passports it has a relation to (docs/passport-rules.md has the table): physical steps
/// belong to whoever holds the goods, regulators (inspector, customs) act in their own
/// steps on any passport, a producer recalls its own goods and a food-safety authority
/// any. Ownership (ERC-721) is the commercial title; custody is who holds the goods, and
/// moves only when the receiver accepts an offer the holder signed. A brand's codes are
/// its own: a registrar binds each GS1 company prefix to its licensee, and only the
/// licensee and the manufacturers it licenses commission under it. Organisations are
/// followed through key changes in the registry ({followMember}). Transformations
/// consume inputs and produce outputs with their lineage kept, so a recall of an input
/// reaches every descendant.
interface IProductPassport is IERC5267 {
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
        address owner; // the owner (ERC-721) as last written: who holds the title (see {ownerOf})
        Kind kind; // item, lot or container
        State state; // its own lifecycle state (see {effectiveState} for containers' and ancestors' effect)
        uint8 tier; // container tier; 0 for goods
        bool packed; // whether it is inside a container (see {containerOf})
        uint24 producer; // member number of the producer that commissioned it (see {producerOf})
        uint32 origin; // the transformation that produced it, by number; 0 if commissioned directly
        uint8 flags; // bit 0: custody has left the owner once (read {custodyOf}); bit 1: sold once
    }

    /// @notice What a scan of a passport's code is told, in one call (its brand: {brandOf}).
    struct Verdict {
        bool genuine; // commissioned here by a licensed producer: a fact about origin that never flips
        State state; // its effective state now (see {effectiveState})
        bool soldOnce; // it was sold to a customer at some point (a fact no later step erases)
        address producer; // the producer that commissioned it, at its current wallet
        IIdentityRegistry.Standing producerStanding; // whether that producer stands verified today
        address custodian; // who holds the goods now
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
    /// @notice `account` is not the guardian (see {pause}).
    error PassportNotGuardian(address account);
    /// @notice Passports are paused: writes that add trust wait for the governor's {unpause}.
    error PassportPaused();
    /// @notice Passports are not paused.
    error PassportNotPaused();
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
    /// @notice {initialize} ran already (on a proxy), or this is an implementation, which is never set up.
    error PassportAlreadyInitialized();
    /// @notice ERC-721: `account` may not transfer passport `id`.
    error PassportNotOwnerNorApproved(address account, uint256 id);
    /// @notice ERC-721: `receiver` does not accept ERC-721 tokens.
    error PassportInvalidReceiver(address receiver);
    /// @notice ERC-721: passport `id` is owned by `owner`, not by the `from` given.
    error PassportWrongOwner(uint256 id, address owner);
    /// @notice Only `producer`, which commissioned passport `id`, or a food-safety
    /// authority may recall it.
    error PassportNotItsProducer(uint256 id, address producer);
    /// @notice Only `holder`, who holds passport `id`'s goods, may record this step on it
    /// (`account` tried): physical steps and observations belong to whoever holds the goods.
    error PassportNotHolder(uint256 id, address holder, address account);
    /// @notice The GS1 company prefix of the code (`gtin`, or the key in `serial`) is
    /// registered to no brand: a registrar must register it before anything is commissioned.
    error PassportUnregisteredPrefix(uint64 gtin, bytes32 serial);
    /// @notice `account` holds no licence from `brand`, the licensee of this code's GS1
    /// company prefix, to commission it.
    error PassportNotLicensed(uint64 gtin, bytes32 serial, address brand, address account);
    /// @notice `prefix` (of `length` digits) is not a GS1 company prefix: 4 to 12 digits.
    error PassportInvalidPrefix(uint64 prefix, uint8 length);
    /// @notice `prefix` (of `length` digits) is registered already, or lies inside a
    /// registered prefix, licensed to `licensee`: GS1 company prefixes never contain one another.
    error PassportPrefixTaken(uint64 prefix, uint8 length, address licensee);
    /// @notice `prefix` (of `length` digits) contains `count` registered, longer prefixes:
    /// GS1 company prefixes never contain one another.
    error PassportPrefixContainsRegistered(uint64 prefix, uint8 length, uint24 count);
    /// @notice A repair of custody needs the hash of the governor's written decision.
    error PassportNoReason();
    /// @notice `prefix` (of `length` digits) is not registered.
    error PassportPrefixNotRegistered(uint64 prefix, uint8 length);
    /// @notice Only `brand`, the licensee of the prefix, licenses manufacturers under it.
    error PassportNotBrand(uint64 prefix, uint8 length, address brand, address account);
    /// @notice GTIN `gtin` is not under prefix `prefix` (of `length` digits).
    error PassportNotUnderPrefix(uint64 gtin, uint64 prefix, uint8 length);
    /// @notice `account` is not an organisation known here: the governor sets its roles first.
    error PassportNotMember(address account);
    /// @notice `account`'s identity moved to `successor`: act with, or name, the new wallet.
    error PassportMemberMoved(address account, address successor);
    /// @notice `account`'s identity has not moved in the registry: there is nothing to follow.
    error PassportNotMoved(address account);
    /// @notice `account` is an organisation here already, so another one cannot move into it.
    error PassportMemberExists(address account);
    /// @notice The event time `eventTime` lies in the future (now `nowTime`, plus the
    /// allowed clock skew).
    error PassportEventInFuture(uint40 eventTime, uint256 nowTime);
    /// @notice `custodian`, who holds passport `id`'s goods, still stands in the registry:
    /// only a custodian whose identity was revoked can be replaced by the owner.
    error PassportCustodianInForce(uint256 id, address custodian);
    /// @notice Passport `id` in state `state` cannot be consumed: inputs are goods, active and unpacked.
    error PassportNotConsumable(uint256 id, State state);
    /// @notice A new transformation needs at least one input.
    error PassportNoInputs(bytes32 transformationId);
    /// @notice Transformation `transformationId` is `producer`'s: only it may add to it.
    error PassportNotItsTransformer(bytes32 transformationId, address producer);
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
    /// @notice The governor named `newGuardian` (zero: none) in place of `previousGuardian`
    /// (also emitted at deployment when one is named).
    event GuardianSet(address indexed previousGuardian, address indexed newGuardian);
    /// @notice `guardian` paused the writes that add trust.
    event Paused(address indexed guardian);
    /// @notice `governor` lifted the pause.
    event Unpaused(address indexed governor);
    /// @notice The governor set `account`'s roles to `roles` (a bit set).
    event RolesSet(address indexed account, uint8 roles);
    /// @notice The governor set the base of every passport's ERC-721 metadata URI to
    /// `baseURI` (empty: none; see {tokenURI}).
    event BaseURISet(string baseURI);
    /// @notice Organisation number `number` followed its identity in the registry from
    /// wallet `from` to `to`: its roles, licences, products, ownership and custody go with it.
    event MemberFollowed(uint24 indexed number, address indexed from, address indexed to);
    /// @notice `registrar` registered GS1 company prefix `prefix` (of `length` digits) to `licensee`.
    event PrefixRegistered(uint64 indexed prefix, uint8 length, address indexed licensee, address indexed registrar);
    /// @notice `registrar` revoked GS1 company prefix `prefix` (of `length` digits): nothing
    /// more is commissioned under it; what was stays genuine.
    event PrefixRevoked(uint64 indexed prefix, uint8 length, address indexed registrar);
    /// @notice `brand` licensed `manufacturer` to commission under prefix `prefix` (of
    /// `length` digits), for GTIN `gtin` only, or the whole prefix if `gtin` is 0.
    event LicenceGranted(
        uint64 indexed prefix,
        uint8 length,
        uint64 gtin,
        address indexed manufacturer,
        address indexed brand
    );
    /// @notice `brand` revoked the licence {LicenceGranted} gave `manufacturer`.
    event LicenceRevoked(
        uint64 indexed prefix,
        uint8 length,
        uint64 gtin,
        address indexed manufacturer,
        address indexed brand
    );
    /// @notice `by` handed passport `id`'s goods to `to` outside a signed offer: the owner
    /// replacing a revoked custodian, or the governor repairing custody (`reason`: the
    /// hash of its written decision). {CustodyTransferred} follows.
    event CustodyReassigned(uint256 indexed id, address indexed by, bytes32 reason);
    /// @notice `actor`'s unpacking of `id` from `container` passed the container's state `state` on to it.
    event PassportStateInherited(uint256 indexed id, uint256 indexed container, address indexed actor, State state);
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

    /// @notice Sets up the passports behind a new proxy: once, in the proxy's deployment.
    /// @param initialGovernor The first governor (it also owns the proxy's admin: the only way to an upgrade).
    /// @param initialGuardian Who may pause (zero: nobody until the governor names one).
    function initialize(address initialGovernor, address initialGuardian) external;

    /// @notice The account that sets roles.
    function governor() external view returns (address);

    /// @notice The account that may pause passports in an incident, or the zero address.
    function guardian() external view returns (address);

    /// @notice Whether passports are paused. While paused, nothing that adds trust can be
    /// written: commission, transform, pack, unpack, every event but a recall,
    /// acceptCustody, reclaimCustody, followMember, registerPrefix, a licence grant,
    /// transfers and approvals revert {PassportPaused}. Everything that takes trust away, or
    /// that governs, still works: recalls (a producer's or a food-safety authority's),
    /// revokePrefix, a licence revocation, cancelCustodyOffers, every governor function
    /// (setRoles, repairCustody, ...); so do reads and the verdict.
    function paused() external view returns (bool);

    /// @notice Names `newGuardian` (zero: none) as the account that may pause.
    /// @dev Only the governor. Emits {GuardianSet}.
    /// @param newGuardian The new guardian.
    function setGuardian(address newGuardian) external;

    /// @notice Pauses the writes that add trust (see {paused}) during an incident.
    /// @dev Only the guardian; reverts {PassportPaused} if already paused. Emits {Paused}.
    function pause() external;

    /// @notice Lifts the pause.
    /// @dev Only the governor; reverts {PassportNotPaused} if not paused. Emits {Unpaused}.
    function unpause() external;

    /// @notice Offers the governor role to `newGovernor`, who must accept it.
    /// @dev Only the governor. Emits {GovernanceTransferStarted}.
    /// @param newGovernor The proposed governor.
    function transferGovernance(address newGovernor) external;

    /// @notice Accepts the governor role offered to the caller.
    /// @dev Emits {GovernanceTransferred}.
    function acceptGovernance() external;

    /// @notice Sets `account`'s roles: producer 1, inspector 2, carrier 4, customs 8,
    /// retailer 16, registrar 32 (a GS1 member organisation), food-safety authority 64.
    /// @dev Only the governor. Emits {RolesSet}.
    /// @param account The organisation's account.
    /// @param roles The bit set of its roles (0 removes them all).
    function setRoles(address account, uint8 roles) external;

    /// @notice The roles of `account`, as a bit set.
    /// @param account The account.
    function rolesOf(address account) external view returns (uint8);

    /// @notice Sets the base of every passport's ERC-721 metadata URI: {tokenURI} is
    /// `newBaseURI` followed by the passport's id (empty: no URI). The contract takes any string;
    /// chainpass checks it is an http(s) URL before proposing it (docs/web.md). As in
    /// OpenZeppelin's ERC721 there is no getter: the last {BaseURISet} says it, and every {tokenURI}.
    /// @dev Only the governor. Emits {BaseURISet}.
    /// @param newBaseURI Where the metadata of passport `id` is found with the id appended,
    /// e.g. `https://id.example.org/metadata/`.
    function setBaseURI(string calldata newBaseURI) external;

    /// @notice The passport id of GS1 keys `gtin` + `kind` + `serial`:
    /// uint256(keccak256(abi.encode(gtin, kind, serial))), with an item's kind for a
    /// container: one GS1 key (GTIN + serial, SSCC, GIAI) names one passport, whatever it
    /// is used as. A lot (GTIN + lot number) is another key.
    /// @param gtin The GTIN-14 as a number.
    /// @param kind Item, Lot or Container.
    /// @param serial The serial or lot number, ASCII left-aligned in 32 bytes.
    function passportId(uint64 gtin, Kind kind, bytes32 serial) external pure returns (uint256);

    /// @notice Commissions one passport per key, owned by the calling producer; their ids
    /// are {passportId} of each key. Each key's GS1 company prefix must be registered, and
    /// the caller must be its licensee or licensed by it (for the prefix or the GTIN).
    /// @dev Only a verified producer. Emits {Transfer}, {PassportCommissioned} per key
    /// and one {BatchCommissioned}.
    /// @param keys The GS1 keys, one per passport.
    /// @param metadataHash Hash of the off-chain product data shared by the batch.
    /// @param metadataURI Where that data lives.
    function commission(Key[] calldata keys, bytes32 metadataHash, string calldata metadataURI) external;

    /// @notice Records EPCIS events, in order, each on every passport it lists. The caller
    /// must hold the goods (physical steps and observations), be the regulator of the step
    /// (inspecting: an inspector; customs steps: customs; the holder may record an
    /// inspection under way, its own quality check), or, to recall, be the passport's
    /// producer or a food-safety authority; and hold the role each bizStep takes. Event
    /// times may lie at most {MAX_CLOCK_SKEW} seconds in the future.
    /// Lifecycle steps move a passport's state as {BizStep} lists; observations (any other
    /// step, and inspecting or receiving in progress) change it only as their disposition
    /// implies.
    /// @dev Only a verified actor. Emits {PassportEventRecorded} per event and passport,
    /// and {TransformationRecalled} when a recall reaches a consumed input.
    /// @param events The events.
    function recordEvents(Event[] calldata events) external;

    /// @notice Records (part of) transformation `transformationId`: consumes `inputs`
    /// (owned and held by the caller, active and unpacked) and commissions `outputs` (items or
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
    /// caller must hold the container and the goods: packing never moves goods between
    /// holders.
    /// @dev Only a verified producer, carrier or retailer. Emits {PassportPacked} per id.
    /// @param container The container's passport.
    /// @param ids The passports to pack.
    /// @param eventId The EPCIS AggregationEvent's hash id (0 if none).
    function pack(uint256 container, uint256[] calldata ids, bytes32 eventId) external;

    /// @notice Unpacks each of `ids` from the container they are in; the caller must hold
    /// the container. What comes out of a recalled (by the goods' own producer),
    /// quarantined, sold or travelling container is so too, when that outranks its own state.
    /// @dev Only a verified producer, carrier or retailer. Emits {PassportUnpacked} per id,
    /// and {PassportStateInherited} where a state passes on.
    /// @param ids The passports to unpack.
    /// @param eventId The EPCIS AggregationEvent's hash id (0 if none).
    function unpack(uint256[] calldata ids, bytes32 eventId) external;

    /// @notice The stored record of passport `id`.
    /// @param id The passport.
    function passportOf(uint256 id) external view returns (Passport memory);

    /// @notice The custody record of passport `id` (custodian and offer nonce).
    /// @param id The passport.
    function custodyOf(uint256 id) external view returns (Custody memory);

    /// @notice The producer that commissioned passport `id`, at its current wallet.
    /// @param id The passport.
    function producerOf(uint256 id) external view returns (address);

    /// @notice The wallet organisation wallet `account` stands for now: the one it was
    /// followed to (see {followMember}), or `account` itself.
    /// @param account A wallet.
    /// @return The current wallet.
    function currentWalletOf(address account) external view returns (address);

    /// @notice The transformation that produced passport `id` (0 if commissioned directly),
    /// whether it is recalled through any input, the transformations it descends from as
    /// listed (the first MAX_LINEAGE), and whether it descends from more: those were merged
    /// into a recall group, and a recall of any member of that group, which may hold
    /// transformations it does not descend from, shows here too (never a miss, possibly
    /// too much: docs/passport-rules.md, "Lineage beyond the list").
    /// @param id The passport.
    function lineageOf(
        uint256 id
    ) external view returns (bytes32 transformationId, bool recalled, bytes32[] memory ancestors, bool grouped);

    /// @notice The verdict on passport `id` in one call, for a scanner (see {Verdict}). An
    /// unknown id is not genuine and has state None.
    /// @param id The passport.
    /// @return verdict Genuine, state, sold once, producer and its standing today, custodian.
    function verdictOf(uint256 id) external view returns (Verdict memory verdict);

    /// @notice Registers GS1 company prefix `prefix` (its `length` digits, 4 to 12) to
    /// `licensee`, the verified organisation GS1 licensed it to. Prefixes never nest.
    /// @dev Only a verified registrar. Emits {PrefixRegistered}.
    /// @param prefix The prefix's digits as a number.
    /// @param length How many digits it has (leading zeros count).
    /// @param licensee The brand owner, an organisation known here (see {setRoles}).
    function registerPrefix(uint64 prefix, uint8 length, address licensee) external;

    /// @notice Revokes the registration of `prefix`: nothing more is commissioned under it;
    /// what was commissioned stays genuine.
    /// @dev Only a verified registrar. Emits {PrefixRevoked}.
    /// @param prefix The prefix's digits as a number.
    /// @param length How many digits it has.
    function revokePrefix(uint64 prefix, uint8 length) external;

    /// @notice Grants or revokes `manufacturer`'s licence to commission under `prefix`:
    /// for GTIN `gtin` only, or the whole prefix if `gtin` is 0.
    /// @dev Only the prefix's licensee, verified. Emits {LicenceGranted} or {LicenceRevoked}.
    /// @param prefix The prefix's digits as a number.
    /// @param length How many digits it has.
    /// @param gtin A GTIN-14 under the prefix, or 0 for all of them.
    /// @param manufacturer The licensed organisation (known here).
    /// @param granted True to grant, false to revoke.
    function setLicence(uint64 prefix, uint8 length, uint64 gtin, address manufacturer, bool granted) external;

    /// @notice The brand behind a code: the licensee of its GS1 company prefix, and that prefix.
    /// @param gtin The GTIN-14 (0 for an SSCC or GIAI in `serial`).
    /// @param serial The serial, lot or other key.
    /// @return brand The licensee (zero if no prefix is registered for the code).
    /// @return prefix The registered prefix's digits.
    /// @return length Its number of digits (0 if none).
    function brandOf(uint64 gtin, bytes32 serial) external view returns (address brand, uint64 prefix, uint8 length);

    /// @notice Whether `manufacturer` may commission GTIN `gtin` under `prefix` (as its
    /// licensee, or by a licence for the prefix or that GTIN).
    /// @param prefix The prefix's digits as a number.
    /// @param length How many digits it has.
    /// @param gtin The GTIN-14 (0: a licence for the whole prefix only).
    /// @param manufacturer The organisation.
    /// @return Whether it may.
    function isLicensed(uint64 prefix, uint8 length, uint64 gtin, address manufacturer) external view returns (bool);

    /// @notice Follows organisation `account` to the wallet its identity moved to in the
    /// registry (one hop; call again for the next): its roles, licences, products,
    /// ownership and custody are then the new wallet's. Anyone may call it: it only
    /// applies what the registry says.
    /// @dev Emits {MemberFollowed}.
    /// @param account The organisation's old wallet.
    function followMember(address account) external;

    /// @notice The owner of passport `id` takes its goods back from a custodian whose
    /// identity was revoked in the registry (a custodian that cannot sign offers any more).
    /// @dev Only the verified owner. Emits {CustodyReassigned} and {CustodyTransferred}.
    /// @param id The passport.
    function reclaimCustody(uint256 id) external;

    /// @notice The governor's repair of custody: hands passport `id`'s goods to `to`, with
    /// `reason` (the hash of its written decision) on the record.
    /// @dev Only the governor. Emits {CustodyReassigned} and {CustodyTransferred}.
    /// @param id The passport.
    /// @param to The new custodian.
    /// @param reason The hash of the decision.
    function repairCustody(uint256 id, address to, bytes32 reason) external;

    /// @notice What a payment on delivery reads of many passports, in one call: for each,
    /// one word with who holds its goods (its custodian, or its owner if it has none; for
    /// packed goods, whoever holds their outermost container) in bits 0-159, its effective
    /// state ({effectiveState}) in bits 160-167, its container tier (0 for goods) in bits
    /// 176-183 and, in bits 184-191, 1 if it is packed in a container (see {containerOf}).
    /// A passport never commissioned reads 0 (state None, no custodian). For one passport,
    /// pass one id (or read {verdictOf}): the single-id `custodianOf` of release 0.7.0 made
    /// way for this view under the 24,576-byte code limit.
    /// @param ids The passports.
    /// @return goods One word per passport, in the order of `ids`.
    function goodsOf(uint256[] calldata ids) external view returns (bytes32[] memory goods);

    /// @notice The container passport `id` is packed in (0 if none).
    /// @param id The passport.
    function containerOf(uint256 id) external view returns (uint256);

    /// @notice The state that holds for `id` now, its ancestors' and containers' states
    /// included: anything made from a recalled input is recalled, and an item in a
    /// recalled, quarantined, sold or travelling container is so too.
    /// @param id The passport.
    function effectiveState(uint256 id) external view returns (State);

    /// @notice The semantic version of this contract: the chainpass release that built it
    /// (the Python package's `__version__`).
    function version() external pure returns (string memory);
}
