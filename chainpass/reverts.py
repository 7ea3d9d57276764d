"""Turn a contract's custom error into a sentence that says what to do next."""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from chainpass.artifacts import ANCHOR_CONTRACT, DEPLOYABLE_CONTRACTS, FINANCE_CONTRACTS, PROXY_CONTRACTS, load_artifact
from chainpass.enums import (
    STATUS_PHRASES,
    BizStep,
    Disposition,
    Level,
    LineState,
    Role,
    Sector,
    Standing,
    State,
    Status,
)
from chainpass.errors import ContractRevert

#: What each custom error means to the person who caused it. Keys are error names,
#: values are format strings over the error's arguments (addresses checksummed,
#: enums named by `chainpass.identity`).
MESSAGES: dict[str, str] = {
    # OpenZeppelin's ProxyAdmin and transparent proxy (docs/upgrades.md).
    "OwnableUnauthorizedAccount": "{account} does not own this ProxyAdmin: only its owner, the governor (under "
    "governance, the timelock, through a proposal), upgrades the contract behind the proxy.",
    "OwnableInvalidOwner": "{owner} cannot own a ProxyAdmin: give a real account.",
    "ERC1967InvalidImplementation": "{implementation} has no code: deploy the implementation before upgrading to it.",
    "ProxyDeniedAdminAccess": "The ProxyAdmin only upgrades: it cannot call the contract behind the proxy.",
    "IdentityNotGovernor": "{account} is not the registry governor: only the governor can do this.",
    "IdentityNotPendingGovernor": "{account} has not been offered the governor role.",
    "IdentityNotGuardian": "{account} is not the registry's guardian: only the guardian can pause it "
    "(chainpass pause); the governor names the guardian.",
    "IdentityPaused": "The identity registry is paused (an emergency stop by its guardian): nothing that adds "
    "trust can be written until the governor unpauses it; suspensions, revocations, recovery requests and "
    "withdrawals still work.",
    "IdentityNotPaused": "The identity registry is not paused: there is nothing to unpause.",
    "IdentityZeroAddress": "The zero address cannot take this role: give a real account.",
    "IdentityAlreadyInitialized": "This identity registry is already set up (its proxy's deployment did it; an "
    "implementation is never set up): nothing was changed.",
    "IdentityInvalidLevel": "Assurance level {level} cannot be granted: use low, substantial or high.",
    "IdentityInvalidSector": "Sector {sector} is not a sector: use government, bank, hospital, hotel, "
    "courier or other.",
    "IdentityNotAuthority": "{account} is not an appointed authority: ask the registry governor to "
    "appoint it (chainpass identity appoint-authority).",
    "IdentityNotRelyingParty": "{account} is not an appointed relying party: ask the registry governor "
    "to appoint it (chainpass identity appoint-relying-party).",
    "IdentityLevelAboveAuthority": "Authority {authority} may grant at most {maxLevel}, not {level}.",
    "IdentityExpiryNotInFuture": "The expiry {expiresAt} is not in the future (chain time is {nowTime}).",
    "IdentityEmptyCommitment": "The attribute commitment is empty.",
    "IdentityAlreadyVerified": "{holder} is already verified by {issuer}: use reverify to renew or "
    "update the verification.",
    "IdentityNotVerified": "{holder} has never been verified: verify the holder first.",
    "IdentityNotIssuer": "Only {holder}'s issuing authority {issuer} can do this, not {account}.",
    "IdentityHolderRevoked": "{holder}'s verification was revoked, and revocation is final.",
    "IdentityNotActive": "{holder} is not active (it is {status}).",
    "IdentityNotSuspended": "{holder} is not suspended (it is {status}), so there is nothing to reinstate.",
    "IdentityEmptyReason": "A suspension needs the salted commitment to its reason (the bureau keeps the reason "
    "itself off chain): give one.",
    "IdentityHolderMoved": "{holder}'s identity moved to another wallet: this wallet can do nothing more.",
    "IdentityConsentNotInFuture": "A consent must last until a time after now ({nowTime}), not {until}.",
    "IdentitySignatureExpired": "The signed message expired at {deadline} (chain time is {nowTime}): ask the "
    "holder to sign again.",
    "IdentityInvalidNonce": "The signed message carries nonce {given}, but {holder}'s next nonce is {expected}: "
    "it was used already, or cancelled. Ask the holder to sign again.",
    "IdentityInvalidSigner": "The signature is not {holder}'s (it recovers to {signer}): a field was altered, or "
    "it was signed for another chain, registry or account.",
    "IdentityMalleableSignature": "The signature has a high s value: it is a malleated copy of a valid signature "
    "and is refused.",
    "IdentityRecoveryPending": "{holder} already has a recovery pending to {newHolder} (ready at {readyAt}): "
    "cancel it first.",
    "IdentityNoRecovery": "{holder} has no recovery pending.",
    "IdentityRecoveryNotReady": "The recovery of {holder} cannot complete before {readyAt} (chain time is "
    "{nowTime}): the old key may still object until then.",
    "IdentityNotHolderOrIssuer": "Only {holder} itself or its issuer {issuer} can do this, not {account}.",
    "IdentityInvalidRecoveryDelay": "A recovery delay of {delay} s is outside {minDelay} to {maxDelay} s: choose "
    "one in that range (days are usual).",
    "IdentityWalletReserved": "{wallet} is reserved as the new wallet of {holder}'s pending recovery: nobody can "
    "move an identity into it until that recovery completes or is cancelled.",
    "IdentityHolderSuspended": "{holder} is suspended: its key can neither move the identity nor object to a "
    "recovery. Ask the issuing authority.",
    "IdentityRecoveryMismatch": "The objection names a recovery to {newHolder} ready at {readyAt}, which is not "
    "{holder}'s pending recovery: sign an objection to the pending one.",
    "IdentityRecoveryStale": "{holder}'s pending recovery was requested with a key that no longer acts for its "
    "issuer: request the recovery again.",
    "IdentityMalformedSignature": "The signature for {holder} is empty or malformed (not a 65-byte signature with "
    "v 27 or 28): no wallet was asked. Ask the holder to sign again.",
    "IdentityKeyInUse": "{key} already signs for an authority, or is an authority's id: use a fresh key.",
    "IdentityAuthorityActive": "Authority {authority} still acts with its key: rotate its key or remove it first.",
    "IdentityUnknownAuthority": "{authority} has never been appointed as an authority.",
    "IdentityInvalidSuccessor": "{authority} cannot take over the holders of {removed}: the successor must be "
    "another, active authority.",
    "IdentityInvalidCompromise": "A compromise window for {authority} must start at or before {until}, when its "
    "key stopped acting, not at {since}.",
    "IdentityNotCompromised": "{holder}'s suspension or revocation (at {changedAt}) was not made in a window the "
    "governor declared compromised: only the issuer's ordinary means apply.",
    # ProductPassport
    "PassportNotGovernor": "{account} is not the passport governor: only the governor can set roles, repair "
    "custody, name the guardian, unpause or hand over governance.",
    "PassportNotPendingGovernor": "{account} has not been offered the passport governor role.",
    "PassportNotGuardian": "{account} is not the passports' guardian: only the guardian can pause them "
    "(chainpass pause); the governor names the guardian.",
    "PassportPaused": "Passports are paused (an emergency stop by their guardian): nothing that adds trust can "
    "be written until the governor unpauses them; recalls, prefix and licence revocations still work.",
    "PassportNotPaused": "Passports are not paused: there is nothing to unpause.",
    # The anchored batches of EPCIS events (chainpass.anchor).
    "AnchorNotAnOrganisation": "{account} holds no role in the passports: only an organisation known to them "
    "(a producer, carrier, inspector ...) anchors events; ask the passport governor to grant it one.",
    "AnchorNotVerified": "{account} has no identity in force in the registry (its standing is {standing}): have "
    "an authority verify, renew or reinstate it before it anchors events.",
    "AnchorAlreadyAnchored": "These events are anchored already, by {organisation}: the proof bundles of that "
    "anchor hold; nothing was anchored again.",
    "AnchorEmptyBatch": "A batch holds at least one event, and its root is a real hash: nothing was anchored.",
    "PassportMissingRole": "{account} does not hold the passport role this needs ({role}): ask the passport "
    "governor to grant it.",
    "PassportActorNotVerified": "{account} has no identity in force in the registry (its standing is {standing}): "
    "have an authority verify, renew or reinstate it before it acts on passports.",
    "PassportUnknown": "No passport {id} exists: check the scanned code, or commission the passport first.",
    "PassportExists": "Passport {id} exists already: these GS1 keys were commissioned before, so give each "
    "product its own serial or lot number.",
    "PassportInvalidKey": "GTIN {gtin} with serial or lot {serial} is not a valid key: items and lots need tier 0, "
    "containers tier 1 to 3, a serial, and a GTIN (0 only for an SSCC or GIAI, given in the serial; never for a lot).",
    "PassportInvalidTransition": "Passport {id} is {state}, so {bizStep} cannot be recorded on it now: check its "
    "state (and its containers') and record the steps in order.",
    "PassportInvalidDisposition": "The step {bizStep} cannot leave goods {disposition}: give the step's own "
    "disposition (inspecting conformant or a quarantining one such as non_conformant or damaged, or in_progress; "
    "shipping in_transit; receiving a usable one such as active, sellable, sellable_accessible or in_progress; "
    "customs_releasing in_transit, customs_holding non_conformant, retail_selling retail_sold, recalling recalled, "
    "decommissioning inactive, destroying destroyed); other steps are observations and take any disposition but "
    "recalled, retail_sold, inactive, destroyed, disposed and dispensed, which only their own steps record.",
    "PassportInContainer": "Passport {id} is packed in container {container}: record the event on the container, "
    "or unpack the passport first.",
    "PassportNotPacked": "Passport {id} is not packed in any container, so there is nothing to unpack.",
    "PassportCannotHold": "Container {container} (tier {containerTier}) cannot hold passport {id} (tier {tier}): "
    "a container holds only lower tiers (goods 0, case 1, pallet 2, shipping container 3).",
    "PassportEmptyBatch": "The batch is empty: give at least one passport or event.",
    "PassportZeroAddress": "The zero address cannot take this role or hold passports: give a real account.",
    "PassportAlreadyInitialized": "These passports are already set up (their proxy's deployment did it; an "
    "implementation is never set up): nothing was changed.",
    "PassportNotOwnerNorApproved": "{account} may not transfer passport {id}: only its owner, or an account the "
    "owner approved, can.",
    "PassportInvalidReceiver": "{receiver} cannot receive passports: send them to an account, or to a contract "
    "that accepts ERC-721 tokens.",
    "PassportWrongOwner": "Passport {id} is owned by {owner}: only a transfer from its owner can move it.",
    "PassportNotItsProducer": "Only {producer}, which commissioned passport {id}, or a food-safety authority can "
    "recall it.",
    "PassportNotConsumable": "Passport {id} is {state}: a transformation consumes only goods (items or lots) that "
    "are active and not packed in a container.",
    "PassportNoInputs": "Transformation {transformationId} is new, so it needs at least one input to consume "
    "(and a non-zero id).",
    "PassportNotItsTransformer": "Transformation {transformationId} was started by {producer}: only it can add "
    "inputs or outputs to it.",
    "PassportInactive": "Passport {id} is {state}: nothing more can happen to its goods.",
    "PassportTransformationSealed": "Transformation {transformationId} takes no more inputs: something made from "
    "its outputs has been consumed already, and new inputs would not reach it. Record a new transformation.",
    "PassportOwnOutput": "Passport {id} is an output of transformation {transformationId}, so it cannot be an "
    "input of it too.",
    "PassportAlreadyCustodian": "{account} holds the goods of passport {id} already.",
    "PassportOfferExpired": "The custody offer expired at {deadline}: ask the holder for a new one.",
    "PassportInvalidOffer": "The custody offer is not signed by {custodian}, who holds the goods (it was signed by "
    "{signer}): ask the holder for an offer made out to you, for the current custody nonce.",
    "PassportMalleableSignature": "The offer's signature has a high s value: it is a malleated copy, so it is refused.",
    "PassportHeldElsewhere": "Passport {id} is held by {holder} and container {container} by {containerHolder}: "
    "packing cannot move goods between holders, so hand one over to the other first (offer and accept).",
    "PassportNotHolder": "Only {holder}, who holds the goods of passport {id}, can record this on it, not {account}: "
    "physical steps and observations belong to whoever holds the goods (take custody first: offer and accept).",
    "PassportUnregisteredPrefix": "No brand is registered for the GS1 company prefix of GTIN {gtin} (serial or key "
    "{serial}): a registrar must register the prefix to its licensee before anything is commissioned under it.",
    "PassportNotLicensed": "{account} holds no licence from {brand}, the brand that owns the GS1 company prefix of "
    "the code (GTIN {gtin}, serial or key {serial}), to commission it: ask the brand for a licence (chainpass brand "
    "license).",
    "PassportInvalidPrefix": "The GS1 company prefix {prefix} ({length} digits) is not valid: give 4 to 12 digits.",
    "PassportPrefixTaken": "GS1 company prefix {prefix} ({length} digits) is registered to {licensee} already: "
    "revoke that registration first (a prefix inside a registered one names the registered one).",
    "PassportPrefixContainsRegistered": "GS1 company prefix {prefix} ({length} digits) contains {count} registered, "
    "longer prefixes: GS1 company prefixes never contain one another, so revoke those first.",
    "PassportNoReason": "A custody repair needs the reason: the hash of the governor's written decision.",
    "PassportPrefixNotRegistered": "GS1 company prefix {prefix} ({length} digits) is not registered.",
    "PassportNotBrand": "Only {brand}, the licensee of GS1 company prefix {prefix} ({length} digits), can license "
    "manufacturers under it, not {account}.",
    "PassportNotUnderPrefix": "GTIN {gtin} is not under GS1 company prefix {prefix} ({length} digits).",
    "PassportNotMember": "{account} is not an organisation known to the passports: the governor sets its roles first.",
    "PassportMemberMoved": "{account}'s identity moved to {successor}: act with the new wallet, or name it.",
    "PassportNotMoved": "{account}'s identity has not moved in the registry, so there is nothing to follow.",
    "PassportMemberExists": "{account} is an organisation on the passports already, so another one cannot move into "
    "it: ask the governor to clear its roles, or rotate to a fresh wallet.",
    "PassportEventInFuture": "The event time {eventTime} lies in the future (chain time is {nowTime}; 15 minutes of "
    "clock skew are allowed): record events when they have happened.",
    "PassportCustodianInForce": "{custodian}, who holds the goods of passport {id}, still stands in the registry: "
    "only the goods of a custodian whose identity was revoked can be taken back by the owner; ask the holder for "
    "an offer, or the governor for a repair.",
    # TradeFinance (docs/finance.md) and the dev dollar.
    "FinanceNotVerified": "{account} has no identity in force in the registry (it is {standing}): trade finance "
    "deals only with verified organisations, at the moment they act.",
    "FinanceNotBank": "{account} is not an appointed relying party of sector bank: only a bank finances receivables.",
    "FinanceNotEligibleHolder": "{account} may not hold a receivable: it is neither verified in the registry nor a "
    "bank.",
    "FinanceNotParty": "Only {expected} can do this on the order or receivable, not {account}.",
    "FinanceBadLines": "An order takes 1 to {max} passports with one price each, not {count} passports and "
    "{prices} prices.",
    "FinanceLinesNotAscending": "The order lists passport {id} twice or out of order: list each passport once.",
    "FinanceZeroAmount": "A price, amount or part must be more than zero.",
    "FinanceSameParty": "{account} cannot be two parties of one deal: buyer, seller and arbiter must differ.",
    "FinanceNotInFuture": "The time {time} is not in the future (chain time is {nowTime}): give a later one.",
    "FinanceBadWindow": "A dispute window of {window} s is not allowed: give 1 s to {max} s with an arbiter, and none "
    "without one.",
    "FinancePassportUnfit": "Passport {id} is {state}: an order takes only passports that are active or in transit.",
    "FinanceAlreadyReceived": "The goods of passport {id} are in the buyer's custody already: invoice them instead "
    "of escrowing their price.",
    "FinancePassportTaken": "Passport {id} is in order {order}, which has not finished with it: settle or refund "
    "that line first.",
    "FinanceContainerTaken": "The goods of passport {id} are packed in container {container}, which is in order "
    "{order}, not finished yet: the same goods cannot be paid for twice, so order the container or its contents.",
    "FinanceContentsTaken": "Passport {id} holds goods that are in {lines} unfinished order line(s): the same goods "
    "cannot be paid for twice, so order the container or its contents.",
    "FinanceNoArbiter": "Order {order} has no arbiter to replace.",
    "FinanceUnknownOrder": "There is no order {order}.",
    "FinanceLineNotOpen": "Passport {id} has no line in order {order} that can do this (its line is {line}).",
    "FinanceNotReceived": "The goods of passport {id} (order {order}) are not in the buyer's custody and usable "
    "there (they are {state}): the line pays once the buyer has received them.",
    "FinanceNotAccepted": "Order {order} waits for the seller to accept its arbiter (chainpass finance accept).",
    "FinanceNothingToAccept": "Order {order} was accepted already, or has no arbiter to accept.",
    "FinanceWindowOpen": "The dispute window of passport {id} in order {order} is open until {endsAt} (chain time "
    "is {nowTime}): settle it after that.",
    "FinanceWindowClosed": "The dispute window of passport {id} in order {order} closed at {endsAt} (chain time is "
    "{nowTime}): it can no longer be disputed.",
    "FinanceNotRefundable": "Passport {id} of order {order} cannot be refunded now: it is not recalled, not held on "
    "its way, and its delivery deadline has not passed.",
    "FinanceTransferShort": "The token {token} moved {received} where {expected} was due (a fee on transfer): trade "
    "finance refuses such tokens, so nothing was moved.",
    "FinanceInvoiceTaken": "This invoice's commitment backs receivable {receivable} already: an invoice is "
    "registered, and financed, once only.",
    "FinanceEmptyCommitment": "The invoice's commitment is empty: compute it from the invoice (chainpass finance "
    "invoice accept).",
    "FinanceInvalidSignature": "The signature is not {signer}'s (it recovers to {recovered}): a field was altered, "
    "or it was signed for another chain or contract. Ask for a new one.",
    "FinanceSignatureExpired": "The signed message expired at {deadline} (chain time is {nowTime}): ask for a new one.",
    "FinanceInvalidNonce": "The offer carries nonce {given}, but {holder}'s next nonce is {expected}: it was used or "
    "cancelled.",
    "FinanceNotUnpaidInvoice": "Receivable {receivable} is not an unpaid invoice: nothing to pay.",
    "FinanceUnknownPart": "There is no receivable part {part}.",
    "FinanceNothingToClaim": "Part {part} has nothing to claim now: what it is owed has not been paid in yet.",
    "FinanceBadSplit": "A split takes 2 to {max} amounts, each above zero, summing to {remaining} (what the part has "
    "not been paid yet), not {count} amounts summing to {total}.",
    "FinanceNotOwnerNorApproved": "{account} may not move part {part}: only its holder, or whom it approved.",
    "FinanceWrongHolder": "Part {part} is held by {holder}, not by the account given.",
    "FinanceInvalidReceiver": "{receiver} is a contract that does not accept ERC-721 tokens: send the part elsewhere.",
    "FinanceAmountTooLarge": "The amount {amount} is too large.",
    "FinanceHolderMoved": "Part {part}'s holder {holder} moved its identity to {successor}: the old wallet no "
    "longer acts for it. Move the part there first (`chainpass finance follow {part}`, anyone may).",
    "FinanceHolderNotMoved": "Part {part}'s holder {holder} has not moved its identity: there is nothing to follow.",
    "FinanceTooManyMoves": "{account}'s identity moved more than 8 times: follow its parts "
    "(`chainpass finance follow PART`) or orders (`chainpass finance follow-buyer ORDER`) until they "
    "reach it, then try again.",
    "FinanceBuyerNotMoved": "Order {order}'s buyer, at {buyer}, has not moved its identity: there is nothing to "
    "follow.",
    "ERC20InsufficientBalance": "{sender} holds {balance} of the token, not the {needed} needed.",
    "ERC20InsufficientAllowance": "{spender} may spend {allowance} of the token, not the {needed} needed: approve it "
    "first.",
    "ERC2612ExpiredSignature": "The token permit expired at {deadline}: sign a new one.",
    "ERC2612InvalidSigner": "The token permit is signed by {signer}, not {owner}.",
    "DevStablecoinNotMinter": "{account} is not the dev dollar's minter (its deployer).",
    # OpenZeppelin's SafeERC20 and ReentrancyGuard, in TradeFinance.
    "SafeERC20FailedOperation": "The token {token} refused a transfer (it failed, or returned false): check that "
    "the payer holds the amount and has approved it, and that the token is an ordinary ERC-20.",
    "ReentrancyGuardReentrantCall": "The call came back into the contract before its first call had finished (a "
    "token or a receiving contract calling in): refused, and nothing changed.",
}

#: Names for enum-typed error arguments, by argument name, from the contracts' enums
#: (:mod:`chainpass.enums`). A registry status reads as a phrase in a sentence.
ENUM_NAMES: dict[str, tuple[str, ...]] = {
    "level": tuple(m.label for m in Level),
    "maxLevel": tuple(m.label for m in Level),
    "sector": tuple(m.label for m in Sector),
    "status": tuple(STATUS_PHRASES[m] for m in Status),
    "standing": tuple(m.label for m in Standing),
    "state": tuple(m.label for m in State),
    "line": tuple(m.label for m in LineState),
    "bizStep": tuple(m.label for m in BizStep),
    "disposition": tuple(m.label for m in Disposition),
}

#: Names for bit-set error arguments, bit 0 first; 0 means any of them.
FLAG_NAMES: dict[str, tuple[str, ...]] = {"role": tuple(m.name.lower() for m in Role if m.name)}

#: Passport ids (256-bit hashes) are shown by their first and last hex digits.
PASSPORT_IDS = frozenset({"id", "container"})
#: So are the hashes that name things (bytes32).
HASH_IDS = frozenset({"transformationId"})


@dataclass(frozen=True)
class _ErrorAbi:
    name: str
    arg_names: tuple[str, ...]
    arg_types: tuple[str, ...]


def _abi_type(entry: dict[str, Any]) -> str:
    return str(entry["type"])


@cache
def _errors_by_selector() -> dict[bytes, _ErrorAbi]:
    errors: dict[bytes, _ErrorAbi] = {}
    for name in (*DEPLOYABLE_CONTRACTS, *FINANCE_CONTRACTS, ANCHOR_CONTRACT, *PROXY_CONTRACTS):
        for entry in load_artifact(name).abi:
            if entry["type"] != "error":
                continue
            types = tuple(_abi_type(i) for i in entry["inputs"])
            signature = f"{entry['name']}({','.join(types)})"
            errors[function_signature_to_4byte_selector(signature)] = _ErrorAbi(
                entry["name"], tuple(i["name"] for i in entry["inputs"]), types
            )
    return errors


def _display(name: str, value: Any) -> Any:
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    if isinstance(value, int) and name in ENUM_NAMES and 0 <= value < len(ENUM_NAMES[name]):
        return ENUM_NAMES[name][value]
    if isinstance(value, int) and name in FLAG_NAMES:
        return _flags(FLAG_NAMES[name], value)
    if isinstance(value, int) and name in PASSPORT_IDS:
        digits = f"{value:x}"
        return digits if len(digits) <= 12 else f"{digits[:8]}…{digits[-4:]}"
    if isinstance(value, int) and name == "gtin":
        return f"{value:014d}"
    if isinstance(value, bytes) and name == "serial":
        return repr(value.rstrip(b"\0").decode("ascii", errors="backslashreplace"))
    if isinstance(value, bytes) and name in HASH_IDS:
        digits = value.hex()
        return f"{digits[:8]}…{digits[-4:]}"
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def _flags(names: tuple[str, ...], value: int) -> str:
    if value == 0:
        return "any role"
    chosen = [n for bit, n in enumerate(names) if value & (1 << bit)]
    chosen += [f"bit {bit}" for bit in range(len(names), value.bit_length()) if value & (1 << bit)]
    return chosen[0] if len(chosen) == 1 else f"{', '.join(chosen[:-1])} or {chosen[-1]}"


def decode_revert(data: bytes) -> ContractRevert | None:
    """The :class:`ContractRevert` for revert data ``data``, or None if no custom error matches."""
    error = _errors_by_selector().get(bytes(data[:4]))
    if error is None:
        return None
    values = abi_decode(list(error.arg_types), bytes(data[4:]))
    raw = dict(zip(error.arg_names, values, strict=True))
    args = {n: _display(n, v) for n, v in raw.items()}
    if isinstance(args.get("prefix"), int) and isinstance(args.get("length"), int):
        # A GS1 company prefix is digits, leading zeros included (0614141, not 614141).
        args["prefix"] = f"{args['prefix']:0{args['length']}d}"
    template = MESSAGES.get(error.name)
    if template is None:
        rendered = ", ".join(f"{k}={v}" for k, v in args.items())
        message = f"The contract refused: {error.name}({rendered})."
    else:
        message = template.format(**{n: _time_text(v) if n in TIME_ARGS else v for n, v in args.items()})
    return ContractRevert(message, error.name, args, raw)


#: Error arguments that are Unix times: shown to people as dates (the args keep the numbers).
TIME_ARGS = frozenset(
    {"expiresAt", "nowTime", "until", "deadline", "readyAt", "since", "changedAt", "eventTime", "time", "endsAt"}
)


def _time_text(value: Any) -> Any:
    if not isinstance(value, int):
        return value
    try:
        # The date for people; the Unix time too, for matching against logs and scripts.
        return dt.datetime.fromtimestamp(value, dt.UTC).strftime(f"%Y-%m-%d %H:%M:%S UTC (Unix time {value})")
    except (OverflowError, ValueError, OSError):
        return value


_HEX_DATA = re.compile(r"0x[0-9a-fA-F]{8,}")


def revert_data_from_exception(exc: BaseException) -> bytes | None:
    """The raw revert data carried by an exception from web3 or eth-tester, if any.

    web3 puts it in ``.data`` (a hex string, or a dict with ``data``, or with ``result``
    from Ganache) when talking to a node; eth-tester raises ``TransactionFailed("execution reverted: b'...'")``.
    """
    for candidate in _candidates(exc):
        if isinstance(candidate, bytes | bytearray) and len(candidate) >= 4:
            return bytes(candidate)
        if isinstance(candidate, str):
            literal = candidate.partition("execution reverted: ")[2]
            if literal.startswith(("b'", 'b"')):
                try:
                    value = ast.literal_eval(literal)
                except (ValueError, SyntaxError):
                    value = None
                if isinstance(value, bytes) and len(value) >= 4:
                    return value
            match = _HEX_DATA.search(candidate)
            if match:
                return bytes.fromhex(match.group(0)[2:])
    return None


def _candidates(exc: BaseException) -> Iterable[Any]:
    # Anvil and most nodes put the revert data in the error's "data"; Ganache 7 in the
    # error data's "result" (web3 hands it over as {"hash", "programCounter", "result", ...}).
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        yield data.get("data")
        yield data.get("result")
    elif data is not None:
        yield data
    for arg in exc.args:
        if isinstance(arg, dict):
            yield arg.get("data")
            yield arg.get("result")
        else:
            yield arg
