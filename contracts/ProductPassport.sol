// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";
import {IProductPassport} from "./interfaces/IProductPassport.sol";

/// @dev The ERC-721 receiver hook (ERC-721's `IERC721Receiver`).
interface IERC721Receiver {
    function onERC721Received(address operator, address from, uint256 tokenId, bytes calldata data)
        external
        returns (bytes4);
}

/// @title ProductPassport
/// @notice Product passports from field to customs to shelf. See {IProductPassport}.
/// @dev A passport's owner, kind, state, tier and commissioning time share one slot;
/// its container, if packed, takes a second slot. Containers only hold lower tiers
/// (goods 0 < case 1 < pallet 2 < shipping container 3), so nesting is at most three
/// deep and a container can never end up inside itself: every walk up the containers
/// is bounded by that, and nothing loops over unbounded storage.
contract ProductPassport is IProductPassport {
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    uint8 public constant PRODUCER = 1;
    uint8 public constant INSPECTOR = 2;
    uint8 public constant CARRIER = 4;
    uint8 public constant CUSTOMS = 8;
    uint8 public constant RETAILER = 16;
    uint8 private constant _MAX_TIER = 3;

    IIdentityRegistry private immutable _registry;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    address private _governor;
    address private _pendingGovernor;
    mapping(address account => uint8 roles) private _roles;
    mapping(uint256 id => Passport passport) private _passports;
    mapping(uint256 id => uint256 container) private _containers;
    mapping(address owner => uint256 balance) private _balances;
    mapping(uint256 id => address approved) private _approvals;
    mapping(address owner => mapping(address operator => bool approved)) private _operators;

    /// @param registry The identity registry that vouches for every actor.
    /// @param initialGovernor The first governor.
    constructor(IIdentityRegistry registry, address initialGovernor) {
        if (address(registry) == address(0) || initialGovernor == address(0)) revert PassportZeroAddress();
        _registry = registry;
        _governor = initialGovernor;
        emit GovernanceTransferred(address(0), initialGovernor);
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
        if (msg.sender != _governor) revert PassportNotGovernor(msg.sender);
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
    function setRoles(address account, uint8 roles) external {
        if (msg.sender != _governor) revert PassportNotGovernor(msg.sender);
        if (account == address(0)) revert PassportZeroAddress();
        _roles[account] = roles;
        emit RolesSet(account, roles);
    }

    /// @inheritdoc IProductPassport
    function rolesOf(address account) external view returns (uint8) {
        return _roles[account];
    }

    /*//////////////////////////////////////////////////////////////
                               PASSPORTS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IProductPassport
    function passportId(uint64 gtin, Kind kind, bytes32 serial) public pure returns (uint256) {
        return uint256(keccak256(abi.encode(gtin, kind, serial)));
    }

    /// @inheritdoc IProductPassport
    function commission(Key[] calldata keys, bytes32 metadataHash, string calldata metadataURI) external {
        _authorize(PRODUCER);
        uint256 count = keys.length;
        if (count == 0) revert PassportEmptyBatch();
        for (uint256 i = 0; i < count; ++i) {
            Key calldata key = keys[i];
            _checkKey(key);
            uint256 id = passportId(key.gtin, key.kind, key.serial);
            if (_passports[id].state != State.None) revert PassportExists(id);
            _passports[id] = Passport({
                owner: msg.sender,
                kind: key.kind,
                state: State.Active,
                tier: key.tier,
                commissionedAt: uint40(block.timestamp),
                packed: false
            });
            emit Transfer(address(0), msg.sender, id);
            emit PassportCommissioned(id, msg.sender, key.gtin, key.serial);
        }
        _balances[msg.sender] += count;
        emit BatchCommissioned(msg.sender, count, metadataHash, metadataURI);
    }

    /// @inheritdoc IProductPassport
    function recordEvents(Event[] calldata events) external {
        uint8 roles = _authorize(0);
        if (events.length == 0) revert PassportEmptyBatch();
        for (uint256 i = 0; i < events.length; ++i) {
            Event calldata e = events[i];
            _record(e, roles);
            emit PassportEventRecorded(
                e.id, msg.sender, e.bizStep, e.disposition, e.eventTime, e.readPoint, e.documentHash
            );
        }
    }

    /// @inheritdoc IProductPassport
    function pack(uint256 container, uint256[] calldata ids) external {
        _authorize(PRODUCER | CARRIER);
        if (ids.length == 0) revert PassportEmptyBatch();
        Passport storage outer = _existing(container);
        State outerState = _effectiveState(container, outer);
        if (outerState != State.Active) revert PassportInvalidTransition(container, outerState, BizStep.Packing);
        for (uint256 i = 0; i < ids.length; ++i) {
            uint256 id = ids[i];
            Passport storage inner = _existing(id);
            if (inner.tier >= outer.tier || outer.kind != Kind.Container) {
                revert PassportCannotHold(container, outer.tier, id, inner.tier);
            }
            if (inner.packed) revert PassportInContainer(id, _containers[id]);
            if (inner.state != State.Active) revert PassportInvalidTransition(id, inner.state, BizStep.Packing);
            inner.packed = true;
            _containers[id] = container;
            emit PassportPacked(id, container, msg.sender);
        }
    }

    /// @inheritdoc IProductPassport
    function unpack(uint256[] calldata ids) external {
        _authorize(PRODUCER | CARRIER | RETAILER);
        if (ids.length == 0) revert PassportEmptyBatch();
        for (uint256 i = 0; i < ids.length; ++i) {
            uint256 id = ids[i];
            Passport storage inner = _existing(id);
            if (!inner.packed) revert PassportNotPacked(id);
            uint256 container = _containers[id];
            // What comes out of a recalled, quarantined or travelling container is so too.
            State outer = _effectiveState(container, _passports[container]);
            bool carried = outer == State.Recalled || outer == State.Quarantined || outer == State.InTransit;
            if (carried && inner.state == State.Active) inner.state = outer;
            inner.packed = false;
            delete _containers[id];
            emit PassportUnpacked(id, container, msg.sender);
        }
    }

    /// @inheritdoc IProductPassport
    function passportOf(uint256 id) external view returns (Passport memory) {
        return _passports[id];
    }

    /// @inheritdoc IProductPassport
    function containerOf(uint256 id) external view returns (uint256) {
        return _containers[id];
    }

    /// @inheritdoc IProductPassport
    function effectiveState(uint256 id) external view returns (State) {
        return _effectiveState(id, _passports[id]);
    }

    /// @inheritdoc IProductPassport
    function version() external pure returns (string memory) {
        return "0.1.0";
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

    /// @notice ERC-721 Metadata: no per-token URI is stored; the batch's URI is in
    /// {BatchCommissioned}. Returns the empty string for an existing passport.
    /// @param id The passport.
    function tokenURI(uint256 id) external view returns (string memory) {
        _existing(id);
        return "";
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
        return _existing(id).owner;
    }

    /// @notice ERC-721: lets `approved` transfer passport `id`.
    /// @param approved The approved account (zero clears).
    /// @param id The passport.
    function approve(address approved, uint256 id) external {
        address owner = ownerOf(id);
        if (msg.sender != owner && !_operators[owner][msg.sender]) revert PassportNotOwnerNorApproved(msg.sender, id);
        _approvals[id] = approved;
        emit Approval(owner, approved, id);
    }

    /// @notice ERC-721: the account approved for passport `id`.
    /// @param id The passport.
    function getApproved(uint256 id) external view returns (address) {
        _existing(id);
        return _approvals[id];
    }

    /// @notice ERC-721: lets `operator` transfer all of the caller's passports.
    /// @param operator The operator.
    /// @param approved Whether it may.
    function setApprovalForAll(address operator, bool approved) external {
        _operators[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    /// @notice ERC-721: whether `operator` may transfer all of `owner`'s passports.
    /// @param owner The owner.
    /// @param operator The operator.
    function isApprovedForAll(address owner, address operator) external view returns (bool) {
        return _operators[owner][operator];
    }

    /// @notice ERC-721: transfers passport `id` from `from` to `to` (ownership, not custody).
    /// @param from The owner.
    /// @param to The new owner.
    /// @param id The passport.
    function transferFrom(address from, address to, uint256 id) public {
        Passport storage passport = _existing(id);
        address owner = passport.owner;
        if (owner != from) revert PassportNotOwnerNorApproved(from, id);
        if (msg.sender != owner && _approvals[id] != msg.sender && !_operators[owner][msg.sender]) {
            revert PassportNotOwnerNorApproved(msg.sender, id);
        }
        if (to == address(0)) revert PassportInvalidReceiver(to);
        delete _approvals[id];
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
                if (answer != IERC721Receiver.onERC721Received.selector) revert PassportInvalidReceiver(to);
            } catch {
                revert PassportInvalidReceiver(to);
            }
        }
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev Reverts unless the caller holds one of `anyOf` roles (any role if 0) and has
    /// an identity in force in the registry; returns the caller's roles.
    function _authorize(uint8 anyOf) private view returns (uint8 roles) {
        roles = _roles[msg.sender];
        if (roles == 0 || (anyOf != 0 && roles & anyOf == 0)) revert PassportMissingRole(msg.sender, anyOf);
        IIdentityRegistry.Standing standing = _registry.standingOf(msg.sender);
        if (standing != IIdentityRegistry.Standing.Valid) revert PassportActorNotVerified(msg.sender, uint8(standing));
    }

    function _checkKey(Key calldata key) private pure {
        bool container = key.kind == Kind.Container;
        bool validTier = container ? key.tier >= 1 && key.tier <= _MAX_TIER : key.tier == 0;
        if (key.kind == Kind.None || !validTier || key.serial == bytes32(0) || key.gtin == 0 || key.gtin >= 1e14) {
            revert PassportInvalidKey(key.gtin, key.serial);
        }
    }

    function _existing(uint256 id) private view returns (Passport storage passport) {
        passport = _passports[id];
        if (passport.state == State.None) revert PassportUnknown(id);
    }

    /// @dev Applies one event's lifecycle rule: who may record it, from which state, to which.
    function _record(Event calldata e, uint8 roles) private {
        Passport storage passport = _existing(e.id);
        State own = passport.state;
        State current = _effectiveState(e.id, passport);
        (uint8 needed, State next, Disposition expected) = _rule(e, current);
        if (roles & needed == 0) revert PassportMissingRole(msg.sender, needed);
        if (expected != Disposition.None && e.disposition != expected) {
            revert PassportInvalidDisposition(e.bizStep, e.disposition);
        }
        if (passport.packed && _movesGoods(e.bizStep)) revert PassportInContainer(e.id, _containers[e.id]);
        if (next != own) passport.state = next;
    }

    /// @dev The rule for `e` in effective state `current`: required roles, next own state,
    /// and the disposition it must carry (None: any of the step's own, checked here).
    function _rule(Event calldata e, State current)
        private
        pure
        returns (uint8 needed, State next, Disposition expected)
    {
        BizStep step = e.bizStep;
        if (current == State.Decommissioned) revert PassportInvalidTransition(e.id, current, step);
        if (step == BizStep.Inspecting) {
            if (current != State.Active && current != State.Quarantined) revert PassportInvalidTransition(e.id, current, step);
            if (e.disposition == Disposition.Conformant) return (INSPECTOR, State.Active, Disposition.None);
            if (e.disposition == Disposition.NonConformant) return (INSPECTOR, State.Quarantined, Disposition.None);
            revert PassportInvalidDisposition(step, e.disposition);
        }
        if (step == BizStep.Shipping) {
            if (current != State.Active) revert PassportInvalidTransition(e.id, current, step);
            return (PRODUCER | CARRIER | RETAILER, State.InTransit, Disposition.InTransit);
        }
        if (step == BizStep.Receiving) {
            if (current != State.InTransit) revert PassportInvalidTransition(e.id, current, step);
            if (e.disposition != Disposition.Active && e.disposition != Disposition.Sellable) {
                revert PassportInvalidDisposition(step, e.disposition);
            }
            return (PRODUCER | CARRIER | RETAILER, State.Active, Disposition.None);
        }
        if (step == BizStep.CustomsReleasing) {
            if (current != State.InTransit) revert PassportInvalidTransition(e.id, current, step);
            return (CUSTOMS, State.InTransit, Disposition.InTransit);
        }
        if (step == BizStep.CustomsHolding) {
            if (current != State.InTransit) revert PassportInvalidTransition(e.id, current, step);
            return (CUSTOMS, State.Quarantined, Disposition.NonConformant);
        }
        if (step == BizStep.RetailSelling) {
            if (current != State.Active) revert PassportInvalidTransition(e.id, current, step);
            return (RETAILER, State.Sold, Disposition.RetailSold);
        }
        if (step == BizStep.Recalling) {
            if (current == State.Recalled) revert PassportInvalidTransition(e.id, current, step);
            return (PRODUCER, State.Recalled, Disposition.Recalled);
        }
        if (step == BizStep.Decommissioning) {
            return (PRODUCER | RETAILER, State.Decommissioned, Disposition.Inactive);
        }
        // Commissioning, packing and unpacking have functions of their own.
        revert PassportInvalidTransition(e.id, current, step);
    }

    /// @dev Steps that act on goods as a consignment: on packed goods they are recorded
    /// on the container, never on one item inside it.
    function _movesGoods(BizStep step) private pure returns (bool) {
        return step == BizStep.Shipping || step == BizStep.Receiving || step == BizStep.RetailSelling
            || step == BizStep.CustomsReleasing || step == BizStep.CustomsHolding;
    }

    /// @dev The passport's own state, overridden by its containers' (at most three up):
    /// recalled beats quarantined beats in transit.
    function _effectiveState(uint256 id, Passport storage passport) private view returns (State state) {
        state = passport.state;
        if (!passport.packed || state == State.Decommissioned || state == State.Recalled) return state;
        uint256 container = _containers[id];
        for (uint256 level = 0; level < _MAX_TIER; ++level) {
            Passport storage outer = _passports[container];
            if (outer.state == State.Recalled) return State.Recalled;
            if (outer.state == State.Quarantined) state = State.Quarantined;
            else if (outer.state == State.InTransit && state == State.Active) state = State.InTransit;
            if (!outer.packed) break;
            container = _containers[container];
        }
    }
}
