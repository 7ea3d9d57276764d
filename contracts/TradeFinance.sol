// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";
import {IProductPassport} from "./interfaces/IProductPassport.sol";
import {ITradeFinance} from "./interfaces/ITradeFinance.sol";
import {SignatureCheck} from "./libraries/SignatureCheck.sol";

/// @title TradeFinance
/// @notice Orders paid on delivery the chain has seen, and receivables a bank finances once.
/// See {ITradeFinance} and docs/finance.md.
/// @dev Not behind a proxy and with no admin: it holds other people's money, and nobody
/// (not the passports' governor either) can change the rules under an open order. It reads
/// the passports and the registry it was built with (immutables; their proxies).
/// `ReentrancyGuard`, not its transient variant: this build targets Shanghai (Ganache),
/// which has no transient storage. OpenZeppelin's ERC721 and EIP712 import `Strings`, whose
/// `mcopy` Shanghai lacks, so the parts' ERC-721 is written here (as the passports' is) and
/// signatures go through {SignatureCheck}.
contract TradeFinance is ITradeFinance, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The most lines an order takes: every loop runs over caller-given lines.
    uint256 public constant MAX_LINES = 100;
    /// @notice The most tranches a split makes.
    uint256 public constant MAX_SPLIT = 16;
    /// @notice The longest dispute window.
    uint40 public constant MAX_WINDOW = 30 days;
    /// @notice How long after an order's delivery deadline goods quarantined in the buyer's
    /// custody, with no inspector's decision, count as delivered (as long as the longest
    /// dispute window: docs/finance.md).
    uint40 public constant QUARANTINE_GRACE = 30 days;
    /// @notice How deep goods nest in containers on the passports (their `_MAX_TIER`).
    uint256 public constant MAX_DEPTH = 3;
    /// @notice The most moves of an identity (rotations, recoveries) one call follows.
    uint256 public constant MAX_MOVES = 8;
    string private constant _NAME = "chainpass TradeFinance";
    string private constant _VERSION = "1";
    bytes32 private constant _NAME_HASH = keccak256(bytes(_NAME));
    bytes32 private constant _VERSION_HASH = keccak256(bytes(_VERSION));
    bytes32 private constant _INVOICE_TYPEHASH = keccak256(
        "InvoiceAcceptance(bytes32 commitment,address seller,address buyer,address token,uint128 amount,"
        "uint40 dueDate,uint40 deadline)"
    );
    bytes32 private constant _FINANCING_TYPEHASH = keccak256(
        "FinancingOffer(uint256 part,address bank,uint256 price,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant _SUCCESSION_TYPEHASH = keccak256(
        "ArbiterSuccession(uint256 order,address arbiter,address successor,uint256 deadline)"
    );
    // IProductPassport.State, as numbers (one comparison each).
    uint8 private constant _ACTIVE = uint8(IProductPassport.State.Active);
    uint8 private constant _QUARANTINED = uint8(IProductPassport.State.Quarantined);
    uint8 private constant _RECALLED = uint8(IProductPassport.State.Recalled);
    uint8 private constant _SOLD = uint8(IProductPassport.State.Sold);
    uint8 private constant _DECOMMISSIONED = uint8(IProductPassport.State.Decommissioned);
    uint8 private constant _CONSUMED = uint8(IProductPassport.State.Consumed);
    uint8 private constant _IN_TRANSIT = uint8(IProductPassport.State.InTransit);
    // IProductPassport.goodsOf's word: the packed flag's bit.
    uint256 private constant _PACKED = 1 << 184;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    IIdentityRegistry private immutable _registry;
    IProductPassport private immutable _passports;
    bytes32 private immutable _domainSeparator;
    uint256 private immutable _chainId;

    /// @dev An order's buyer: the wallet it opened with, and the one the passports follow it to
    /// now (after a move of its identity): read once a call, and only if a custodian is not
    /// the first (zero until then).
    struct Buyer {
        address wallet;
        address current;
    }

    /// @dev Orders and invoices share one id space: a receivable's id is its order's.
    uint64 private _lastReceivable;
    uint256 private _lastPart;
    mapping(uint256 order => Order record) private _orders;
    mapping(uint256 passport => Line line) private _lines;
    /// @dev The containers (innermost first) a line's goods were packed in when it opened:
    /// their `inside` counts it until it finishes. Written only for packed goods.
    mapping(uint256 passport => uint256[MAX_DEPTH] containers) private _packedIn;
    mapping(uint256 receivable => Receivable record) private _receivables;
    mapping(uint256 part => Part record) private _parts;
    mapping(bytes32 commitment => uint256 receivable) private _invoices;
    mapping(address holder => uint256 nonce) private _nonces;
    mapping(address holder => uint256 count) private _balances;
    mapping(uint256 part => address approved) private _approvals;
    mapping(address holder => mapping(address operator => bool approved)) private _operators;
    /// @dev Where {followBuyer} reached an order's buyer (zero: the wallet the order opened with).
    mapping(uint256 order => address wallet) private _buyerFollowed;

    /// @param registry The identity registry (its proxy).
    /// @param passports The product passports (their proxy).
    constructor(IIdentityRegistry registry, IProductPassport passports) {
        _registry = registry;
        _passports = passports;
        _chainId = block.chainid;
        _domainSeparator = SignatureCheck.domainSeparator(_NAME_HASH, _VERSION_HASH, address(this));
    }

    /*//////////////////////////////////////////////////////////////
                                 ORDERS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ITradeFinance
    function openOrder(
        OrderTerms calldata terms,
        uint256[] calldata passports,
        uint128[] calldata prices
    ) external nonReentrant returns (uint256 order) {
        return _openOrder(terms, passports, prices);
    }

    /// @inheritdoc ITradeFinance
    function openOrderWithPermit(
        OrderTerms calldata terms,
        uint256[] calldata passports,
        uint128[] calldata prices,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant returns (uint256 order) {
        uint256 total = _sum(prices);
        // A permit someone else submitted first (front-running) leaves the allowance in
        // place: go on if it is there, and let transferFrom refuse if it is not.
        try IERC20Permit(terms.token).permit(msg.sender, address(this), total, permitDeadline, v, r, s) {} catch {}
        return _openOrder(terms, passports, prices);
    }

    /// @inheritdoc ITradeFinance
    function acceptOrder(uint256 order) external nonReentrant {
        Order storage record = _order(order);
        address seller = _currentWallet(record.seller);
        if (msg.sender != seller) revert FinanceNotParty(msg.sender, seller);
        _requireVerified(msg.sender);
        if (record.accepted) revert FinanceNothingToAccept(order);
        record.accepted = true;
        emit OrderAccepted(order, msg.sender);
    }

    /// @inheritdoc ITradeFinance
    function settle(uint256 order, uint256[] calldata passports) external nonReentrant {
        Order storage record = _order(order);
        if (!record.accepted) revert FinanceNotAccepted(order);
        Buyer memory buyer = Buyer(record.buyer, address(0));
        uint40 window = record.disputeWindow;
        // One call for every line's custodian and state (docs/finance.md, "Gas").
        bytes32[] memory goods = _passports.goodsOf(passports);
        uint128 paid = 0;
        uint16 finished = 0;
        for (uint256 i; i < passports.length; ++i) {
            uint256 id = passports[i];
            Line storage line = _lines[id];
            // The fields are read before the slot is written: one read of it.
            LineState state = line.state;
            uint128 price = line.price;
            uint8 depth = line.depth;
            if (line.order != order || (state != LineState.Open && state != LineState.Delivered)) {
                revert FinanceLineNotOpen(order, id, line.order == order ? state : LineState.None);
            }
            uint256 word = uint256(goods[i]);
            if (state == LineState.Open) {
                _requireReceived(order, id, word, buyer);
                if (window != 0) {
                    line.state = LineState.Delivered;
                    line.deliveredAt = uint40(block.timestamp);
                    emit LineDelivered(order, id, uint40(block.timestamp));
                    continue;
                }
            } else {
                // Seen delivered: only the window and a recall (which refunds) stand in the way;
                // where the buyer has taken the goods since does not matter.
                uint256 endsAt = uint256(line.deliveredAt) + window;
                if (block.timestamp < endsAt) revert FinanceWindowOpen(order, id, endsAt, block.timestamp);
                if (uint8(word >> 160) == _RECALLED) revert FinanceNotReceived(order, id, _RECALLED);
            }
            line.state = LineState.Settled;
            paid += price;
            ++finished;
            if (depth != 0) _release(id, depth);
            emit LineSettled(order, id, price);
        }
        if (paid != 0) _receivables[order].collected += paid;
        if (finished != 0) record.pending -= finished;
    }

    /// @inheritdoc ITradeFinance
    function refund(uint256 order, uint256[] calldata passports) external nonReentrant {
        Order storage record = _order(order);
        // Paid where the buyer's identity is now: a wallet it left may be a thief's.
        address buyer = _currentBuyer(order, record);
        bool cancelling = !record.accepted && msg.sender == buyer;
        bytes32[] memory goods = cancelling ? new bytes32[](0) : _passports.goodsOf(passports);
        uint128 returned = 0;
        for (uint256 i; i < passports.length; ++i) {
            uint256 id = passports[i];
            Line storage line = _lines[id];
            LineState state = line.state;
            if (line.order != order || (state != LineState.Open && state != LineState.Delivered)) {
                revert FinanceLineNotOpen(order, id, line.order == order ? state : LineState.None);
            }
            RefundReason reason =
                cancelling ? RefundReason.Cancelled : _refundReason(record, order, id, state, uint256(goods[i]));
            line.state = LineState.Refunded;
            returned += line.price;
            if (line.depth != 0) _release(id, line.depth);
            emit LineRefunded(order, id, line.price, reason);
        }
        _receivables[order].voided += returned;
        record.pending -= uint16(passports.length);
        if (returned != 0) IERC20(_receivables[order].token).safeTransfer(buyer, returned);
    }

    /// @inheritdoc ITradeFinance
    function dispute(uint256 order, uint256[] calldata passports) external nonReentrant {
        Order storage record = _order(order);
        address buyer = _currentBuyer(order, record);
        if (msg.sender != buyer) revert FinanceNotParty(msg.sender, buyer);
        _requireVerified(msg.sender);
        for (uint256 i; i < passports.length; ++i) {
            uint256 id = passports[i];
            Line storage line = _lines[id];
            if (line.order != order || line.state != LineState.Delivered) {
                revert FinanceLineNotOpen(order, id, line.order == order ? line.state : LineState.None);
            }
            uint256 endsAt = uint256(line.deliveredAt) + record.disputeWindow;
            if (block.timestamp >= endsAt) revert FinanceWindowClosed(order, id, endsAt, block.timestamp);
            line.state = LineState.Disputed;
            emit LineDisputed(order, id, msg.sender);
        }
    }

    /// @inheritdoc ITradeFinance
    function resolve(uint256 order, uint256 id, bool paySeller) external nonReentrant {
        Order storage record = _order(order);
        if (msg.sender != record.arbiter) revert FinanceNotParty(msg.sender, record.arbiter);
        _requireVerified(msg.sender);
        Line storage line = _lines[id];
        if (line.order != order || line.state != LineState.Disputed) {
            revert FinanceLineNotOpen(order, id, line.order == order ? line.state : LineState.None);
        }
        uint128 price = line.price;
        record.pending -= 1;
        if (line.depth != 0) _release(id, line.depth);
        if (paySeller) {
            line.state = LineState.Settled;
            _receivables[order].collected += price;
            emit LineSettled(order, id, price);
        } else {
            line.state = LineState.Refunded;
            _receivables[order].voided += price;
            emit LineRefunded(order, id, price, RefundReason.Arbitrated);
            IERC20(_receivables[order].token).safeTransfer(_currentBuyer(order, record), price);
        }
    }

    /// @inheritdoc ITradeFinance
    function replaceArbiter(
        uint256 order,
        address successor,
        uint256 deadline,
        bytes calldata signature
    ) external nonReentrant {
        Order storage record = _order(order);
        address arbiter = record.arbiter;
        if (arbiter == address(0)) revert FinanceNoArbiter(order);
        address buyer = _currentBuyer(order, record);
        address seller = _currentWallet(record.seller);
        address other = msg.sender == buyer ? seller : buyer;
        if (msg.sender != buyer && msg.sender != seller) revert FinanceNotParty(msg.sender, buyer);
        if (successor == buyer || successor == seller || successor == arbiter) revert FinanceSameParty(successor);
        if (block.timestamp > deadline) revert FinanceSignatureExpired(deadline, block.timestamp);
        _requireVerified(msg.sender);
        _requireVerified(other);
        _requireVerified(successor);
        _requireSignature(
            other,
            keccak256(abi.encode(_SUCCESSION_TYPEHASH, order, arbiter, successor, deadline)),
            signature
        );
        record.arbiter = successor;
        emit ArbiterReplaced(order, arbiter, successor);
    }

    /// @inheritdoc ITradeFinance
    function orderOf(uint256 order) external view returns (Order memory) {
        return _orders[order];
    }

    /// @inheritdoc ITradeFinance
    function lineOf(uint256 id) external view returns (Line memory) {
        return _lines[id];
    }

    /*//////////////////////////////////////////////////////////////
                         INVOICES AND RECEIVABLES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ITradeFinance
    function registerInvoice(
        InvoiceTerms calldata terms,
        bytes calldata buyerSignature
    ) external nonReentrant returns (uint256 receivable) {
        if (terms.commitment == bytes32(0)) revert FinanceEmptyCommitment();
        if (terms.amount == 0) revert FinanceZeroAmount();
        if (terms.buyer == msg.sender) revert FinanceSameParty(msg.sender);
        if (terms.deadline < block.timestamp) revert FinanceSignatureExpired(terms.deadline, block.timestamp);
        uint256 taken = _invoices[terms.commitment];
        if (taken != 0) revert FinanceInvoiceTaken(terms.commitment, taken);
        _requireVerified(msg.sender);
        _requireVerified(terms.buyer);
        bytes32 structHash = keccak256(
            abi.encode(
                _INVOICE_TYPEHASH,
                terms.commitment,
                msg.sender,
                terms.buyer,
                terms.token,
                terms.amount,
                terms.dueDate,
                terms.deadline
            )
        );
        _requireSignature(terms.buyer, structHash, buyerSignature);
        receivable = ++_lastReceivable;
        _invoices[terms.commitment] = receivable;
        _receivables[receivable] = Receivable({
            token: terms.token,
            kind: Kind.Invoice,
            dueDate: terms.dueDate,
            face: terms.amount,
            collected: 0,
            voided: 0
        });
        emit InvoiceRegistered(
            terms.commitment,
            receivable,
            msg.sender,
            terms.buyer,
            terms.token,
            terms.amount,
            terms.dueDate
        );
        _issue(msg.sender, uint64(receivable), 0, terms.amount);
    }

    /// @inheritdoc ITradeFinance
    function payInvoice(uint256 receivable) external nonReentrant {
        Receivable storage record = _receivables[receivable];
        if (record.kind != Kind.Invoice || record.collected != 0) revert FinanceNotUnpaidInvoice(receivable);
        uint128 amount = record.face;
        record.collected = amount;
        emit InvoicePaid(receivable, msg.sender, amount);
        _pull(IERC20(record.token), msg.sender, amount);
    }

    /// @inheritdoc ITradeFinance
    function finance(uint256 part, uint256 price, uint256 deadline, bytes calldata signature) external nonReentrant {
        IIdentityRegistry.RelyingParty memory bank = _registry.relyingPartyOf(msg.sender);
        if (!bank.active || bank.sector != IIdentityRegistry.Sector.Bank) revert FinanceNotBank(msg.sender);
        if (price == 0) revert FinanceZeroAmount();
        if (block.timestamp > deadline) revert FinanceSignatureExpired(deadline, block.timestamp);
        Part storage record = _part(part);
        address seller = record.holder;
        if (!_eligible(seller)) _refuseHolder(part, seller, FinanceNotEligibleHolder.selector);
        uint256 nonce = _nonces[seller];
        bytes32 structHash = keccak256(abi.encode(_FINANCING_TYPEHASH, part, msg.sender, price, nonce, deadline));
        _requireSignature(seller, structHash, signature);
        _nonces[seller] = nonce + 1;
        _move(seller, msg.sender, part);
        emit PartFinanced(part, seller, msg.sender, price, nonce);
        IERC20 token = IERC20(_receivables[record.receivable].token);
        uint256 before = token.balanceOf(seller);
        token.safeTransferFrom(msg.sender, seller, price);
        uint256 received = token.balanceOf(seller) - before;
        if (received != price) revert FinanceTransferShort(address(token), price, received);
    }

    /// @inheritdoc ITradeFinance
    function cancelFinancingOffers() external nonReentrant {
        uint256 nonce = ++_nonces[msg.sender];
        emit FinancingOffersCancelled(msg.sender, nonce);
    }

    /// @inheritdoc ITradeFinance
    function nonceOf(address holder) external view returns (uint256) {
        return _nonces[holder];
    }

    /// @inheritdoc ITradeFinance
    function split(uint256 part, uint128[] calldata amounts) external nonReentrant returns (uint256[] memory parts) {
        Part storage record = _part(part);
        if (msg.sender != record.holder) _refuseHolder(part, record.holder, FinanceNotParty.selector);
        _requireVerified(msg.sender);
        uint128 remaining = record.amount - record.claimed;
        uint256 total = _sum(amounts);
        if (amounts.length < 2 || amounts.length > MAX_SPLIT || total != remaining) {
            revert FinanceBadSplit(amounts.length, total, remaining, MAX_SPLIT);
        }
        uint64 receivable = record.receivable;
        uint128 offset = record.offset + record.claimed + amounts[0];
        record.amount = record.claimed + amounts[0];
        parts = new uint256[](amounts.length - 1);
        for (uint256 i = 1; i < amounts.length; ++i) {
            if (amounts[i] == 0) revert FinanceZeroAmount();
            parts[i - 1] = _issue(msg.sender, receivable, offset, amounts[i]);
            offset += amounts[i];
        }
        if (amounts[0] == 0) revert FinanceZeroAmount();
        emit PartSplit(part, msg.sender, parts, amounts);
    }

    /// @inheritdoc ITradeFinance
    function claim(uint256 part) external nonReentrant returns (uint128 amount) {
        Part storage record = _part(part);
        amount = _claimable(record);
        if (amount == 0) revert FinanceNothingToClaim(part);
        record.claimed += amount;
        // Anyone may call this: the holder's identity may have left this wallet (a recovery
        // from a thief), and the money goes where the identity is.
        address holder = _follow(part, record.holder);
        emit PartClaimed(part, holder, amount);
        IERC20(_receivables[record.receivable].token).safeTransfer(holder, amount);
    }

    /// @inheritdoc ITradeFinance
    function followPart(uint256 part) external nonReentrant returns (address holder) {
        address from = _part(part).holder;
        (holder, ) = _walk(from);
        if (holder == from) revert FinanceHolderNotMoved(part, from);
        _relocate(from, holder, part);
        emit PartFollowed(part, from, holder);
    }

    /// @inheritdoc ITradeFinance
    function followBuyer(uint256 order) external nonReentrant returns (address buyer) {
        Order storage record = _order(order);
        address from = _buyerFollowed[order];
        if (from == address(0)) from = record.buyer;
        (buyer, ) = _walk(from);
        if (buyer == from) revert FinanceBuyerNotMoved(order, from);
        _buyerFollowed[order] = buyer;
        emit BuyerFollowed(order, from, buyer);
    }

    /// @inheritdoc ITradeFinance
    function claimable(uint256 part) external view returns (uint128) {
        return _claimable(_parts[part]);
    }

    /// @inheritdoc ITradeFinance
    function receivableOf(uint256 receivable) external view returns (Receivable memory) {
        return _receivables[receivable];
    }

    /// @inheritdoc ITradeFinance
    function invoiceReceivable(bytes32 commitment) external view returns (uint256) {
        return _invoices[commitment];
    }

    /// @inheritdoc ITradeFinance
    function partOf(uint256 part) external view returns (Part memory) {
        return _parts[part];
    }

    /// @inheritdoc IERC5267
    function eip712Domain()
        external
        view
        returns (bytes1, string memory, string memory, uint256, address, bytes32, uint256[] memory)
    {
        return (hex"0f", _NAME, _VERSION, block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    /// @inheritdoc ITradeFinance
    function version() external pure returns (string memory) {
        return "0.7.0";
    }

    /*//////////////////////////////////////////////////////////////
                                 ERC-721
    //////////////////////////////////////////////////////////////*/

    /// @notice ERC-721's collection name.
    /// @return The name.
    function name() external pure returns (string memory) {
        return "chainpass receivable part";
    }

    /// @notice ERC-721's symbol.
    /// @return The symbol.
    function symbol() external pure returns (string memory) {
        return "CPRP";
    }

    /// @notice ERC-165: ERC-165, ERC-721 and ERC-721 metadata's name and symbol.
    /// @param interfaceId The interface.
    /// @return Whether it is supported.
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == 0x01ffc9a7 || interfaceId == 0x80ac58cd;
    }

    /// @inheritdoc ITradeFinance
    function balanceOf(address owner) external view returns (uint256) {
        return _balances[owner];
    }

    /// @inheritdoc ITradeFinance
    function ownerOf(uint256 tokenId) external view returns (address) {
        return _part(tokenId).holder;
    }

    /// @inheritdoc ITradeFinance
    function transferFrom(address from, address to, uint256 tokenId) external nonReentrant {
        _transfer(from, to, tokenId);
    }

    /// @inheritdoc ITradeFinance
    function safeTransferFrom(address from, address to, uint256 tokenId) external nonReentrant {
        _transfer(from, to, tokenId);
        _checkReceiver(from, to, tokenId, "");
    }

    /// @inheritdoc ITradeFinance
    function safeTransferFrom(address from, address to, uint256 tokenId, bytes calldata data) external nonReentrant {
        _transfer(from, to, tokenId);
        _checkReceiver(from, to, tokenId, data);
    }

    /// @inheritdoc ITradeFinance
    function approve(address approved, uint256 tokenId) external {
        address holder = _part(tokenId).holder;
        if (msg.sender != holder && !_operators[holder][msg.sender]) {
            revert FinanceNotOwnerNorApproved(msg.sender, tokenId);
        }
        _approvals[tokenId] = approved;
        emit Approval(holder, approved, tokenId);
    }

    /// @inheritdoc ITradeFinance
    function setApprovalForAll(address operator, bool approved) external {
        _operators[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    /// @inheritdoc ITradeFinance
    function getApproved(uint256 tokenId) external view returns (address) {
        _part(tokenId);
        return _approvals[tokenId];
    }

    /// @inheritdoc ITradeFinance
    function isApprovedForAll(address owner, address operator) external view returns (bool) {
        return _operators[owner][operator];
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _openOrder(
        OrderTerms calldata terms,
        uint256[] calldata passports,
        uint128[] calldata prices
    ) private returns (uint256 order) {
        uint256 count = passports.length;
        if (count == 0 || count > MAX_LINES || prices.length != count) {
            revert FinanceBadLines(count, prices.length, MAX_LINES);
        }
        _checkParties(msg.sender, terms);
        // The buyer acts now, verified at this wallet: the passports know it by it.
        Buyer memory buyer = Buyer(msg.sender, msg.sender);
        order = ++_lastReceivable;
        // One call for every line's custodian and state (docs/finance.md, "Gas").
        bytes32[] memory goods = _passports.goodsOf(passports);
        uint256 previous = 0;
        uint128 total = 0;
        for (uint256 i; i < count; ++i) {
            uint256 id = passports[i];
            if (i != 0 && id <= previous) revert FinanceLinesNotAscending(id);
            previous = id;
            uint128 price = prices[i];
            if (price == 0) revert FinanceZeroAmount();
            uint256 word = uint256(goods[i]);
            uint8 state = uint8(word >> 160);
            if (state != _ACTIVE && state != _IN_TRANSIT) revert FinancePassportUnfit(id, state);
            if (_isBuyer(word, buyer)) revert FinanceAlreadyReceived(id);
            Line storage line = _lines[id];
            if (_unfinished(line.state)) revert FinancePassportTaken(id, line.order);
            uint16 inside = line.inside;
            if (inside != 0) revert FinanceContentsTaken(id, inside);
            uint256 depth = word & _PACKED == 0 ? 0 : _holdContainers(id);
            // Line({order, price, state: Open, deliveredAt: 0, depth, inside: 0}) in one write.
            uint256 packed =
                uint256(uint56(order)) | (uint256(price) << 56) | (uint256(LineState.Open) << 184) | (depth << 232);
            assembly ("memory-safe") {
                sstore(line.slot, packed)
            }
            total += price;
        }
        _orders[order] = Order({
            buyer: buyer.wallet,
            deadline: terms.deadline,
            pending: uint16(count),
            accepted: terms.arbiter == address(0),
            seller: terms.seller,
            disputeWindow: terms.disputeWindow,
            arbiter: terms.arbiter
        });
        _receivables[order] = Receivable({
            token: terms.token,
            kind: Kind.Order,
            dueDate: 0,
            face: total,
            collected: 0,
            voided: 0
        });
        emit OrderOpened(
            order,
            buyer.wallet,
            terms.seller,
            terms.token,
            total,
            terms.deadline,
            terms.arbiter,
            terms.disputeWindow,
            passports,
            prices
        );
        _issue(terms.seller, uint64(order), 0, total);
        _pull(IERC20(terms.token), buyer.wallet, total);
    }

    function _checkParties(address buyer, OrderTerms calldata terms) private view {
        if (terms.seller == buyer) revert FinanceSameParty(buyer);
        if (terms.deadline <= block.timestamp) revert FinanceNotInFuture(terms.deadline, block.timestamp);
        _requireVerified(buyer);
        _requireVerified(terms.seller);
        if (terms.arbiter == address(0)) {
            if (terms.disputeWindow != 0) revert FinanceBadWindow(terms.disputeWindow, MAX_WINDOW);
        } else {
            if (terms.arbiter == buyer || terms.arbiter == terms.seller) revert FinanceSameParty(terms.arbiter);
            if (terms.disputeWindow == 0 || terms.disputeWindow > MAX_WINDOW) {
                revert FinanceBadWindow(terms.disputeWindow, MAX_WINDOW);
            }
            _requireVerified(terms.arbiter);
        }
    }

    /// @dev Whether goods word `word` ({IProductPassport.goodsOf}) names the buyer as custodian,
    /// at the wallet it had or the one it was followed to.
    function _isBuyer(uint256 word, Buyer memory buyer) private view returns (bool) {
        address custodian = address(uint160(word));
        if (custodian == buyer.wallet) return true;
        if (buyer.current == address(0)) buyer.current = _passports.currentWalletOf(buyer.wallet);
        return custodian == buyer.current;
    }

    /// @dev Whether a line in state `state` is unfinished (open, delivered or disputed).
    function _unfinished(LineState state) private pure returns (bool) {
        return state != LineState.None && state < LineState.Settled;
    }

    /// @dev Reverts unless passport `id`'s goods (word `word`) are in the buyer's custody and
    /// usable there (active, sold, consumed or decommissioned: not recalled or travelling; and
    /// quarantined only once the grace after the deadline has passed, `order`'s `lateAfter`).
    function _requireReceived(uint256 order, uint256 id, uint256 word, Buyer memory buyer) private view {
        uint8 state = uint8(word >> 160);
        bool usable = state == _ACTIVE || state == _SOLD || state == _CONSUMED || state == _DECOMMISSIONED;
        if (state == _QUARANTINED) usable = block.timestamp > uint256(_orders[order].deadline) + QUARANTINE_GRACE;
        if (!usable || !_isBuyer(word, buyer)) revert FinanceNotReceived(order, id, state);
    }

    function _refundReason(
        Order storage record,
        uint256 order,
        uint256 id,
        LineState line,
        uint256 word
    ) private view returns (RefundReason) {
        uint8 state = uint8(word >> 160);
        if (state == _RECALLED) return RefundReason.Recalled;
        if (line == LineState.Open) {
            bool received = _isBuyer(word, Buyer(record.buyer, address(0)));
            if (state == _QUARANTINED && !received) return RefundReason.Quarantined;
            if (block.timestamp > record.deadline && !received) return RefundReason.Overdue;
        }
        revert FinanceNotRefundable(order, id);
    }

    /// @dev For packed goods `id` opening a line: each container they are in (innermost first,
    /// at most MAX_DEPTH) must be in no unfinished line, and counts this one in its `inside`
    /// until it finishes ({_release}). Returns how many there are.
    function _holdContainers(uint256 id) private returns (uint8 depth) {
        uint256[MAX_DEPTH] storage path = _packedIn[id];
        uint256 container = _passports.containerOf(id);
        while (container != 0) {
            Line storage outer = _lines[container];
            if (_unfinished(outer.state)) revert FinanceContainerTaken(id, container, outer.order);
            ++outer.inside;
            path[depth] = container;
            if (++depth == MAX_DEPTH) break;
            container = _passports.containerOf(container);
        }
    }

    /// @dev Line `id` finished: its `depth` containers no longer count it.
    function _release(uint256 id, uint8 depth) private {
        uint256[MAX_DEPTH] storage path = _packedIn[id];
        for (uint256 level; level < depth; ++level) {
            --_lines[path[level]].inside;
            delete path[level];
        }
    }

    function _issue(address holder, uint64 receivable, uint128 offset, uint128 amount) private returns (uint256 part) {
        // `holder` is verified already: the seller at opening or registering, the holder splitting.
        part = ++_lastPart;
        _parts[part] = Part({holder: holder, receivable: receivable, offset: offset, amount: amount, claimed: 0});
        ++_balances[holder];
        emit Transfer(address(0), holder, part);
        emit PartIssued(part, receivable, offset, amount);
    }

    /// @dev What the tranche has collected and not been paid: collection fills tranches from the bottom.
    function _claimable(Part storage record) private view returns (uint128) {
        uint128 collected = _receivables[record.receivable].collected;
        uint128 offset = record.offset;
        if (collected <= offset) return 0;
        uint128 filled = collected - offset;
        if (filled > record.amount) filled = record.amount;
        return filled - record.claimed;
    }

    function _transfer(address from, address to, uint256 part) private {
        address holder = _part(part).holder;
        if (from != holder) revert FinanceWrongHolder(part, holder);
        if (msg.sender != holder && _approvals[part] != msg.sender && !_operators[holder][msg.sender]) {
            _refuseHolder(part, holder, FinanceNotOwnerNorApproved.selector);
        }
        if (!_eligible(from)) _refuseHolder(part, from, FinanceNotEligibleHolder.selector);
        _move(from, to, part);
    }

    /// @dev Moves part `part` from `from` to `to` (who must be eligible), clearing its approval.
    function _move(address from, address to, uint256 part) private {
        if (!_eligible(to)) revert FinanceNotEligibleHolder(to);
        _relocate(from, to, part);
    }

    /// @dev Part `part`'s holder `holder`, moved first to the wallet its identity is at now
    /// if that is another ({PartFollowed}).
    function _follow(uint256 part, address holder) private returns (address current) {
        current = _currentWallet(holder);
        if (current != holder) {
            _relocate(holder, current, part);
            emit PartFollowed(part, holder, current);
        }
    }

    /// @dev Moves part `part` from `from` to `to`, clearing its approval: no check of `to`.
    function _relocate(address from, address to, uint256 part) private {
        delete _approvals[part];
        --_balances[from];
        ++_balances[to];
        _parts[part].holder = to;
        emit Transfer(from, to, part);
    }

    function _checkReceiver(address from, address to, uint256 part, bytes memory data) private {
        if (to.code.length == 0) return;
        try IERC721Receiver(to).onERC721Received(msg.sender, from, part, data) returns (bytes4 answer) {
            if (answer != IERC721Receiver.onERC721Received.selector) revert FinanceInvalidReceiver(to);
        } catch {
            revert FinanceInvalidReceiver(to);
        }
    }

    /// @dev The wallet order `order`'s buyer's identity is at now: from the wallet {followBuyer}
    /// reached, if it was called, else the one the order opened with.
    function _currentBuyer(uint256 order, Order storage record) private view returns (address) {
        address from = _buyerFollowed[order];
        return _currentWallet(from == address(0) ? record.buyer : from);
    }

    /// @dev The wallet `account`'s identity is at now: followed through the registry's moves
    /// (rotations and recoveries), at most MAX_MOVES of them.
    function _currentWallet(address account) private view returns (address current) {
        bool further;
        (current, further) = _walk(account);
        if (further) revert FinanceTooManyMoves(account);
    }

    /// @dev The wallet `account`'s identity is at after at most MAX_MOVES of its moves, and
    /// whether it moved further still ({followPart} goes on from there when called again).
    function _walk(address account) private view returns (address current, bool further) {
        current = account;
        for (uint256 hop; hop < MAX_MOVES; ++hop) {
            address next = _registry.successorOf(current);
            if (next == address(0)) return (current, false);
            current = next;
        }
        further = _registry.successorOf(current) != address(0);
    }

    /// @dev The refusal of an act on part `part` that its holder `holder` cannot make:
    /// {FinanceHolderMoved} if `holder`'s identity moved (the part must follow it first),
    /// else the error `refusal` (FinanceNotParty, FinanceNotOwnerNorApproved or
    /// FinanceNotEligibleHolder: each named by its selector, its arguments rebuilt here).
    /// Called on the refusing branch only.
    function _refuseHolder(uint256 part, address holder, bytes4 refusal) private view {
        address successor = _registry.successorOf(holder);
        if (successor != address(0)) revert FinanceHolderMoved(part, holder, successor);
        if (refusal == FinanceNotParty.selector) revert FinanceNotParty(msg.sender, holder);
        if (refusal == FinanceNotOwnerNorApproved.selector) revert FinanceNotOwnerNorApproved(msg.sender, part);
        revert FinanceNotEligibleHolder(holder);
    }

    /// @dev Whether `account` may hold a part: verified in the registry, or a bank.
    function _eligible(address account) private view returns (bool) {
        if (_registry.standingOf(account) == IIdentityRegistry.Standing.Valid) return true;
        IIdentityRegistry.RelyingParty memory party = _registry.relyingPartyOf(account);
        return party.active && party.sector == IIdentityRegistry.Sector.Bank;
    }

    /// @dev Pulls `amount` of `token` from `from`; refuses a token that delivers less (a fee on transfer).
    function _pull(IERC20 token, address from, uint256 amount) private {
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(from, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != amount) revert FinanceTransferShort(address(token), amount, received);
    }

    function _requireVerified(address account) private view {
        IIdentityRegistry.Standing standing = _registry.standingOf(account);
        if (standing != IIdentityRegistry.Standing.Valid) revert FinanceNotVerified(account, uint8(standing));
    }

    function _requireSignature(address signer, bytes32 structHash, bytes calldata signature) private view {
        bytes32 separator =
            block.chainid == _chainId
                ? _domainSeparator
                : SignatureCheck.domainSeparator(_NAME_HASH, _VERSION_HASH, address(this));
        (SignatureCheck.Outcome outcome, address recovered) = SignatureCheck.check(
            signer,
            SignatureCheck.typedDataHash(separator, structHash),
            signature
        );
        if (outcome != SignatureCheck.Outcome.Valid) revert FinanceInvalidSignature(signer, recovered);
    }

    function _order(uint256 order) private view returns (Order storage record) {
        record = _orders[order];
        if (record.buyer == address(0)) revert FinanceUnknownOrder(order);
    }

    function _part(uint256 part) private view returns (Part storage record) {
        record = _parts[part];
        if (record.holder == address(0)) revert FinanceUnknownPart(part);
    }

    function _sum(uint128[] calldata amounts) private pure returns (uint128 total) {
        for (uint256 i; i < amounts.length; ++i) total += amounts[i];
    }
}
