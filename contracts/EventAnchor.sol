// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";
import {IProductPassport} from "./interfaces/IProductPassport.sol";

/// @title EventAnchor
/// @notice Anchored batches of EPCIS events: an organisation declares any number of events
/// in one transaction as the Merkle root of their CBV 2.0 event hashes, with the batch's size
/// and the hash of the document they came in. Anyone proves one event's inclusion, offline
/// from a proof bundle or here with {isAnchored}. An anchored event is evidence that the
/// organisation declared it at that time; it changes no passport (recalls, sales and custody
/// are lifecycle events of {IProductPassport}).
/// @dev The leaves are `keccak256(bytes.concat(keccak256(abi.encode(eventHash))))` (hashed
/// twice, so that no inner node can pass for a leaf) and the pairs are hashed in sorted order,
/// as OpenZeppelin's `MerkleProof` reads them (chainpass.anchor builds the same trees). Not
/// upgradeable: it holds append-only records under rules that do not change; a later version
/// is deployed beside it, and this one stays readable.
contract EventAnchor {
    /// @notice Who anchored a root, when, and how many events it holds.
    struct Anchor {
        address organisation;
        uint40 anchoredAt;
        uint56 events;
    }

    /// @notice An organisation anchored a batch of `events` events of the document whose
    /// hash is `documentHash`.
    event BatchAnchored(bytes32 indexed root, address indexed organisation, uint256 events, bytes32 documentHash);

    /// @notice The account is not an organisation known to the passports.
    error AnchorNotAnOrganisation(address account);
    /// @notice The organisation's verification is not in force (its standing in the registry).
    error AnchorNotVerified(address account, uint8 standing);
    /// @notice The root is anchored already (by `organisation`).
    error AnchorAlreadyAnchored(bytes32 root, address organisation);
    /// @notice A batch holds at least one event, and a root is not zero.
    error AnchorEmptyBatch();

    IIdentityRegistry private immutable _registry;
    IProductPassport private immutable _passports;
    mapping(bytes32 root => Anchor) private _anchors;

    /// @param registry The identity registry whose verifications organisations need.
    /// @param passports The passports whose organisations (accounts with a role) may anchor.
    constructor(IIdentityRegistry registry, IProductPassport passports) {
        _registry = registry;
        _passports = passports;
    }

    /// @notice Anchor a batch: `root` is the Merkle root of its `events` events' CBV 2.0
    /// hashes, `documentHash` the hash of the document they came in (kept in the event only).
    /// @dev The caller holds a role in the passports and a verification in force now. A root
    /// is anchored once. Emits {BatchAnchored}.
    function anchor(bytes32 root, uint56 events, bytes32 documentHash) external {
        if (root == bytes32(0) || events == 0) revert AnchorEmptyBatch();
        address earlier = _anchors[root].organisation;
        if (earlier != address(0)) revert AnchorAlreadyAnchored(root, earlier);
        if (_passports.rolesOf(msg.sender) == 0) revert AnchorNotAnOrganisation(msg.sender);
        IIdentityRegistry.Standing standing = _registry.standingOf(msg.sender);
        if (standing != IIdentityRegistry.Standing.Valid) revert AnchorNotVerified(msg.sender, uint8(standing));
        _anchors[root] = Anchor(msg.sender, uint40(block.timestamp), events);
        emit BatchAnchored(root, msg.sender, events, documentHash);
    }

    /// @notice Who anchored `root`, when and with how many events (all zero if nobody did).
    function anchorOf(bytes32 root) external view returns (Anchor memory) {
        return _anchors[root];
    }

    /// @notice Whether the event whose CBV 2.0 hash is `eventHash` is in the batch anchored as
    /// `root`, by `proof` (its Merkle path, the sibling hashes from the leaf up); and who
    /// anchored it when (zero when the proof fails or the root was never anchored).
    function isAnchored(
        bytes32 root,
        bytes32 eventHash,
        bytes32[] calldata proof
    ) external view returns (bool included, address organisation, uint40 anchoredAt) {
        Anchor memory anchored = _anchors[root];
        if (anchored.organisation == address(0)) return (false, address(0), 0);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(eventHash))));
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) return (false, address(0), 0);
        return (true, anchored.organisation, anchored.anchoredAt);
    }
}
