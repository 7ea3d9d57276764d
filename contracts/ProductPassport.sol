// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";
import {IProductPassport} from "./interfaces/IProductPassport.sol";
import {SignatureCheck} from "./libraries/SignatureCheck.sol";

/// @dev The ERC-721 receiver hook (ERC-721's `IERC721Receiver`).
interface IERC721Receiver {
    function onERC721Received(
        address operator,
        address from,
        uint256 tokenId,
        bytes calldata data
    ) external returns (bytes4);
}

/// @title ProductPassport
/// @notice Product passports from field to customs to shelf. See {IProductPassport}.
/// @dev A passport's owner, kind, state, tier, producer and origin share one slot; its
/// container, if packed, takes a second slot, and its custodian, once custody has moved,
/// a third (a flag in the first says when to read it, so the holder of goods that never
/// changed hands costs no extra read). Containers only hold lower tiers (goods 0 < case 1 < pallet 2 < shipping
/// container 3), so nesting is at most three deep and a container can never end up
/// inside itself. Lineage is kept per transformation, not per passport: each lists the
/// first {MAX_LINEAGE} transformations it descends from, and a recall of a consumed input
/// flags the one transformation that consumed it. Beyond the list, the ancestors are
/// merged into a recall group (union-find by rank over transformation numbers): a recall
/// also flags the root of its transformation's group, and only a transformation whose
/// lineage overflowed reads a group's root. So a recall costs one or two writes whatever
/// descends from it, never misses a descendant, and over-approximates only for what
/// descends from an overflowed transformation (docs/passport-rules.md); a descendant's
/// state reads at most {MAX_LINEAGE} + 1 flags and a root at most log2(transformations)
/// hops away, and nothing loops over unbounded storage.
///
/// Deployed behind OpenZeppelin's `TransparentUpgradeableProxy` (docs/upgrades.md): the
/// storage is the proxy's, in this contract's sequential layout (checked against the last
/// release's by `make upgrade-check`), and set up once by {initialize}; the
/// implementation's constructor sets only the identity registry (an immutable: following
/// a new registry is an upgrade to an implementation built for it) and locks the
/// implementation.
contract ProductPassport is IProductPassport {
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    uint8 internal constant PRODUCER = 1;
    uint8 internal constant INSPECTOR = 2;
    uint8 internal constant CARRIER = 4;
    uint8 internal constant CUSTOMS = 8;
    uint8 internal constant RETAILER = 16;
    uint8 internal constant REGISTRAR = 32;
    uint8 internal constant FOOD_SAFETY = 64;
    /// @notice How far in the future an event's time may lie: the actors' clocks drift.
    uint256 public constant MAX_CLOCK_SKEW = 15 minutes;
    /// @notice The most transformations a transformation lists as its ancestors; further
    /// ones are merged into its recall group (see {lineageOf}).
    uint256 public constant MAX_LINEAGE = 16;
    uint8 private constant _MAX_TIER = 3;
    string private constant _NAME = "chainpass ProductPassport";
    string private constant _VERSION = "1";
    bytes32 private constant _NAME_HASH = keccak256(bytes(_NAME));
    bytes32 private constant _VERSION_HASH = keccak256(bytes(_VERSION));
    bytes32 private constant _CUSTODY_OFFER_TYPEHASH = keccak256(
        "CustodyOffer(uint256 id,address from,address to,uint32 nonce,uint40 deadline)"
    );

    // The lifecycle table of {IProductPassport-BizStep}, packed into constants so that a
    // rule costs a few shifts whatever the step. Generated: scripts/rule_tables.py holds the
    // readable table, writes these numbers (--write) and checks them in `make test`
    // (docs/cbv.md explains the table). Indexed by step: a lane of _STEP_RULES_*, a byte of
    // _STEP_CLASSES, a bit of the others; by disposition: a nibble of _DISPOSITION_CLASS.
    // Each is read through a function named for the rule it holds, beside {_ruleOf}
    // ({_stepRule}, {_classOf}, {_observedState} ...).
    /// @dev The lifecycle steps' rules, 32 bits per step, steps 0-7, 8-15 and 16-23 (none
    /// after): bits 0-7 the states it is recorded from (bit per State; none: not a lifecycle
    /// step), 8-15 the roles that record it, 16-23 the state it leaves (0: its disposition's
    /// class gives it), 24-31 the one disposition it takes, checked after the role (0: any
    /// of the classes in _STEP_CLASSES, checked before the role).
    uint256 private constant _STEP_RULES_0 = 0x02020804000015040202150200000000000000000000020a0000000000000000;
    uint256 private constant _STEP_RULES_1 = 0x00000000000000000000000000000000080611be050401ae0705100204030804;
    uint256 private constant _STEP_RULES_2 = 0x0000000000000000000000000f0611be00000000000000000000000000000000;
    /// @dev Byte `step`: the disposition classes it takes (bit per class), checked before the role.
    uint256 private constant _STEP_CLASSES = 0x0000000000000000000000000000000000000000000000000002000000180000;
    /// @dev Nibble `disposition`: its class. 0 none, 1 usable, 2 in transit, 3 quarantining,
    /// 4 conformant, 5 state-neutral, 6 only recorded by its own step.
    uint256 private constant _DISPOSITION_CLASS = 0x0000000000000000000000000000055311111533333131666311551661634210;
    /// @dev Nibble `class * 8 + state`: the state an observation leaves; 0: refused.
    uint256 private constant _OBSERVED_NEXT = 0x0000000000000000765432107654321076343330765432207654311076543210;
    /// @dev Nibble `class`: the state a step leaves when its disposition's class decides it.
    uint256 private constant _CLASS_STATE = 0x0000000000000000000000000000000000000000000000000000000000013010;
    /// @dev Bit `step`: observations (no lifecycle rule of their own).
    uint256 private constant _OBSERVATIONS = 0x00000000000000000000000000000000000000000000000000001fffffeff000;
    /// @dev Bit `step`: lifecycle steps that, with disposition InProgress, are observations.
    uint256 private constant _UNDER_WAY = 0x0000000000000000000000000000000000000000000000000000000000000044;
    /// @dev Bit `step`: steps that move goods as a consignment (recorded on the container).
    uint256 private constant _MOVES_GOODS = 0x00000000000000000000000000000000000000000000000000000000000003e0;
    uint256 private constant _IN_PROGRESS = 20;
    /// @dev Bit `step`: regulators' steps, recorded by their role on any passport:
    /// inspecting (2), customs releasing (7) and customs holding (8).
    uint256 private constant _REGULATED = 0x184;
    /// @dev Bits of {Passport-flags}.
    uint8 private constant _CUSTODY_MOVED = 1;
    uint8 private constant _SOLD_ONCE = 2;
    /// @dev A recall ordered by a food-safety authority (not the producer's own): it reaches
    /// everything unpacked from the container it was recorded on.
    uint8 private constant _ORDERED_RECALL = 4;
    /// @dev GS1 company prefix lengths in the order they are looked up (the most common
    /// first: each miss is a cold storage read), one byte each from the left.
    bytes9 private constant _PREFIX_LENGTHS = 0x0709080a060b0c0504;
    uint256 private constant _PREFIX_SPAN = 1e12;
    /// @dev Flags of a packed rule (see {_ruleOf}): an observation; a disposition the
    /// lifecycle step does not take; a step that moves goods.
    uint256 private constant _OBSERVATION = 1 << 40;
    uint256 private constant _WRONG_CLASS = 1 << 41;
    uint256 private constant _MOVES = 1 << 42;
    uint256 private constant _MISSING_ROLE = 1 << 43;
    /// @dev The caller acts as the regulator of a regulated step: no relation needed.
    uint256 private constant _AS_REGULATOR = 1 << 44;

    /// @dev The registry that vouches for every actor. An immutable saves a cold storage
    /// read (2,100 gas) on every write that checks an actor's standing.
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    IIdentityRegistry private immutable _registry;

    /// @dev An organisation's roles and its member number (given once, on its first roles),
    /// by wallet. A wallet the organisation's identity moved away from keeps its number
    /// with `moved` set; {_memberAccounts} names the current wallet.
    struct Member {
        uint8 roles; // bit set of roles (see {setRoles})
        uint24 number; // the organisation's number here, for ever
        bool moved; // the organisation moved on to another wallet
    }

    /// @dev A registered GS1 company prefix.
    struct Prefix {
        uint24 licensee; // member number of the brand owner; 0: not registered
        uint24 nested; // how many registered prefixes extend this one (then it cannot be registered)
    }

    /// @dev A transformation, by number: who made it, whether an input of it is recalled,
    /// whether an output of it has been consumed (then it takes no more inputs), and how
    /// many transformations it lists as ancestors (in `_ancestors`). As a member of a
    /// recall group: the member it was merged under (0: it is a root), and as a root, its
    /// rank (union by rank: a root is at most log2(transformations) hops from any member)
    /// and whether a member other than itself is recalled. `group`: a member of the group
    /// holding the ancestors it could not list (0: it lists them all).
    struct Transformation {
        uint24 producer;
        bool recalled;
        bool closed;
        uint8 ancestorCount;
        bool groupRecalled;
        uint8 rank;
        uint32 parent;
        uint32 group;
        bytes32 id;
    }

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    address private _governor;
    /// @dev Whether the guardian stopped the writes that add trust (see {pause}); packed
    /// beside the governor: one cold read for each of those writes.
    bool private _paused;
    address private _pendingGovernor;
    uint24 private _memberCount;
    uint32 private _transformationCount;
    address private _guardian;
    mapping(address account => Member member) private _members;
    mapping(uint24 number => address account) private _memberAccounts;
    mapping(uint256 id => Passport passport) private _passports;
    mapping(uint256 id => uint256 container) private _containers;
    mapping(uint256 id => Custody custody) private _custody;
    mapping(bytes32 transformationId => uint32 number) private _transformationNumbers;
    mapping(uint32 number => Transformation transformation) private _transformations;
    mapping(uint32 number => uint32[MAX_LINEAGE] ancestors) private _ancestors;
    mapping(uint256 id => uint32 number) private _consumedBy;
    mapping(address owner => uint256 balance) private _balances;
    /// @dev By the wallet that approved: an approval the owner's lost key gave dies when
    /// the organisation is followed to its new wallet (see {followMember}).
    mapping(uint256 id => mapping(address owner => address approved)) private _approvals;
    mapping(address owner => mapping(address operator => bool approved)) private _operators;
    /// @dev Keyed by {_prefixKey}: length * 1e12 + digits.
    mapping(uint64 prefixKey => Prefix prefix) private _prefixes;
    /// @dev The licensee that granted a member a licence for a whole prefix (valid while it is still the licensee).
    mapping(uint64 prefixKey => mapping(uint24 member => uint24 grantedBy)) private _prefixLicences;
    /// @dev The licensee that granted a member a licence for one GTIN.
    mapping(uint64 gtin => mapping(uint24 member => uint24 grantedBy)) private _gtinLicences;
    /// @dev The base of the ERC-721 metadata URIs (see {tokenURI}), set by the governor; added
    /// after release 0.6.0, last, as upgrades require (make upgrade-check).
    string private _baseURI;

    /// @param registry The identity registry that vouches for every actor.
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor(IIdentityRegistry registry) {
        if (address(registry) == address(0)) revert PassportZeroAddress();
        _registry = registry;
        // Locks the implementation: it governs itself, and only a proxy (whose storage starts
        // empty) is ever set up.
        _governor = address(this);
        emit GovernanceTransferred(address(0), address(this));
    }

    /// @inheritdoc IProductPassport
    function initialize(address initialGovernor, address initialGuardian) external {
        if (_governor != address(0)) revert PassportAlreadyInitialized();
        if (initialGovernor == address(0)) revert PassportZeroAddress();
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

    /// @inheritdoc IProductPassport
    function identityRegistry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IProductPassport
    function governor() external view returns (address) {
        return _governor;
    }

    /// @inheritdoc IProductPassport
    function transferGovernance(address newGovernor) external {
        _requireGovernor();
        _pendingGovernor = newGovernor;
        emit GovernanceTransferStarted(msg.sender, newGovernor);
    }

    /// @inheritdoc IProductPassport
    function acceptGovernance() external {
        if (msg.sender != _pendingGovernor || msg.sender == address(0)) revert PassportNotPendingGovernor(msg.sender);
        address previous = _governor;
        _governor = msg.sender;
        delete _pendingGovernor;
        emit GovernanceTransferred(previous, msg.sender);
    }

    /// @inheritdoc IProductPassport
    function guardian() external view returns (address) {
        return _guardian;
    }

    /// @inheritdoc IProductPassport
    function paused() external view returns (bool) {
        return _paused;
    }

    /// @inheritdoc IProductPassport
    function setGuardian(address newGuardian) external {
        _requireGovernor();
        emit GuardianSet(_guardian, newGuardian);
        _guardian = newGuardian;
    }

    /// @inheritdoc IProductPassport
    function pause() external {
        if (msg.sender != _guardian || msg.sender == address(0)) revert PassportNotGuardian(msg.sender);
        _requireNotPaused();
        _paused = true;
        emit Paused(msg.sender);
    }

    /// @inheritdoc IProductPassport
    function unpause() external {
        if (msg.sender != _governor) revert PassportNotGovernor(msg.sender);
        if (!_paused) revert PassportNotPaused();
        _paused = false;
        emit Unpaused(msg.sender);
    }

    /// @inheritdoc IProductPassport
    function setRoles(address account, uint8 roles) external {
        _requireGovernor();
        if (account == address(0)) revert PassportZeroAddress();
        Member storage member = _members[account];
        if (member.moved) _refuseMoved(account, member.number);
        member.roles = roles;
        if (member.number == 0) {
            uint24 number = ++_memberCount;
            member.number = number;
            _memberAccounts[number] = account;
        }
        emit RolesSet(account, roles);
    }

    /// @inheritdoc IProductPassport
    function rolesOf(address account) external view returns (uint8) {
        return _members[account].roles;
    }

    /// @inheritdoc IProductPassport
    function setBaseURI(string calldata newBaseURI) external {
        _requireGovernor();
        // Stored as Solidity stores a string (under 32 bytes: the bytes and length * 2 in the
        // slot; else length * 2 + 1 there and the bytes from keccak256(slot)), written here:
        // `_baseURI = newBaseURI` costs 548 bytes of code. Words of a longer URI set before
        // are left behind (never read: the length says where the string ends).
        // prettier-ignore
        assembly ("memory-safe") {
            let length := newBaseURI.length
            let slot := _baseURI.slot
            switch lt(length, 0x20)
            case 1 {
                sstore(slot, or(and(calldataload(newBaseURI.offset), not(shr(shl(3, length), not(0)))), shl(1, length)))
            }
            default {
                sstore(slot, add(shl(1, length), 1))
                mstore(0, slot)
                let to := keccak256(0, 0x20)
                for { let i := 0 } lt(i, length) { i := add(i, 0x20) } {
                    let word := calldataload(add(newBaseURI.offset, i))
                    if lt(sub(length, i), 0x20) { word := and(word, not(shr(shl(3, sub(length, i)), not(0)))) }
                    sstore(add(to, shr(5, i)), word)
                }
            }
        }
        emit BaseURISet(newBaseURI);
    }

    /*//////////////////////////////////////////////////////////////
                               PASSPORTS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IProductPassport
    function followMember(address account) external {
        _requireNotPaused();
        Member memory member = _members[account];
        if (member.number == 0) revert PassportNotMember(account);
        if (member.moved) _refuseMoved(account, member.number);
        address successor = _registry.successorOf(account);
        if (successor == address(0)) revert PassportNotMoved(account);
        if (_members[successor].number != 0) revert PassportMemberExists(successor);
        _members[successor] = Member(member.roles, member.number, false);
        _members[account] = Member(0, member.number, true);
        _memberAccounts[member.number] = successor;
        uint256 balance = _balances[account];
        if (balance != 0) {
            delete _balances[account];
            _balances[successor] += balance;
        }
        emit MemberFollowed(member.number, account, successor);
    }

    /*//////////////////////////////////////////////////////////////
                                 BRANDS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IProductPassport
    function registerPrefix(uint64 prefix, uint8 length, address licensee) external {
        _requireNotPaused();
        _authorize(REGISTRAR);
        uint64 key = _prefixKey(prefix, length);
        uint24 number = _memberNumber(licensee);
        Prefix storage record = _prefixes[key];
        if (record.licensee != 0) _refusePrefixTaken(prefix, length, record.licensee);
        if (record.nested != 0) revert PassportPrefixContainsRegistered(prefix, length, record.nested);
        // GS1 company prefixes never contain one another: no shorter one may be registered.
        for (uint8 shorter = 4; shorter < length; ++shorter) {
            uint64 head = uint64(prefix / 10 ** (length - shorter));
            Prefix storage outer = _prefixes[_prefixKey(head, shorter)];
            if (outer.licensee != 0) _refusePrefixTaken(head, shorter, outer.licensee);
            ++outer.nested;
        }
        record.licensee = number;
        emit PrefixRegistered(prefix, length, licensee, msg.sender);
    }

    /// @inheritdoc IProductPassport
    function revokePrefix(uint64 prefix, uint8 length) external {
        _authorize(REGISTRAR);
        uint64 key = _prefixKey(prefix, length);
        if (_prefixes[key].licensee == 0) _refuseUnregistered(prefix, length);
        for (uint8 shorter = 4; shorter < length; ++shorter) {
            --_prefixes[_prefixKey(uint64(prefix / 10 ** (length - shorter)), shorter)].nested;
        }
        _prefixes[key].licensee = 0;
        emit PrefixRevoked(prefix, length, msg.sender);
    }

    /// @inheritdoc IProductPassport
    function setLicence(uint64 prefix, uint8 length, uint64 gtin, address manufacturer, bool granted) external {
        if (granted) _requireNotPaused();
        Member memory brand = _authorize(0);
        uint64 key = _prefixKey(prefix, length);
        uint24 licensee = _prefixes[key].licensee;
        if (licensee == 0) _refuseUnregistered(prefix, length);
        if (licensee != brand.number) revert PassportNotBrand(prefix, length, _memberAccounts[licensee], msg.sender);
        if (gtin != 0 && (gtin >= 1e14 || ((gtin / 10) % _PREFIX_SPAN) / 10 ** (12 - length) != prefix)) {
            revert PassportNotUnderPrefix(gtin, prefix, length);
        }
        uint24 number = _memberNumber(manufacturer);
        uint24 grantedBy = granted ? licensee : 0;
        if (gtin == 0) _prefixLicences[key][number] = grantedBy;
        else _gtinLicences[gtin][number] = grantedBy;
        if (granted) emit LicenceGranted(prefix, length, gtin, manufacturer, msg.sender);
        else emit LicenceRevoked(prefix, length, gtin, manufacturer, msg.sender);
    }

    /// @inheritdoc IProductPassport
    function brandOf(uint64 gtin, bytes32 serial) public view returns (address brand, uint64 prefix, uint8 length) {
        (uint64 key, uint24 licensee) = _findPrefix(_prefixSource(gtin, serial));
        if (licensee == 0) return (address(0), 0, 0);
        return (_memberAccounts[licensee], uint64(key % _PREFIX_SPAN), uint8(key / _PREFIX_SPAN));
    }

    /// @inheritdoc IProductPassport
    function isLicensed(uint64 prefix, uint8 length, uint64 gtin, address manufacturer) external view returns (bool) {
        uint64 key = _prefixKey(prefix, length);
        uint24 licensee = _prefixes[key].licensee;
        uint24 number = _members[manufacturer].number;
        if (licensee == 0 || number == 0 || _members[manufacturer].moved) return false;
        return
            licensee == number
            || _prefixLicences[key][number] == licensee
            || (gtin != 0 && _gtinLicences[gtin][number] == licensee);
    }

    /*//////////////////////////////////////////////////////////////
                               PASSPORTS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IProductPassport
    function passportId(uint64 gtin, Kind kind, bytes32 serial) public pure returns (uint256) {
        // One GS1 key, one passport: a container is named by the same key as an item.
        return uint256(keccak256(abi.encode(gtin, kind == Kind.Container ? Kind.Item : kind, serial)));
    }

    /// @inheritdoc IProductPassport
    function commission(Key[] calldata keys, bytes32 metadataHash, string calldata metadataURI) external {
        _requireNotPaused();
        Member memory producer = _authorize(PRODUCER);
        if (keys.length == 0) revert PassportEmptyBatch();
        _mint(keys, producer.number, 0, bytes32(0));
        emit BatchCommissioned(msg.sender, keys.length, metadataHash, metadataURI);
    }

    /// @inheritdoc IProductPassport
    function recordEvents(Event[] calldata events) external {
        Member memory actor = _authorize(0);
        if (events.length == 0) revert PassportEmptyBatch();
        bool paused_ = _paused;
        for (uint256 i = 0; i < events.length; ++i) {
            // Paused, a recall still goes through: it takes trust away.
            if (paused_ && events[i].bizStep != BizStep.Recalling) revert PassportPaused();
            _recordEvent(events[i], actor.roles, actor.number);
        }
    }

    /// @inheritdoc IProductPassport
    function transform(
        bytes32 transformationId,
        uint256[] calldata inputs,
        Key[] calldata outputs,
        bytes32 metadataHash,
        string calldata metadataURI
    ) external {
        _requireNotPaused();
        Member memory producer = _authorize(PRODUCER);
        if (inputs.length == 0 && outputs.length == 0) revert PassportEmptyBatch();
        uint32 number = _transformationNumbers[transformationId];
        if (number == 0) {
            if (inputs.length == 0 || transformationId == bytes32(0)) revert PassportNoInputs(transformationId);
            number = ++_transformationCount;
            _transformationNumbers[transformationId] = number;
            // Field by field: the struct assigned whole costs 283 bytes of code more.
            Transformation storage created = _transformations[number];
            created.producer = producer.number;
            created.id = transformationId;
        } else {
            Transformation storage existing = _transformations[number];
            if (existing.producer != producer.number) {
                revert PassportNotItsTransformer(transformationId, _memberAccounts[existing.producer]);
            }
            if (inputs.length != 0 && existing.closed) revert PassportTransformationSealed(transformationId);
        }
        if (inputs.length != 0) _consume(transformationId, number, inputs);
        _mint(outputs, producer.number, number, transformationId);
        emit TransformationRecorded(
            transformationId,
            msg.sender,
            inputs.length,
            outputs.length,
            metadataHash,
            metadataURI
        );
    }

    /// @inheritdoc IProductPassport
    function pack(uint256 container, uint256[] calldata ids, bytes32 eventId) external {
        _requireNotPaused();
        _authorize(PRODUCER | CARRIER | RETAILER);
        if (ids.length == 0) revert PassportEmptyBatch();
        Passport storage outer = _existing(container);
        State outerState = _effectiveState(container, outer);
        if (outerState != State.Active) _refuseTransition(container, outerState, BizStep.Packing);
        address holder = _custodianOf(container, outer);
        if (holder != msg.sender) _refuseHolder(container, holder);
        for (uint256 i = 0; i < ids.length; ++i) {
            uint256 id = ids[i];
            Passport storage inner = _existing(id);
            if (inner.tier >= outer.tier || outer.kind != Kind.Container) {
                revert PassportCannotHold(container, outer.tier, id, inner.tier);
            }
            if (inner.packed) _refusePacked(id);
            State innerState = _effectiveState(id, inner);
            if (innerState != State.Active) _refuseTransition(id, innerState, BizStep.Packing);
            address innerHolder = _custodianOf(id, inner);
            if (innerHolder != holder) revert PassportHeldElsewhere(id, innerHolder, container, holder);
            inner.packed = true;
            _containers[id] = container;
            emit PassportPacked(id, container, msg.sender, eventId);
        }
    }

    /// @inheritdoc IProductPassport
    function unpack(uint256[] calldata ids, bytes32 eventId) external {
        _requireNotPaused();
        _authorize(PRODUCER | CARRIER | RETAILER);
        if (ids.length == 0) revert PassportEmptyBatch();
        for (uint256 i = 0; i < ids.length; ++i) {
            uint256 id = ids[i];
            Passport storage inner = _existing(id);
            if (!inner.packed) revert PassportNotPacked(id);
            uint256 container = _containers[id];
            Passport storage box = _passports[container];
            // The goods come out with whoever holds the container, who alone unpacks it.
            address holder = _custodianOf(container, box);
            if (holder != msg.sender) _refuseHolder(container, holder);
            // What comes out of a quarantined, sold or travelling container is so too, when
            // that outranks its own state (as in {effectiveState}); a recall of the container
            // passes on only to goods of the container's own producer: a producer recalls
            // its own goods (docs/passport-rules.md).
            State outer = _effectiveState(container, box);
            if (outer == State.Recalled && !_recallReaches(container, inner.producer)) outer = State.Active;
            uint8 own = _rank(inner.state);
            if (own != 0 && _rank(outer) > own) {
                inner.state = outer;
                if (outer == State.Sold) inner.flags |= _SOLD_ONCE;
                emit PassportStateInherited(id, container, msg.sender, outer);
            }
            inner.packed = false;
            delete _containers[id];
            address before = _custodianOf(id, inner);
            if (holder != before) {
                Custody storage custody = _custody[id];
                custody.custodian = holder;
                ++custody.nonce;
                inner.flags |= _CUSTODY_MOVED;
                emit CustodyTransferred(id, before, holder);
            }
            emit PassportUnpacked(id, container, msg.sender, eventId);
        }
    }

    /// @inheritdoc IProductPassport
    function acceptCustody(uint256 id, uint40 deadline, bytes calldata signature) external {
        _requireNotPaused();
        _authorize(0);
        Passport storage passport = _existing(id);
        if (passport.packed) _refusePacked(id);
        State state = passport.state;
        if (state == State.Decommissioned) _refuseInactive(id, state);
        if (_consumed(id, state)) _refuseInactive(id, State.Consumed);
        Custody storage custody = _custody[id];
        Custody memory current = custody;
        address from = current.custodian == address(0) ? passport.owner : current.custodian;
        if (block.timestamp > deadline) revert PassportOfferExpired(deadline);
        // The holder as stored, unless its identity moved: then the wallet it was followed
        // to (asked only then: a cold read saved on every ordinary handover).
        IIdentityRegistry.Standing standing = _registry.standingOf(from);
        if (standing == IIdentityRegistry.Standing.Moved) {
            from = _resolve(from);
            standing = _registry.standingOf(from);
        }
        if (from == msg.sender) _refuseCustodian(id, msg.sender);
        if (standing != IIdentityRegistry.Standing.Valid) revert PassportActorNotVerified(from, uint8(standing));
        bytes32 digest = SignatureCheck.typedDataHash(
            _domainSeparator(),
            keccak256(abi.encode(_CUSTODY_OFFER_TYPEHASH, id, from, msg.sender, current.nonce, deadline))
        );
        (SignatureCheck.Outcome outcome, address signer) = SignatureCheck.check(from, digest, signature);
        if (outcome == SignatureCheck.Outcome.Malleable) revert PassportMalleableSignature(bytes32(signature[32:64]));
        if (outcome != SignatureCheck.Outcome.Valid) revert PassportInvalidOffer(from, signer);
        custody.custodian = msg.sender;
        custody.nonce = current.nonce + 1;
        if (passport.flags & _CUSTODY_MOVED == 0) passport.flags |= _CUSTODY_MOVED;
        emit CustodyTransferred(id, from, msg.sender);
    }

    /// @inheritdoc IProductPassport
    function reclaimCustody(uint256 id) external {
        _requireNotPaused();
        Passport storage passport = _existing(id);
        if (passport.packed) _refusePacked(id);
        if (msg.sender != _resolve(passport.owner)) _refuseCaller(id);
        _requireVerified(msg.sender);
        Custody storage custody = _custody[id];
        address custodian = _resolve(custody.custodian);
        if (custody.custodian == address(0) || custodian == msg.sender) _refuseCustodian(id, msg.sender);
        if (_registry.standingOf(custodian) != IIdentityRegistry.Standing.Revoked) {
            revert PassportCustodianInForce(id, custodian);
        }
        _reassign(id, passport, custodian, msg.sender, bytes32(0));
    }

    /// @inheritdoc IProductPassport
    function repairCustody(uint256 id, address to, bytes32 reason) external {
        _requireGovernor();
        if (to == address(0)) revert PassportZeroAddress();
        if (reason == bytes32(0)) revert PassportNoReason();
        _requireCurrent(to);
        Passport storage passport = _existing(id);
        if (passport.packed) _refusePacked(id);
        address from = _custodianOf(id, passport);
        if (from == to) _refuseCustodian(id, to);
        _reassign(id, passport, from, to, reason);
    }

    /// @inheritdoc IProductPassport
    function cancelCustodyOffers(uint256 id) external {
        Passport storage passport = _existing(id);
        if (passport.packed) _refusePacked(id);
        if (msg.sender != _custodianOf(id, passport)) _refuseCaller(id);
        ++_custody[id].nonce;
        emit CustodyOffersCancelled(id, msg.sender);
    }

    /// @inheritdoc IProductPassport
    function passportOf(uint256 id) external view returns (Passport memory) {
        return _passports[id];
    }

    /// @inheritdoc IProductPassport
    function custodyOf(uint256 id) external view returns (Custody memory) {
        return _custody[id];
    }

    /// @inheritdoc IProductPassport
    function producerOf(uint256 id) external view returns (address) {
        return _memberAccounts[_existing(id).producer];
    }

    /// @inheritdoc IProductPassport
    function currentWalletOf(address account) external view returns (address) {
        return _resolve(account);
    }

    /// @inheritdoc IProductPassport
    function lineageOf(
        uint256 id
    ) external view returns (bytes32 transformationId, bool recalled, bytes32[] memory ancestors, bool grouped) {
        uint32 origin = _existing(id).origin;
        if (origin == 0) return (bytes32(0), false, ancestors, false);
        Transformation storage t = _transformations[origin];
        uint32[MAX_LINEAGE] storage list = _ancestors[origin];
        ancestors = new bytes32[](t.ancestorCount);
        for (uint256 i = 0; i < ancestors.length; ++i) {
            ancestors[i] = _transformations[list[i]].id;
        }
        return (t.id, _lineageRecalled(origin), ancestors, t.group != 0);
    }

    /// @inheritdoc IProductPassport
    function verdictOf(uint256 id) external view returns (Verdict memory verdict) {
        Passport storage passport = _passports[id];
        if (passport.state == State.None) return verdict;
        // Genuine: commissioned here, which took a licensed, verified producer at the time.
        // Whether that producer stands verified today is told beside it, and never undoes it.
        verdict.genuine = true;
        verdict.state = _effectiveState(id, passport);
        // Sold once: the passport's own fact, or one of its containers' while it is inside.
        bool sold = passport.flags & _SOLD_ONCE != 0 || verdict.state == State.Sold;
        Passport storage outer = passport;
        uint256 at = id;
        for (uint256 level = 0; level < _MAX_TIER && outer.packed && !sold; ++level) {
            at = _containers[at];
            outer = _passports[at];
            sold = outer.flags & _SOLD_ONCE != 0;
        }
        verdict.soldOnce = sold;
        verdict.producer = _memberAccounts[passport.producer];
        verdict.producerStanding = _registry.standingOf(verdict.producer);
        verdict.custodian = _custodianOf(id, passport);
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

    /// @inheritdoc IProductPassport
    function containerOf(uint256 id) external view returns (uint256) {
        return _containers[id];
    }

    /// @inheritdoc IProductPassport
    function goodsOf(uint256[] calldata ids) external view returns (bytes32[] memory goods) {
        goods = new bytes32[](ids.length);
        for (uint256 i = 0; i < goods.length; ++i) {
            uint256 id;
            // prettier-ignore
            assembly ("memory-safe") { id := calldataload(add(ids.offset, shl(5, i))) }
            Passport storage passport = _passports[id];
            address custodian = _custodianOf(id, passport);
            State state = _effectiveState(id, passport);
            // prettier-ignore
            assembly ("memory-safe") {
                // The record's own tier and packed bytes (bits 176-191 of its slot, warm) as they are.
                mstore(add(goods, shl(5, add(i, 1))), or(or(custodian, shl(160, state)), and(sload(passport.slot), shl(176, 0xffff))))
            }
        }
    }

    /// @inheritdoc IProductPassport
    function effectiveState(uint256 id) external view returns (State) {
        return _effectiveState(id, _passports[id]);
    }

    /// @inheritdoc IProductPassport
    function version() external pure returns (string memory) {
        return "0.7.0";
    }

    /*//////////////////////////////////////////////////////////////
                                ERC-721
    //////////////////////////////////////////////////////////////*/

    /// @notice ERC-165: ERC-165 and ERC-721.
    /// @param interfaceId The interface to ask about.
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == 0x01ffc9a7 || interfaceId == 0x80ac58cd || interfaceId == 0x5b5e139f;
    }

    /// @notice ERC-721 Metadata: the collection's name.
    function name() external pure returns (string memory) {
        return "chainpass Product Passport";
    }

    /// @notice ERC-721 Metadata: the collection's symbol.
    function symbol() external pure returns (string memory) {
        return "PASSPORT";
    }

    /// @notice ERC-721 Metadata: where passport `id`'s metadata JSON is: the base URI the
    /// governor set ({setBaseURI}) followed by the id as `0x` and 64 lower-case hex digits
    /// (the form chainpass prints, always the same length); the empty string while no base
    /// URI is set. Reverts {PassportUnknown} for an id never commissioned.
    /// @param id The passport.
    function tokenURI(uint256 id) external view returns (string memory) {
        _existing(id);
        return _metadataURI(id);
    }

    /// @notice ERC-721: how many passports `owner` owns.
    /// @param owner The owner.
    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) revert PassportZeroAddress();
        return _balances[owner];
    }

    /// @notice ERC-721: the owner of passport `id`.
    /// @param id The passport.
    function ownerOf(uint256 id) public view returns (address) {
        return _resolve(_existing(id).owner);
    }

    /// @notice ERC-721: lets `approved` transfer passport `id`.
    /// @param approved The approved account (zero clears).
    /// @param id The passport.
    function approve(address approved, uint256 id) external {
        _requireNotPaused();
        address owner = ownerOf(id);
        if (msg.sender != owner && !_operators[owner][msg.sender]) _refuseCaller(id);
        _approvals[id][owner] = approved;
        emit Approval(owner, approved, id);
    }

    /// @notice ERC-721: the account approved for passport `id`.
    /// @param id The passport.
    function getApproved(uint256 id) external view returns (address) {
        return _approvals[id][ownerOf(id)];
    }

    /// @notice ERC-721: lets `operator` transfer all of the caller's passports.
    /// @param operator The operator.
    /// @param approved Whether it may.
    function setApprovalForAll(address operator, bool approved) external {
        _requireNotPaused();
        _operators[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    /// @notice ERC-721: whether `operator` may transfer all of `owner`'s passports.
    /// @param owner The owner.
    /// @param operator The operator.
    function isApprovedForAll(address owner, address operator) external view returns (bool) {
        return _operators[owner][operator];
    }

    /// @notice ERC-721: transfers passport `id` from `from` to `to`: the title, not the goods,
    /// which stay with whoever holds them (see {goodsOf}).
    /// @param from The owner.
    /// @param to The new owner.
    /// @param id The passport.
    function transferFrom(address from, address to, uint256 id) public {
        _requireNotPaused();
        Passport storage passport = _existing(id);
        address owner = _resolve(passport.owner);
        if (owner != from) revert PassportWrongOwner(id, owner);
        if (!_isOwnerOrApproved(owner, id)) _refuseCaller(id);
        if (to == address(0)) _refuseReceiver(to);
        _requireCurrent(to);
        State state = passport.state;
        if (state == State.Decommissioned) _refuseInactive(id, state);
        if (_consumed(id, state)) _refuseInactive(id, State.Consumed);
        delete _approvals[id][owner];
        // The seller still holds the goods until someone accepts custody of them.
        if (!passport.packed && _custody[id].custodian == address(0)) {
            _custody[id].custodian = from;
            passport.flags |= _CUSTODY_MOVED;
        }
        unchecked {
            _balances[from] -= 1;
            _balances[to] += 1;
        }
        passport.owner = to;
        emit Transfer(from, to, id);
    }

    /// @notice ERC-721: a transfer that checks the receiver accepts passports.
    /// @param from The owner.
    /// @param to The new owner.
    /// @param id The passport.
    function safeTransferFrom(address from, address to, uint256 id) external {
        safeTransferFrom(from, to, id, "");
    }

    /// @notice ERC-721: a transfer that checks the receiver accepts passports.
    /// @param from The owner.
    /// @param to The new owner.
    /// @param id The passport.
    /// @param data Passed on to the receiver.
    function safeTransferFrom(address from, address to, uint256 id, bytes memory data) public {
        transferFrom(from, to, id);
        if (to.code.length != 0) {
            try IERC721Receiver(to).onERC721Received(msg.sender, from, id, data) returns (bytes4 answer) {
                if (answer != IERC721Receiver.onERC721Received.selector) _refuseReceiver(to);
            } catch {
                _refuseReceiver(to);
            }
        }
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev Reverts unless the caller holds one of `anyOf` roles (any role if 0) and has
    /// an identity in force in the registry; returns the caller's membership.
    function _authorize(uint8 anyOf) private view returns (Member memory member) {
        member = _members[msg.sender];
        uint8 roles = member.roles;
        if (roles == 0 || (anyOf != 0 && roles & anyOf == 0)) {
            if (member.moved) _refuseMoved(msg.sender, member.number);
            revert PassportMissingRole(msg.sender, anyOf);
        }
        _requireVerified(msg.sender);
    }

    // The refusals below are shared by several functions: each is called on its refusal's
    // branch only (the checks stay inline, costing no gas), so that its encoding is in the
    // code once (docs/gas.md: the base URI's bytes were found here).

    /// @dev Reverts unless the caller is the governor.
    function _requireGovernor() private view {
        if (msg.sender != _governor) revert PassportNotGovernor(msg.sender);
    }

    /// @dev Reverts {PassportMemberMoved}: wallet `account` of organisation `number` was followed away from.
    function _refuseMoved(address account, uint24 number) private view {
        revert PassportMemberMoved(account, _memberAccounts[number]);
    }

    /// @dev Reverts {PassportInContainer}: passport `id` is packed.
    function _refusePacked(uint256 id) private view {
        revert PassportInContainer(id, _containers[id]);
    }

    /// @dev Reverts {PassportNotHolder}: `holder`, not the caller, holds passport `id`'s goods.
    function _refuseHolder(uint256 id, address holder) private view {
        revert PassportNotHolder(id, holder, msg.sender);
    }

    /// @dev Reverts {PassportInvalidTransition}: passport `id` in `state` cannot take `step`.
    function _refuseTransition(uint256 id, State state, BizStep step) private pure {
        revert PassportInvalidTransition(id, state, step);
    }

    /// @dev Reverts {PassportInactive}: passport `id` is `state` (decommissioned or consumed).
    function _refuseInactive(uint256 id, State state) private pure {
        revert PassportInactive(id, state);
    }

    /// @dev Reverts {PassportInvalidDisposition}: `step` does not take `rule`'s disposition.
    function _refuseDisposition(BizStep step, uint256 rule) private pure {
        revert PassportInvalidDisposition(step, _ruleDisposition(rule));
    }

    /// @dev Reverts {PassportPrefixTaken}: prefix `prefix` of `length` digits is `licensee`'s.
    function _refusePrefixTaken(uint64 prefix, uint8 length, uint24 licensee) private view {
        revert PassportPrefixTaken(prefix, length, _memberAccounts[licensee]);
    }

    /// @dev Reverts {PassportAlreadyCustodian}: `account` holds passport `id`'s goods already.
    function _refuseCustodian(uint256 id, address account) private pure {
        revert PassportAlreadyCustodian(id, account);
    }

    /// @dev Reverts {PassportPrefixNotRegistered}: prefix `prefix` of `length` digits is not registered.
    function _refuseUnregistered(uint64 prefix, uint8 length) private pure {
        revert PassportPrefixNotRegistered(prefix, length);
    }

    /// @dev Reverts {PassportInvalidReceiver}: `to` cannot receive passports.
    function _refuseReceiver(address to) private pure {
        revert PassportInvalidReceiver(to);
    }

    /// @dev Reverts {PassportNotOwnerNorApproved} for the caller and passport `id`.
    function _refuseCaller(uint256 id) private view {
        revert PassportNotOwnerNorApproved(msg.sender, id);
    }

    /// @dev Refuses the writes that add trust while paused (see {paused}).
    function _requireNotPaused() private view {
        if (_paused) revert PassportPaused();
    }

    /// @dev The wallet an organisation's stored wallet `account` stands for now (see
    /// {followMember}); any other account stands for itself.
    function _resolve(address account) private view returns (address) {
        Member memory member = _members[account];
        return member.moved ? _memberAccounts[member.number] : account;
    }

    /// @dev Reverts if `account` is a wallet an organisation was followed away from: title
    /// or goods given to it would land on a wallet nobody acts with any more.
    function _requireCurrent(address account) private view {
        Member memory member = _members[account];
        if (member.moved) _refuseMoved(account, member.number);
    }

    /// @dev The member number of organisation `account`, which must be known and current.
    function _memberNumber(address account) private view returns (uint24 number) {
        Member memory member = _members[account];
        if (member.moved) _refuseMoved(account, member.number);
        number = member.number;
        if (number == 0) revert PassportNotMember(account);
    }

    /// @dev Hands passport `id`'s goods from `from` to `to` outside a signed offer.
    function _reassign(uint256 id, Passport storage passport, address from, address to, bytes32 reason) private {
        Custody storage custody = _custody[id];
        custody.custodian = to;
        ++custody.nonce;
        passport.flags |= _CUSTODY_MOVED;
        emit CustodyReassigned(id, msg.sender, reason);
        emit CustodyTransferred(id, from, to);
    }

    /// @dev The storage key of GS1 company prefix `prefix` of `length` digits.
    function _prefixKey(uint64 prefix, uint8 length) private pure returns (uint64) {
        if (length < 4 || length > 12 || prefix >= 10 ** length) revert PassportInvalidPrefix(prefix, length);
        return uint64(length * _PREFIX_SPAN + prefix);
    }

    /// @dev Where a code's company prefix lies: its first (up to 12) digits after the
    /// indicator or extension digit, as `digits << 8 | count`. A GTIN-14's digits 2-13;
    /// an SSCC's ("00" + extension digit + ...) and a GIAI's ("8004" + ...) leading digits.
    function _prefixSource(uint64 gtin, bytes32 serial) private pure returns (uint256) {
        if (gtin != 0) return (((gtin / 10) % _PREFIX_SPAN) << 8) | 12;
        uint256 start = bytes2(serial) == "00" ? 3 : 4;
        uint256 value;
        uint256 count;
        for (; count < 12; ++count) {
            uint8 c = uint8(serial[start + count]);
            if (c < 0x30 || c > 0x39) break;
            value = value * 10 + (c - 0x30);
        }
        return (value << 8) | count;
    }

    /// @dev The registered prefix that `source` (from {_prefixSource}) begins with, if any.
    function _findPrefix(uint256 source) private view returns (uint64 key, uint24 licensee) {
        uint256 count = source & 0xff;
        uint256 digits = source >> 8;
        for (uint256 i = 0; i < 9; ++i) {
            uint256 length = uint8(_PREFIX_LENGTHS[i]);
            if (length > count) continue;
            key = uint64(length * _PREFIX_SPAN + digits / 10 ** (count - length));
            licensee = _prefixes[key].licensee;
            if (licensee != 0) return (key, licensee);
        }
        return (0, 0);
    }

    /// @dev Reverts unless member `producer` may commission `key`: its prefix is registered,
    /// and `producer` is its licensee or holds the licensee's licence for it or its GTIN.
    function _checkLicence(Key calldata key, uint256 source, uint24 producer) private view {
        (uint64 prefixKey, uint24 licensee) = _findPrefix(source);
        if (licensee == 0) revert PassportUnregisteredPrefix(key.gtin, key.serial);
        if (
            licensee != producer
            && _prefixLicences[prefixKey][producer] != licensee
            && (key.gtin == 0 || _gtinLicences[key.gtin][producer] != licensee)
        ) {
            revert PassportNotLicensed(key.gtin, key.serial, _memberAccounts[licensee], msg.sender);
        }
    }

    function _requireVerified(address account) private view {
        IIdentityRegistry.Standing standing = _registry.standingOf(account);
        if (standing != IIdentityRegistry.Standing.Valid) revert PassportActorNotVerified(account, uint8(standing));
    }

    function _isOwnerOrApproved(address owner, uint256 id) private view returns (bool) {
        if (msg.sender == owner) return true;
        if (_approvals[id][owner] != msg.sender && !_operators[owner][msg.sender]) return false;
        // An approval made out to an organisation's wallet dies with that wallet's key when the
        // organisation is followed to a new one (a lost or stolen key keeps no power).
        return !_members[msg.sender].moved;
    }

    /// @dev The base URI followed, unless it is empty, by `id` as `0x` and 64 lower-case hex
    /// digits. Read as Solidity stores a string (see {setBaseURI}).
    function _metadataURI(uint256 id) private view returns (string memory uri) {
        // prettier-ignore
        assembly ("memory-safe") {
            uri := mload(0x40)
            let data := add(uri, 0x20)
            let word := sload(_baseURI.slot)
            let length := shr(1, and(word, 0xff))
            switch and(word, 1)
            case 0 { mstore(data, and(word, not(0xff))) }
            default {
                length := shr(1, word)
                mstore(0, _baseURI.slot)
                let from := keccak256(0, 0x20)
                for { let i := 0 } lt(i, length) { i := add(i, 0x20) } {
                    mstore(add(data, i), sload(add(from, shr(5, i))))
                }
            }
            if length {
                // "0x" and the id's 64 nibbles, each one byte of "0123456789abcdef".
                let at := add(data, length)
                mstore(at, "0x")
                for { let i := 0 } lt(i, 64) { i := add(i, 1) } {
                    mstore8(add(at, add(2, i)), byte(and(shr(sub(252, shl(2, i)), id), 0xf), "0123456789abcdef"))
                }
                length := add(length, 66)
            }
            mstore(uri, length)
            mstore(add(data, length), 0)
            mstore(0x40, and(add(add(data, length), 0x3f), not(0x1f)))
        }
    }

    /// @dev Computed on every use: `address(this)` is the proxy's (a separator cached by
    /// the implementation's constructor would name the implementation).
    function _domainSeparator() private view returns (bytes32) {
        return SignatureCheck.domainSeparator(_NAME_HASH, _VERSION_HASH, address(this));
    }

    /// @dev Commissions one passport per key for the caller; `origin` is the transformation
    /// that produced them (0 for none), whose id is `transformationId`.
    function _mint(Key[] calldata keys, uint24 producer, uint32 origin, bytes32 transformationId) private {
        uint256 count = keys.length;
        // A batch is mostly one GTIN: its licence is looked up once (the memo is the GTIN,
        // or the prefix digits of another key, with the top bit set).
        uint256 checked;
        for (uint256 i = 0; i < count; ++i) {
            Key calldata key = keys[i];
            _checkKey(key, origin != 0);
            uint256 source = key.gtin != 0 ? key.gtin : _prefixSource(0, key.serial) | (1 << 255);
            if (source != checked) {
                _checkLicence(key, key.gtin != 0 ? _prefixSource(key.gtin, 0) : source & ~uint256(1 << 255), producer);
                checked = source;
            }
            Kind kind = key.kind;
            uint256 id = passportId(key.gtin, kind, key.serial);
            Passport storage passport = _passports[id];
            // The slot read and written whole, laid out as in {_setState}: owner, kind, state
            // Active, tier, not packed, producer, origin, no flags. The struct assigned whole
            // writes the slot once per field: this saves 2,204 gas per passport in a batch of
            // 100 (make bench, 2026-12-04).
            uint256 word;
            assembly ("memory-safe") {
                word := sload(passport.slot)
            }
            if (word != 0) revert PassportExists(id);
            word =
                uint256(uint160(msg.sender))
                | (uint256(kind) << 160)
                | (uint256(State.Active) << 168)
                | (uint256(key.tier) << 176)
                | (uint256(producer) << 192)
                | (uint256(origin) << 216);
            assembly ("memory-safe") {
                sstore(passport.slot, word)
            }
            emit Transfer(address(0), msg.sender, id);
            emit PassportCommissioned(id, key.gtin, key.serial);
            if (origin != 0) emit PassportProduced(id, transformationId, msg.sender);
        }
        _balances[msg.sender] += count;
    }

    /// @dev Consumes `inputs` into transformation `number` and adds their lineage to its own:
    /// each input's origin and the ancestors it lists into the list while it has room, into
    /// the recall group beyond; the origin's recall group merged into it.
    function _consume(bytes32 transformationId, uint32 number, uint256[] calldata inputs) private {
        Transformation storage t = _transformations[number];
        uint32[MAX_LINEAGE] storage list = _ancestors[number];
        uint256 count = t.ancestorCount;
        for (uint256 i = 0; i < inputs.length; ++i) {
            uint256 id = inputs[i];
            Passport storage input = _existing(id);
            if (!_isOwnerOrApproved(_resolve(input.owner), id)) _refuseCaller(id);
            State state = _effectiveState(id, input);
            if (state != State.Active || input.packed || input.kind == Kind.Container) {
                revert PassportNotConsumable(id, state);
            }
            address holder = _custodianOf(id, input);
            if (holder != msg.sender) _refuseHolder(id, holder);
            input.state = State.Consumed;
            _consumedBy[id] = number;
            uint32 origin = input.origin;
            if (origin != 0) {
                if (origin == number) revert PassportOwnOutput(id, transformationId);
                // Its lineage is now copied into this one: the origin must take no more inputs.
                Transformation storage before = _transformations[origin];
                uint256 inheritedCount = before.ancestorCount;
                uint32 inheritedGroup = before.group;
                before.closed = true;
                count = _addAncestor(t, list, count, origin);
                uint32[MAX_LINEAGE] storage inherited = _ancestors[origin];
                for (uint256 k = 0; k < inheritedCount; ++k) {
                    count = _addAncestor(t, list, count, inherited[k]);
                }
                if (inheritedGroup != 0) _join(t, inheritedGroup);
            }
            emit PassportConsumed(id, transformationId, msg.sender);
        }
        t.ancestorCount = uint8(count);
    }

    /// @dev Appends `ancestor` to `list` (of `count` entries, `t`'s) unless it is there, or,
    /// the list full, merges it into `t`'s recall group; returns the new count.
    function _addAncestor(
        Transformation storage t,
        uint32[MAX_LINEAGE] storage list,
        uint256 count,
        uint32 ancestor
    ) private returns (uint256) {
        for (uint256 i = 0; i < count; ++i) {
            if (list[i] == ancestor) return count;
        }
        if (count == MAX_LINEAGE) {
            _join(t, ancestor);
            return count;
        }
        list[count] = ancestor;
        return count + 1;
    }

    /// @dev Puts `member`'s recall group (`member` alone if in none) into `t`'s: it becomes
    /// `t`'s group if `t` has none (nothing written to it), else the two are merged by rank.
    function _join(Transformation storage t, uint32 member) private {
        uint32 group = t.group;
        if (group == 0) {
            t.group = member;
            return;
        }
        uint32 a = _root(group);
        uint32 b = _root(member);
        if (a == b) return;
        Transformation storage ra = _transformations[a];
        Transformation storage rb = _transformations[b];
        if (ra.rank < rb.rank) (a, ra, rb) = (b, rb, ra);
        else if (ra.rank == rb.rank) {
            unchecked {
                ++ra.rank;
            }
        }
        rb.parent = a;
        if (rb.recalled || rb.groupRecalled) ra.groupRecalled = true;
    }

    /// @dev The root of transformation `number`'s recall group (itself if in none), at most
    /// log2(transformations) hops up: a root's rank only grows by merging an equal rank.
    function _root(uint32 number) private view returns (uint32) {
        while (true) {
            uint32 up = _transformations[number].parent;
            if (up == 0) return number;
            number = up;
        }
    }

    function _checkKey(Key calldata key, bool produced) private pure {
        bool container = key.kind == Kind.Container;
        bool validTier = container ? key.tier >= 1 && key.tier <= _MAX_TIER : key.tier == 0;
        if (
            key.kind == Kind.None
            || !validTier
            || key.serial == bytes32(0)
            || key.gtin >= 1e14
            || (key.gtin == 0 && !_isOtherKey(key.kind, key.serial))
            || (produced && container)
        ) {
            revert PassportInvalidKey(key.gtin, key.serial);
        }
    }

    /// @dev Whether a key with GTIN 0 carries another GS1 key in `serial`: a container an
    /// SSCC ("00" + 18 digits), an item a GIAI ("8004" + the GIAI); never a lot.
    function _isOtherKey(Kind kind, bytes32 serial) private pure returns (bool) {
        if (kind == Kind.Container) return bytes2(serial) == "00";
        return kind == Kind.Item && bytes4(serial) == "8004";
    }

    function _existing(uint256 id) private view returns (Passport storage passport) {
        passport = _passports[id];
        if (passport.state == State.None) revert PassportUnknown(id);
    }

    /// @dev Records event `e` on each of its passports, for the caller with `roles` and
    /// member number `actor`.
    function _recordEvent(Event calldata e, uint8 roles, uint24 actor) private {
        uint256 count = e.ids.length;
        if (count == 0) revert PassportEmptyBatch();
        if (e.eventTime > block.timestamp + MAX_CLOCK_SKEW) revert PassportEventInFuture(e.eventTime, block.timestamp);
        BizStep step = e.bizStep;
        Disposition disposition = e.disposition;
        uint256 rule = _ruleOf(uint256(step), uint256(disposition));
        // Observations take any role (the holder's relation is checked per passport), but
        // a regulator's step under way takes the regulator's role; a lifecycle step the
        // caller lacks the role for is refused on each passport, after the checks of its
        // state. A food-safety authority recalls any product.
        uint256 needed = _ruleRoles(rule);
        if (_isRegulated(uint256(step))) {
            // A regulator acts in its step on any passport; the holder records the step
            // under way (inspecting in_progress: its own quality check) as an observation.
            needed = step == BizStep.Inspecting ? INSPECTOR : CUSTOMS;
            if (roles & needed != 0) rule |= _AS_REGULATOR;
            else if (rule & _OBSERVATION != 0) needed = 0;
        } else if (rule & _OBSERVATION != 0 || (step == BizStep.Recalling && roles & FOOD_SAFETY != 0)) {
            needed = 0;
        }
        if (needed != 0 && roles & needed == 0) rule |= _MISSING_ROLE | (needed << 8);
        for (uint256 j = 0; j < count; ++j) {
            uint256 id = e.ids[j];
            _record(id, step, rule, actor, roles);
            emit PassportEventRecorded(
                id,
                msg.sender,
                e.eventId,
                step,
                disposition,
                e.eventTime,
                e.readPoint,
                e.documentHash
            );
        }
    }

    /// @dev Applies one event's lifecycle rule (`rule`, from {_ruleOf}) to passport `id`:
    /// who may record it (the caller, member `actor` with `roles`), from which state, to which.
    function _record(uint256 id, BizStep step, uint256 rule, uint24 actor, uint8 roles) private {
        Passport storage passport = _passports[id];
        State own = passport.state;
        if (own == State.None) revert PassportUnknown(id);
        bool packed = passport.packed;
        // A consumed input lives on in what was made from it: only a recall reaches it, and
        // after its recall nothing more does.
        if (_consumed(id, own) && step != BizStep.Recalling) {
            _refuseTransition(id, State.Consumed, step);
        }
        State current = _effectiveState(id, own, passport.origin, packed);
        if (current == State.Decommissioned) _refuseTransition(id, current, step);
        uint256 next;
        if (rule & _OBSERVATION != 0) {
            // An observation: any state; the disposition's class decides the next one, from
            // the passport's own state (a container's or an ancestor's state is theirs).
            uint256 class = _ruleClass(rule);
            next = _observedState(class, own);
            if (next == 0) _refuseDisposition(step, rule);
            // Packed goods travel and arrive with their container, and a regulator's step under
            // way moves no goods it does not hold: a usable or in-transit disposition then leaves
            // the passport's own state as it is (a quarantining one still applies).
            if (class <= 2 && (packed || rule & _AS_REGULATOR != 0)) next = uint256(own);
        } else {
            // Commissioning, packing and unpacking have functions of their own: no from-states.
            if (!_ruleRecordsFrom(rule, current)) _refuseTransition(id, current, step);
            if (rule & _WRONG_CLASS != 0) _refuseDisposition(step, rule);
            next = _ruleNextState(rule);
        }
        if (rule & _MISSING_ROLE != 0) revert PassportMissingRole(msg.sender, uint8(_ruleRoles(rule)));
        if (_ruleRefusesDisposition(rule)) _refuseDisposition(step, rule);
        if (packed && rule & _MOVES != 0) _refusePacked(id);
        // Who may (docs/passport-rules.md): a regulator in its own step, the producer or a
        // food-safety authority to recall, and otherwise only whoever holds the goods.
        if (step == BizStep.Recalling) {
            uint24 producer = passport.producer;
            if (producer != actor && roles & FOOD_SAFETY == 0) {
                revert PassportNotItsProducer(id, _memberAccounts[producer]);
            }
            if (own == State.Consumed) {
                Transformation storage t = _transformations[_consumedBy[id]];
                uint32 up = t.parent;
                t.recalled = true;
                // In a recall group: its root's flag too (a root's own flag counts for its group).
                if (up != 0) _transformations[_root(up)].groupRecalled = true;
                emit TransformationRecalled(t.id, id);
            }
        } else if (rule & _AS_REGULATOR == 0) {
            // The holder: its outermost container's if packed, else its custodian if custody
            // ever moved, else its owner; an organisation followed by its wallet.
            address holder;
            if (packed) holder = _custodianOf(id, passport);
            else if (passport.flags & _CUSTODY_MOVED != 0) holder = _custody[id].custodian;
            else holder = passport.owner;
            if (holder != msg.sender) {
                holder = _resolve(holder);
                if (holder != msg.sender) _refuseHolder(id, holder);
            }
        }
        if (next != uint256(own)) {
            // A sale kept as a fact in the flags, which nothing clears; so is a recall ordered
            // by someone other than the producer.
            uint256 flags = next == uint256(State.Sold) ? _SOLD_ONCE : 0;
            if (step == BizStep.Recalling && passport.producer != actor) flags |= _ORDERED_RECALL;
            _setState(passport, next, flags);
        }
    }

    /// @dev Sets `passport`'s state to `state` and adds `flags` to its flags, in one write of
    /// its slot. In plain Solidity (`passport.state = State(state)`, then `passport.flags |=
    /// uint8(flags)`) each field is read and written again: this saves 142 gas per passport
    /// an event moves, 588 on a recall that also sets a flag (make bench, 2026-12-04).
    /// The slot's layout is {Passport}'s, from the right: owner (bits 0-159), kind (160),
    /// state (168), tier (176), packed (184), producer (192), origin (216), flags (248).
    function _setState(Passport storage passport, uint256 state, uint256 flags) private {
        assembly ("memory-safe") {
            let word := sload(passport.slot)
            sstore(passport.slot, or(or(and(word, not(shl(168, 0xff))), shl(168, state)), shl(248, flags)))
        }
    }

    /*//////////////////////////////////////////////////////////////
                            LIFECYCLE RULES
    //////////////////////////////////////////////////////////////*/

    /// @dev The rule of `step` with `disposition` (by number), read once per event from the
    /// rule tables (through the readers below) and packed in one word: bits 0-31 the step's
    /// lane of _STEP_RULES_* (its next state filled in from the disposition's class where the
    /// lane leaves it 0), 32-35 the disposition's class, flags {_OBSERVATION}, {_WRONG_CLASS}
    /// and {_MOVES} (bits 40-42; {_MISSING_ROLE}, bit 43, is the caller's), 48-55 the step and
    /// 56-63 the disposition. The `_rule*` functions read its fields.
    function _ruleOf(uint256 step, uint256 disposition) private pure returns (uint256 rule) {
        // A lifecycle step with a fixed next state (the most recorded) costs one lane read.
        uint256 lane = _stepRule(step);
        rule = (step << 48) | (disposition << 56) | lane;
        if (_movesGoods(step)) rule |= _MOVES;
        if (lane & 0xff0000 != 0) return rule;
        // An observation, a step with a function of its own (no from-states), or a step whose
        // disposition's class gives the next state.
        uint256 class_ = _classOf(disposition);
        if (_isObservation(step, disposition)) return (rule & ~uint256(0xffffffff)) | _OBSERVATION | (class_ << 32);
        if (lane == 0) return rule;
        if (_stepTakesClass(step, class_)) rule |= _stateOfClass(class_) << 16;
        else rule |= _WRONG_CLASS;
    }

    // The fields of a rule from {_ruleOf}, read where the rule is applied.

    /// @dev Whether `rule` records its step on a passport in `state`: bit `state` of bits 0-7.
    function _ruleRecordsFrom(uint256 rule, State state) private pure returns (bool) {
        return (rule >> uint256(state)) & 1 != 0;
    }

    /// @dev The roles that record `rule`'s step (one of them): bits 8-15.
    function _ruleRoles(uint256 rule) private pure returns (uint256) {
        return (rule >> 8) & 0xff;
    }

    /// @dev The state `rule`'s lifecycle step leaves: bits 16-23.
    function _ruleNextState(uint256 rule) private pure returns (uint256) {
        return (rule >> 16) & 0xff;
    }

    /// @dev Whether the event's disposition (bits 56-63) is not the one disposition `rule`'s
    /// lifecycle step takes (bits 24-31; 0: any of its classes).
    function _ruleRefusesDisposition(uint256 rule) private pure returns (bool) {
        uint256 only = (rule >> 24) & 0xff;
        return only != 0 && (rule >> 56) & 0xff != only;
    }

    /// @dev The class of the event's disposition, for an observation: bits 32-35.
    function _ruleClass(uint256 rule) private pure returns (uint256) {
        return (rule >> 32) & 0xf;
    }

    /// @dev The event's disposition: bits 56-63.
    function _ruleDisposition(uint256 rule) private pure returns (Disposition) {
        return Disposition(uint8(rule >> 56));
    }

    // One reader per packed constant of the rule tables (scripts/rule_tables.py writes them):
    // a shift and a mask each, which the optimizer inlines where they are used. Steps and
    // dispositions are passed by number: an enum converted back costs a range check each.

    /// @dev The lifecycle rule of `step`: lane `step % 8` (32 bits, from the right) of
    /// _STEP_RULES_0 (steps 0-7), _STEP_RULES_1 (8-15) or _STEP_RULES_2 (16-23); 0 after.
    /// Bits 0-7 the states it is recorded from (a bit per State; none: not a lifecycle step),
    /// 8-15 the roles that record it, 16-23 the state it leaves (0: its disposition's class
    /// gives it), 24-31 the one disposition it takes (0: any of its classes, {_stepTakesClass}).
    function _stepRule(uint256 step) private pure returns (uint256) {
        uint256 word =
            step < 8
                ? _STEP_RULES_0
                : step < 16
                    ? _STEP_RULES_1
                    : step < 24
                        ? _STEP_RULES_2
                        : 0;
        return (word >> ((step & 7) << 5)) & 0xffffffff;
    }

    /// @dev Whether lifecycle step `step` takes a disposition of class `class_`: bit `class_`
    /// of byte `step` of _STEP_CLASSES.
    function _stepTakesClass(uint256 step, uint256 class_) private pure returns (bool) {
        return (_STEP_CLASSES >> ((step << 3) | class_)) & 1 != 0;
    }

    /// @dev The class of `disposition`: nibble `disposition` of _DISPOSITION_CLASS (0 none,
    /// 1 usable, 2 in transit, 3 quarantining, 4 conformant, 5 state-neutral, 6 only
    /// recorded by its own step).
    function _classOf(uint256 disposition) private pure returns (uint256) {
        return (_DISPOSITION_CLASS >> (disposition << 2)) & 0xf;
    }

    /// @dev The state a lifecycle step leaves when its disposition's class `class_` decides
    /// it: nibble `class_` of _CLASS_STATE.
    function _stateOfClass(uint256 class_) private pure returns (uint256) {
        return (_CLASS_STATE >> (class_ << 2)) & 0xf;
    }

    /// @dev The state an observation with a disposition of class `class_` leaves a passport
    /// in `state` in (0: refused): nibble `class_ * 8 + state` of _OBSERVED_NEXT.
    function _observedState(uint256 class_, State state) private pure returns (uint256) {
        return (_OBSERVED_NEXT >> (((class_ << 3) | uint256(state)) << 2)) & 0xf;
    }

    /// @dev Whether `step` with `disposition` is an observation: bit `step` of _OBSERVATIONS,
    /// or a lifecycle step under way (bit `step` of _UNDER_WAY) with disposition InProgress.
    function _isObservation(uint256 step, uint256 disposition) private pure returns (bool) {
        return (_OBSERVATIONS >> step) & 1 != 0 || (disposition == _IN_PROGRESS && (_UNDER_WAY >> step) & 1 != 0);
    }

    /// @dev Whether `step` moves goods as a consignment: bit `step` of _MOVES_GOODS.
    function _movesGoods(uint256 step) private pure returns (bool) {
        return (_MOVES_GOODS >> step) & 1 != 0;
    }

    /// @dev Whether `step` is a regulator's (recorded by its role on any passport): bit
    /// `step` of _REGULATED.
    function _isRegulated(uint256 step) private pure returns (bool) {
        return (_REGULATED >> step) & 1 != 0;
    }

    /// @dev The passport's own state, overridden by a recall of any ancestor and by its
    /// containers' states (at most three up): recalled beats quarantined beats sold beats
    /// in transit.
    function _effectiveState(uint256 id, Passport storage passport) private view returns (State state) {
        return _effectiveState(id, passport.state, passport.origin, passport.packed);
    }

    /// @dev {_effectiveState} from the passport's own `state`, `origin` and `packed`, read already.
    function _effectiveState(uint256 id, State own, uint32 origin, bool packed) private view returns (State state) {
        state = own;
        if (state == State.Decommissioned || state == State.Recalled) return state;
        if (origin != 0 && _lineageRecalled(origin)) return State.Recalled;
        if (!packed) return state;
        uint256 container = _containers[id];
        for (uint256 level = 0; level < _MAX_TIER; ++level) {
            Passport storage outer = _passports[container];
            State outerState = outer.state;
            if (outerState == State.Recalled) return State.Recalled;
            if (outerState == State.Quarantined) state = State.Quarantined;
            else if (outerState == State.Sold && (state == State.Active || state == State.InTransit))
                state = State.Sold;
            else if (outerState == State.InTransit && state == State.Active) state = State.InTransit;
            if (!outer.packed) break;
            container = _containers[container];
        }
    }

    /// @dev Whether the recall that `container` carries (its own, or of a container it is
    /// in) reaches goods of member `producer` unpacked from it: a producer's recall reaches
    /// its own goods, a food-safety authority's everything.
    function _recallReaches(uint256 container, uint24 producer) private view returns (bool) {
        Passport storage box = _passports[container];
        for (uint256 level = 0; level < _MAX_TIER; ++level) {
            if (box.state == State.Recalled) return box.producer == producer || box.flags & _ORDERED_RECALL != 0;
            if (!box.packed) break;
            container = _containers[container];
            box = _passports[container];
        }
        return true;
    }

    /// @dev Whether passport `id` (own state `own`) was consumed by a transformation; a
    /// consumed input that was recalled since is recalled in state, consumed still.
    function _consumed(uint256 id, State own) private view returns (bool) {
        return own == State.Consumed || (own == State.Recalled && _consumedBy[id] != 0);
    }

    /// @dev How strongly a state of goods overrides another when containers pass it on:
    /// recalled > quarantined > sold > in transit > active; 0 for states never passed on.
    function _rank(State state) private pure returns (uint8) {
        if (state == State.Recalled) return 5;
        if (state == State.Quarantined) return 4;
        if (state == State.Sold) return 3;
        if (state == State.InTransit) return 2;
        if (state == State.Active) return 1;
        return 0;
    }

    /// @dev Whether transformation `number`, or any it descends from, consumed a recalled
    /// input: its own flag, its listed ancestors' and, if its lineage overflowed, whether any
    /// member of its recall group is recalled (its root's two flags).
    function _lineageRecalled(uint32 number) private view returns (bool) {
        // Its fields are in one slot: the optimizer reads it once (make bench, 2026-12-04: the
        // same gas as a raw read of the slot).
        Transformation storage t = _transformations[number];
        if (t.recalled) return true;
        uint256 count = t.ancestorCount;
        if (count == 0) return false;
        uint32[MAX_LINEAGE] storage list = _ancestors[number];
        bool hit;
        // prettier-ignore
        assembly ("memory-safe") {
            // Each listed ancestor's first slot, its recalled flag at bit 24 (8 numbers a slot).
            // Read-only. The same loop in Solidity (`_transformations[list[i]].recalled`) makes
            // solc-js 0.8.37 fail (memory access out of bounds, 2026-12-04), so it stays here.
            mstore(0x20, _transformations.slot)
            for { let i := 0 } lt(i, count) { i := add(i, 1) } {
                mstore(0, and(shr(shl(5, and(i, 7)), sload(add(list.slot, shr(3, i)))), 0xffffffff))
                if and(shr(24, sload(keccak256(0, 0x40))), 0xff) {
                    hit := 1
                    break
                }
            }
        }
        if (hit) return true;
        uint32 group = t.group;
        if (group == 0) return false;
        Transformation storage root = _transformations[_root(group)];
        return root.recalled || root.groupRecalled;
    }

    /// @dev Who holds the goods of passport `id`: the custodian of its outermost container
    /// if packed (at most three up), else its own custodian, else its owner.
    function _custodianOf(uint256 id, Passport storage passport) private view returns (address) {
        for (uint256 level = 0; level < _MAX_TIER && passport.packed; ++level) {
            id = _containers[id];
            passport = _passports[id];
        }
        address custodian = _custody[id].custodian;
        return _resolve(custodian == address(0) ? passport.owner : custodian);
    }
}
