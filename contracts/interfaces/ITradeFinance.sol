// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";

/// @title ITradeFinance
/// @notice Trade finance over product passports: orders paid on delivery that the chain has
/// seen, and receivables (an order's payment, or an invoice the buyer accepted) that a bank
/// can finance once and only once.
/// @dev An order escrows its price in an ERC-20 and pays, line by line, when the passport
/// shows the goods in the buyer's custody; a recall, a quarantine on the way, a missed
/// deadline or the buyer's cancellation of an unaccepted order refunds a line. The seller's
/// right to an order's payment, or to an accepted invoice's, is a receivable; its parts are
/// ERC-721 tokens, each a tranche [offset, offset + amount) of the receivable's face: what
/// the receivable collects fills the tranches from the bottom, so a part's payout is exact
/// (no rounding) and a refunded line shortens the top tranches. Every party is checked in
/// the identity registry at the moment it acts. Fee-on-transfer tokens are refused (a
/// transfer in must raise the balance by exactly its amount). No admin, no upgrade: nobody
/// can move escrowed money but by the rules below (docs/finance.md).
interface ITradeFinance is IERC5267 {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice Where one line of an order stands.
    enum LineState {
        None, // never opened, or the passport's slot belongs to a later order
        Open, // escrowed, waiting for delivery
        Delivered, // received in the buyer's custody; paid once the dispute window ends
        Disputed, // the buyer disputed it within the window; the arbiter decides
        Settled, // paid into the order's receivable
        Refunded // paid back to the buyer
    }

    /// @notice Why a line was refunded.
    enum RefundReason {
        Recalled, // the goods were recalled before the line was paid
        Quarantined, // the goods were quarantined before they reached the buyer
        Overdue, // the delivery deadline passed before the goods reached the buyer
        Cancelled, // the buyer cancelled before the seller accepted the arbiter
        Arbitrated // the arbiter found for the buyer
    }

    /// @notice What a receivable is a right to.
    enum Kind {
        None,
        Order, // an order's escrowed payment
        Invoice // an invoice the buyer accepted by signature, payable at its due date
    }

    /// @notice The terms of an order, as the buyer opens it.
    struct OrderTerms {
        address seller; // the verified seller
        address token; // the ERC-20 the prices are in
        uint40 deadline; // Unix time by which the goods must be in the buyer's custody
        address arbiter; // a verified organisation both parties accept (zero: no dispute window)
        uint40 disputeWindow; // seconds after delivery the buyer may dispute (0 without an arbiter)
    }

    /// @notice An order. Three storage slots.
    struct Order {
        address buyer; // who escrowed and receives refunds
        uint40 deadline; // the delivery deadline
        uint16 pending; // lines neither settled nor refunded yet
        bool accepted; // the seller accepted the arbiter (always true without one)
        address seller; // the seller (the receivable's first holder)
        uint40 disputeWindow; // seconds after delivery before a line pays
        address arbiter; // zero: none
    }

    /// @notice A line of an order, kept under its passport (one unfinished line per passport),
    /// with the count of unfinished lines for goods packed in this passport's. One slot.
    struct Line {
        uint56 order; // the order it belongs to
        uint128 price; // its price in the order's token
        LineState state; // where it stands
        uint40 deliveredAt; // when it was seen delivered (with a dispute window)
        uint8 depth; // how many containers its goods were packed in when it opened (0-3)
        uint16 inside; // unfinished lines, of any order, for goods that were packed in these when they opened
    }

    /// @notice A receivable: what a seller is owed, and how much of it was collected. Two slots.
    struct Receivable {
        address token; // the ERC-20 it is paid in
        Kind kind; // an order's payment or an invoice
        uint40 dueDate; // an invoice's due date (0 for an order)
        uint128 face; // what it is worth if every line pays (an invoice: its amount)
        uint128 collected; // what was paid into it (settled lines, or the invoice's payment)
        uint128 voided; // what will never be paid into it (refunded lines)
    }

    /// @notice A part of a receivable: an ERC-721 token, the tranche [offset, offset + amount). Three slots.
    struct Part {
        address holder; // who is paid (the ERC-721 owner)
        uint64 receivable; // the receivable it is part of
        uint128 offset; // where its tranche starts
        uint128 amount; // the tranche's size
        uint128 claimed; // what it has been paid so far
    }

    /// @notice An invoice the buyer accepted, as its seller registers it.
    struct InvoiceTerms {
        bytes32 commitment; // keccak256(abi.encode(seller, buyer, number, amount, salt)): the invoice stays off chain
        address buyer; // the verified buyer, who signed
        address token; // the ERC-20 it is paid in
        uint128 amount; // what the buyer owes
        uint40 dueDate; // when the buyer pays
        uint40 deadline; // Unix time after which the buyer's signature is void
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice `account` has no identity in force in the registry (its standing is `standing`).
    error FinanceNotVerified(address account, uint8 standing);
    /// @notice `account` is not an active relying party of sector bank.
    error FinanceNotBank(address account);
    /// @notice `account` may neither hold a receivable: it is neither verified nor a bank.
    error FinanceNotEligibleHolder(address account);
    /// @notice `account` is not `expected`, the one party who may do this.
    error FinanceNotParty(address account, address expected);
    /// @notice An order needs 1 to `max` lines, not `count`, with one price per passport (`prices` given).
    error FinanceBadLines(uint256 count, uint256 prices, uint256 max);
    /// @notice The passports of an order must be listed in strictly ascending order of id: `id` is not.
    error FinanceLinesNotAscending(uint256 id);
    /// @notice A price, amount or part must not be zero.
    error FinanceZeroAmount();
    /// @notice The buyer, seller and arbiter must be three different accounts.
    error FinanceSameParty(address account);
    /// @notice `time` must lie in the future (the chain's time is `nowTime`).
    error FinanceNotInFuture(uint40 time, uint256 nowTime);
    /// @notice The dispute window `window` must be 1 s to `max` s with an arbiter, 0 without one.
    error FinanceBadWindow(uint40 window, uint40 max);
    /// @notice Passport `id` is unknown, or in state `state` (a number), which no order can take.
    error FinancePassportUnfit(uint256 id, uint8 state);
    /// @notice Passport `id`'s goods are in the buyer's custody already: invoice them, do not escrow them.
    error FinanceAlreadyReceived(uint256 id);
    /// @notice Passport `id` is in order `order`'s unfinished line already.
    error FinancePassportTaken(uint256 id, uint64 order);
    /// @notice Passport `id`'s goods are packed in container `container`, which is in order
    /// `order`'s unfinished line: the same goods cannot be paid for twice.
    error FinanceContainerTaken(uint256 id, uint256 container, uint64 order);
    /// @notice Passport `id` holds goods that are in `lines` unfinished lines: the same goods
    /// cannot be paid for twice.
    error FinanceContentsTaken(uint256 id, uint16 lines);
    /// @notice Order `order` has no arbiter to replace.
    error FinanceNoArbiter(uint256 order);
    /// @notice Order `order` does not exist.
    error FinanceUnknownOrder(uint256 order);
    /// @notice Passport `id` has no line in order `order` that can do this (its line is `line`).
    error FinanceLineNotOpen(uint256 order, uint256 id, LineState line);
    /// @notice Passport `id` of order `order` is not in the buyer's custody in a usable state (state `state`).
    error FinanceNotReceived(uint256 order, uint256 id, uint8 state);
    /// @notice Order `order` waits for the seller to accept its arbiter.
    error FinanceNotAccepted(uint256 order);
    /// @notice Order `order` was accepted already, or has no arbiter to accept.
    error FinanceNothingToAccept(uint256 order);
    /// @notice The dispute window of passport `id` in order `order` ends at `endsAt` (now `nowTime`).
    error FinanceWindowOpen(uint256 order, uint256 id, uint256 endsAt, uint256 nowTime);
    /// @notice The dispute window of passport `id` in order `order` ended at `endsAt` (now `nowTime`).
    error FinanceWindowClosed(uint256 order, uint256 id, uint256 endsAt, uint256 nowTime);
    /// @notice Passport `id` of order `order` cannot be refunded now: not recalled, not held on the
    /// way, and its deadline has not passed.
    error FinanceNotRefundable(uint256 order, uint256 id);
    /// @notice The token moved `received` where `expected` was due (a fee on transfer): refused.
    error FinanceTransferShort(address token, uint256 expected, uint256 received);
    /// @notice Invoice commitment `commitment` backs receivable `receivable` already.
    error FinanceInvoiceTaken(bytes32 commitment, uint256 receivable);
    /// @notice An invoice's commitment must not be zero.
    error FinanceEmptyCommitment();
    /// @notice The signature is not `signer`'s (it recovers to `recovered`), or is malformed or malleable.
    error FinanceInvalidSignature(address signer, address recovered);
    /// @notice The signed message expired at `deadline`; the chain's time is `nowTime`.
    error FinanceSignatureExpired(uint256 deadline, uint256 nowTime);
    /// @notice The offer carries nonce `given`, but `holder`'s next nonce is `expected`.
    error FinanceInvalidNonce(address holder, uint256 expected, uint256 given);
    /// @notice Receivable `receivable` is not an unpaid invoice.
    error FinanceNotUnpaidInvoice(uint256 receivable);
    /// @notice Part `part` does not exist.
    error FinanceUnknownPart(uint256 part);
    /// @notice Part `part` has nothing to claim now.
    error FinanceNothingToClaim(uint256 part);
    /// @notice A split needs 2 to `max` amounts summing to `remaining`, the part's unpaid amount (`total` given).
    error FinanceBadSplit(uint256 count, uint256 total, uint256 remaining, uint256 max);
    /// @notice ERC-721: `account` may not move part `part`.
    error FinanceNotOwnerNorApproved(address account, uint256 part);
    /// @notice ERC-721: part `part` is held by `holder`, not by the `from` given.
    error FinanceWrongHolder(uint256 part, address holder);
    /// @notice ERC-721: `receiver` does not accept ERC-721 tokens.
    error FinanceInvalidReceiver(address receiver);
    /// @notice An amount of `amount` does not fit in 128 bits.
    error FinanceAmountTooLarge(uint256 amount);
    /// @notice Part `part`'s holder `holder` moved its identity to `successor` (a key rotation
    /// or a recovery): the old wallet no longer acts for it. Anyone may {followPart} first.
    error FinanceHolderMoved(uint256 part, address holder, address successor);
    /// @notice Part `part`'s holder `holder` has not moved its identity: nothing to follow.
    error FinanceHolderNotMoved(uint256 part, address holder);
    /// @notice `account`'s identity moved more than MAX_MOVES times: {followPart} moves a
    /// part, {followBuyer} an order's buyer, that far at a time; call it again.
    error FinanceTooManyMoves(address account);
    /// @notice Order `order`'s buyer, at `buyer`, has not moved its identity: nothing to follow.
    error FinanceBuyerNotMoved(uint256 order, address buyer);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice `buyer` opened order `order` with `seller`, escrowing `total` of `token`; its
    /// receivable is `order` too, its first part is minted to the seller.
    event OrderOpened(
        uint256 indexed order,
        address indexed buyer,
        address indexed seller,
        address token,
        uint256 total,
        uint40 deadline,
        address arbiter,
        uint40 disputeWindow,
        uint256[] passports,
        uint128[] prices
    );
    /// @notice `seller` accepted order `order`'s arbiter.
    event OrderAccepted(uint256 indexed order, address indexed seller);
    /// @notice Passport `id` of order `order` was seen in the buyer's custody; it pays when the window ends.
    event LineDelivered(uint256 indexed order, uint256 indexed id, uint40 deliveredAt);
    /// @notice The buyer and the seller of order `order` named `successor` its arbiter in place of `arbiter`.
    event ArbiterReplaced(uint256 indexed order, address indexed arbiter, address indexed successor);
    /// @notice `buyer` disputed passport `id`'s line of order `order`.
    event LineDisputed(uint256 indexed order, uint256 indexed id, address indexed buyer);
    /// @notice Passport `id`'s line of order `order` paid `price` into the order's receivable.
    event LineSettled(uint256 indexed order, uint256 indexed id, uint128 price);
    /// @notice Passport `id`'s line of order `order` refunded `price` to the buyer, for `reason`.
    event LineRefunded(uint256 indexed order, uint256 indexed id, uint128 price, RefundReason reason);
    /// @notice `seller` registered the invoice behind `commitment`, accepted by `buyer`, as receivable `receivable`.
    event InvoiceRegistered(
        bytes32 indexed commitment,
        uint256 indexed receivable,
        address indexed seller,
        address buyer,
        address token,
        uint128 amount,
        uint40 dueDate
    );
    /// @notice `payer` paid invoice receivable `receivable`: `amount`.
    event InvoicePaid(uint256 indexed receivable, address indexed payer, uint128 amount);
    /// @notice Part `part` of receivable `receivable` was issued: the tranche [offset, offset + amount).
    event PartIssued(uint256 indexed part, uint256 indexed receivable, uint128 offset, uint128 amount);
    /// @notice `holder` split part `part` (which keeps the first amount) into `parts` with `amounts`.
    event PartSplit(uint256 indexed part, address indexed holder, uint256[] parts, uint128[] amounts);
    /// @notice `bank` financed part `part`: it paid `seller` `price` and holds the part now.
    event PartFinanced(
        uint256 indexed part,
        address indexed seller,
        address indexed bank,
        uint256 price,
        uint256 nonce
    );
    /// @notice Part `part` paid `amount` to its holder `holder`.
    event PartClaimed(uint256 indexed part, address indexed holder, uint128 amount);
    /// @notice Part `part` followed its holder's identity from wallet `from` to wallet `to`
    /// (a {Transfer} too): what it collects is paid to `to` from now on.
    event PartFollowed(uint256 indexed part, address indexed from, address indexed to);
    /// @notice Order `order`'s buyer is followed from wallet `from` to wallet `to`, as far as
    /// one call goes ({followBuyer}): its refunds are sent on from there.
    event BuyerFollowed(uint256 indexed order, address indexed from, address indexed to);
    /// @notice `holder` voided its outstanding financing offers; its next nonce is `nonce`.
    event FinancingOffersCancelled(address indexed holder, uint256 nonce);
    /// @notice ERC-721: part `tokenId` moved from `from` to `to`.
    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    /// @notice ERC-721: `owner` approved `approved` to move part `tokenId`.
    event Approval(address indexed owner, address indexed approved, uint256 indexed tokenId);
    /// @notice ERC-721: `owner` (dis)approved `operator` for all its parts.
    event ApprovalForAll(address indexed owner, address indexed operator, bool approved);

    /*//////////////////////////////////////////////////////////////
                                 ORDERS
    //////////////////////////////////////////////////////////////*/

    /// @notice The caller, a verified buyer, opens an order with a verified seller for
    /// `passports` at `prices`, escrowing their sum (the caller approved it to this contract).
    /// @dev Passports strictly ascending; each known, not recalled, quarantined, sold or
    /// consumed, not in the buyer's custody, and in no other unfinished line; nor packed in a
    /// container (at any depth) that is in one, nor holding goods that are in one. Emits
    /// {OrderOpened}, {Transfer} and {PartIssued}.
    /// @param terms The seller, token, deadline and optional arbiter and window.
    /// @param passports The passports (items, lots or containers), ascending.
    /// @param prices Their prices in the token's units.
    /// @return order The order's id (also its receivable's).
    function openOrder(
        OrderTerms calldata terms,
        uint256[] calldata passports,
        uint128[] calldata prices
    ) external returns (uint256 order);

    /// @notice {openOrder}, with the escrow allowed by the buyer's ERC-2612 permit in the
    /// same transaction (a permit already used, e.g. front-run, is fine if the allowance is there).
    /// @param terms The seller, token, deadline and optional arbiter and window.
    /// @param passports The passports, ascending.
    /// @param prices Their prices.
    /// @param permitDeadline The permit's deadline.
    /// @param v The permit signature's v.
    /// @param r The permit signature's r.
    /// @param s The permit signature's s.
    /// @return order The order's id.
    function openOrderWithPermit(
        OrderTerms calldata terms,
        uint256[] calldata passports,
        uint128[] calldata prices,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint256 order);

    /// @notice The seller, verified, accepts order `order`'s arbiter; its lines may settle from now on.
    /// A party whose identity moved (rotation or recovery) acts at its new wallet only.
    /// @dev Emits {OrderAccepted}.
    /// @param order The order.
    function acceptOrder(uint256 order) external;

    /// @notice Pays each of `passports`' lines of `order` whose goods are in the buyer's custody
    /// (active, sold, consumed or decommissioned there; not recalled; quarantined there only
    /// once the grace after the delivery deadline, 30 days, has passed): into the order's
    /// receivable at once, or, with a dispute window, once it has passed since the line was
    /// first seen delivered. Anyone may call it.
    /// @dev Emits {LineSettled}, or {LineDelivered} the first time with a window.
    /// @param order The order.
    /// @param passports The passports whose lines to settle.
    function settle(uint256 order, uint256[] calldata passports) external;

    /// @notice Refunds each of `passports`' lines of `order` to the buyer: recalled before it
    /// was paid, quarantined before reaching the buyer, not received by the deadline, or (the
    /// buyer calling) not yet accepted by the seller. Anyone may call it. The money goes to
    /// the wallet the buyer's identity is at now (not one it left: a recovered key).
    /// @dev Emits {LineRefunded} per line; one transfer to the buyer.
    /// @param order The order.
    /// @param passports The passports whose lines to refund.
    function refund(uint256 order, uint256[] calldata passports) external;

    /// @notice The buyer, verified, disputes delivered lines within their window; the arbiter decides.
    /// @dev Emits {LineDisputed} per line.
    /// @param order The order.
    /// @param passports The passports whose lines to dispute.
    function dispute(uint256 order, uint256[] calldata passports) external;

    /// @notice The arbiter, verified, decides a disputed line: paid to the seller's
    /// receivable, or refunded to the buyer (at the wallet its identity is at now).
    /// @dev Emits {LineSettled} or {LineRefunded}.
    /// @param order The order.
    /// @param id The passport whose line is disputed.
    /// @param paySeller True to pay the seller, false to refund the buyer.
    function resolve(uint256 order, uint256 id, bool paySeller) external;

    /// @notice The buyer or the seller of order `order`, each verified, name `successor` (a
    /// verified organisation, neither of them) its arbiter in place of the one they named:
    /// the caller by calling, the other by its EIP-712 signature. For an arbiter that lost
    /// its verification (it cannot decide), or any other reason both parties share. Each
    /// party acts, and signs, at the wallet its identity is at now.
    /// @dev EIP-712 `ArbiterSuccession(uint256 order,address arbiter,address successor,uint256
    /// deadline)`, `arbiter` the one replaced (so a signature serves once). Emits {ArbiterReplaced}.
    /// @param order The order.
    /// @param successor The new arbiter.
    /// @param deadline The signature's deadline.
    /// @param signature The other party's signature.
    function replaceArbiter(uint256 order, address successor, uint256 deadline, bytes calldata signature) external;

    /// @notice Order `order` (all zero if none).
    /// @param order The order.
    /// @return The order.
    function orderOf(uint256 order) external view returns (Order memory);

    /// @notice The unfinished (or last) line of passport `id`.
    /// @param id The passport.
    /// @return The line.
    function lineOf(uint256 id) external view returns (Line memory);

    /*//////////////////////////////////////////////////////////////
                         INVOICES AND RECEIVABLES
    //////////////////////////////////////////////////////////////*/

    /// @notice The caller, a verified seller, registers an invoice its verified buyer accepted
    /// by EIP-712 signature; it becomes a receivable whose first part the caller holds.
    /// Each commitment backs one receivable, ever.
    /// @dev EIP-712 `InvoiceAcceptance(bytes32 commitment,address seller,address buyer,address
    /// token,uint128 amount,uint40 dueDate,uint40 deadline)`. Emits {InvoiceRegistered},
    /// {Transfer} and {PartIssued}.
    /// @param terms The commitment, buyer, token, amount, due date and the signature's deadline.
    /// @param buyerSignature The buyer's signature.
    /// @return receivable The receivable's id.
    function registerInvoice(
        InvoiceTerms calldata terms,
        bytes calldata buyerSignature
    ) external returns (uint256 receivable);

    /// @notice Pays invoice receivable `receivable` in full from the caller (usually the
    /// buyer, at the due date); its holders then claim.
    /// @dev Emits {InvoicePaid}.
    /// @param receivable The invoice's receivable.
    function payInvoice(uint256 receivable) external;

    /// @notice A bank (an active relying party of sector bank) finances part `part`: it pays
    /// the part's holder `price` and receives the part, in one transaction, by the holder's
    /// EIP-712 signature.
    /// @dev EIP-712 `FinancingOffer(uint256 part,address bank,uint256 price,uint256 nonce,
    /// uint256 deadline)`. The holder must be verified (or a bank, refinancing). Emits
    /// {PartFinanced} and {Transfer}.
    /// @param part The part.
    /// @param price What the bank pays the holder.
    /// @param deadline The offer's deadline.
    /// @param signature The holder's signature.
    function finance(uint256 part, uint256 price, uint256 deadline, bytes calldata signature) external;

    /// @notice The caller voids its outstanding financing offers.
    /// @dev Emits {FinancingOffersCancelled}.
    function cancelFinancingOffers() external;

    /// @notice The next nonce of `holder`'s financing offers.
    /// @param holder The holder.
    /// @return The nonce.
    function nonceOf(address holder) external view returns (uint256);

    /// @notice The caller, the part's verified holder, splits part `part` into tranches of
    /// `amounts` (summing to what it has not been paid yet): the part keeps the first, new
    /// parts of the caller take the rest, in order. Pass one on with a transfer.
    /// @dev Emits {PartSplit}, and {Transfer} and {PartIssued} per new part.
    /// @param part The part.
    /// @param amounts The tranches' sizes, bottom first.
    /// @return parts The new parts' ids.
    function split(uint256 part, uint128[] calldata amounts) external returns (uint256[] memory parts);

    /// @notice Pays part `part`'s holder what its tranche has collected and it has not been
    /// paid yet. Anyone may call it. If the holder's identity moved to another wallet (a
    /// rotation, or a recovery from a thief), the part follows it there first and the new
    /// wallet is paid: never the wallet the identity left.
    /// @dev Emits {PartClaimed} (and {PartFollowed} and {Transfer} if the part followed).
    /// @param part The part.
    /// @return amount What was paid.
    function claim(uint256 part) external returns (uint128 amount);

    /// @notice Moves part `part` to the wallet its holder's identity moved to (following the
    /// registry's {IIdentityRegistry-successorOf}, at most MAX_MOVES hops a call), so that the
    /// new wallet may transfer, split and finance it and the old one no longer can. Anyone
    /// may call it.
    /// @dev Emits {PartFollowed} and {Transfer}.
    /// @param part The part.
    /// @return holder The part's holder now.
    function followPart(uint256 part) external returns (address holder);

    /// @notice Follows order `order`'s buyer's identity, at most MAX_MOVES moves a call, and
    /// keeps the wallet reached beside the order: for a buyer that moved more than MAX_MOVES
    /// times (refunds, disputes and arbiter successions go on from that wallet). Anyone may
    /// call it; the custody of the goods is still matched by the wallet the order opened with.
    /// @dev Emits {BuyerFollowed}.
    /// @param order The order.
    /// @return buyer The wallet reached.
    function followBuyer(uint256 order) external returns (address buyer);

    /// @notice What part `part` could claim now.
    /// @param part The part.
    /// @return The amount.
    function claimable(uint256 part) external view returns (uint128);

    /// @notice Receivable `receivable` (all zero if none).
    /// @param receivable The receivable (an order's id, or an invoice's).
    /// @return The receivable.
    function receivableOf(uint256 receivable) external view returns (Receivable memory);

    /// @notice The receivable invoice commitment `commitment` backs (0: none).
    /// @param commitment The commitment.
    /// @return The receivable.
    function invoiceReceivable(bytes32 commitment) external view returns (uint256);

    /// @notice Part `part` (all zero if none).
    /// @param part The part.
    /// @return The part.
    function partOf(uint256 part) external view returns (Part memory);

    /*//////////////////////////////////////////////////////////////
                                 ERC-721
    //////////////////////////////////////////////////////////////*/

    /// @notice ERC-721: how many parts `owner` holds.
    /// @param owner The account.
    /// @return The count.
    function balanceOf(address owner) external view returns (uint256);

    /// @notice ERC-721: who holds part `tokenId`.
    /// @param tokenId The part.
    /// @return The holder.
    function ownerOf(uint256 tokenId) external view returns (address);

    /// @notice ERC-721: moves part `tokenId` from `from` to `to`; both must be verified or banks.
    /// @param from The holder.
    /// @param to The receiver.
    /// @param tokenId The part.
    function transferFrom(address from, address to, uint256 tokenId) external;

    /// @notice ERC-721: {transferFrom}, then asks a contract receiver to accept.
    /// @param from The holder.
    /// @param to The receiver.
    /// @param tokenId The part.
    function safeTransferFrom(address from, address to, uint256 tokenId) external;

    /// @notice ERC-721: {transferFrom}, then asks a contract receiver to accept, with `data`.
    /// @param from The holder.
    /// @param to The receiver.
    /// @param tokenId The part.
    /// @param data Passed to the receiver.
    function safeTransferFrom(address from, address to, uint256 tokenId, bytes calldata data) external;

    /// @notice ERC-721: lets `approved` move part `tokenId`.
    /// @param approved The account (zero: nobody).
    /// @param tokenId The part.
    function approve(address approved, uint256 tokenId) external;

    /// @notice ERC-721: lets `operator` move all of the caller's parts, or no more.
    /// @param operator The account.
    /// @param approved Whether it may.
    function setApprovalForAll(address operator, bool approved) external;

    /// @notice ERC-721: who may move part `tokenId` besides its holder.
    /// @param tokenId The part.
    /// @return The account.
    function getApproved(uint256 tokenId) external view returns (address);

    /// @notice ERC-721: whether `operator` may move all of `owner`'s parts.
    /// @param owner The holder.
    /// @param operator The operator.
    /// @return Whether it may.
    function isApprovedForAll(address owner, address operator) external view returns (bool);

    /// @notice The semantic version of this contract: the chainpass release that built it.
    /// @return The version.
    function version() external pure returns (string memory);
}
