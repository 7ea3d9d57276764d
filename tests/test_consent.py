"""Consent, gasless signatures, contract wallets, key rotation and recovery.

Every test runs on the embedded EVM and on Anvil (see conftest.py). Holders are fresh
keys with no ETH: whatever they do, they sign (EIP-712) and someone else relays and
pays. A refusal is asserted twice where the client has a check of its own: once in
`IdentityRegistry.relay` (before anything is sent) and once in the contract itself,
by sending the raw ``...BySig`` function, so that the contract's custom error is seen.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from accounts import YEAR, Roles, credential_for, fund, malleated, new_account
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress, HexStr
from eth_utils import function_signature_to_4byte_selector, keccak
from solidity import compile_test_contract
from support import assert_readable, assert_refused, logs, refused_by_client
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from chainpass.artifacts import load_artifact
from chainpass.attributes import Credential
from chainpass.chain import Chain
from chainpass.deployment import DEFAULT_RECOVERY_DELAY, deploy
from chainpass.enums import Level, Standing, Status
from chainpass.errors import ChainIdMismatch, InsufficientFunds, InvalidInput
from chainpass.identity import IdentityRegistry, Recovery
from chainpass.reverts import MESSAGES, decode_revert
from chainpass.signatures import (
    ACTIONS,
    Domain,
    SignedAction,
    TypedAction,
    is_high_s,
    load_typed_action,
    parse_signature,
)

HOUR = 60 * 60
ZERO_ADDRESS = "0x" + "00" * 20
ERC1271_MAGIC = bytes.fromhex("1626ba7e")
#: The custom errors that came with consent, signatures, rotation and recovery.
NEW_ERRORS = (
    "IdentityHolderMoved",
    "IdentityConsentNotInFuture",
    "IdentitySignatureExpired",
    "IdentityInvalidNonce",
    "IdentityInvalidSigner",
    "IdentityMalleableSignature",
    "IdentityRecoveryPending",
    "IdentityNoRecovery",
    "IdentityRecoveryNotReady",
    "IdentityNotHolderOrIssuer",
    "IdentityInvalidRecoveryDelay",
    "IdentityWalletReserved",
    "IdentityHolderSuspended",
    "IdentityRecoveryMismatch",
    "IdentityRecoveryStale",
    "IdentityMalformedSignature",
    "IdentityKeyInUse",
    "IdentityAuthorityActive",
    "IdentityUnknownAuthority",
    "IdentityInvalidSuccessor",
    "IdentityInvalidCompromise",
    "IdentityNotCompromised",
)

# ---------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Resident:
    """A holder verified by the bureau (high, for a year): a fresh key with no ETH."""

    account: LocalAccount
    credential: Credential
    expires_at: int

    @property
    def address(self) -> ChecksumAddress:
        return self.account.address


def verify_resident(chain: Chain, registry: IdentityRegistry, roles: Roles) -> Resident:
    account = new_account()
    credential = credential_for(account.address)
    expires_at = chain.latest_timestamp() + YEAR
    registry.verify(credential, Level.HIGH, expires_at, sender=roles.bureau)
    return Resident(account, credential, expires_at)


@pytest.fixture
def resident(chain: Chain, registry: IdentityRegistry, roles: Roles) -> Resident:
    return verify_resident(chain, registry, roles)


def deadline(chain: Chain, seconds: int = HOUR) -> int:
    return chain.latest_timestamp() + seconds


def consent(registry: IdentityRegistry, holder: LocalAccount, party: str, relayer: str, until: int) -> TxReceipt:
    """``holder`` signs a consent to ``party`` until ``until``; ``relayer`` submits it."""
    typed = registry.typed_grant_consent(holder.address, party, until, deadline=deadline(registry.chain))
    return registry.relay(typed.sign(holder), sender=relayer)


def by_sig(registry: IdentityRegistry, signed: SignedAction) -> ContractFunction:
    """The raw ``...BySig`` contract function for ``signed``, with no client check in the way."""
    action = signed.action
    fields = [action.message[f["name"]] for f in ACTIONS[action.primary_type]]
    name = action.primary_type[0].lower() + action.primary_type[1:] + "BySig"
    function: ContractFunction = getattr(registry.contract.functions, name)(*fields, signed.signature)
    return function


def sign_as(account: LocalAccount, action: TypedAction) -> SignedAction:
    """``action`` signed by ``account`` whoever the message names as holder (a wallet's eth_signTypedData_v4)."""
    return SignedAction(action, bytes(Account.sign_typed_data(account.key, full_message=action.to_json()).signature))


def with_domain(action: TypedAction, domain: Domain) -> TypedAction:
    return TypedAction(domain, action.primary_type, dict(action.message))


def altered(action: TypedAction, **changes: Any) -> TypedAction:
    return TypedAction(action.domain, action.primary_type, {**action.message, **changes})


# ------------------------------------------------------------------ consent


def test_check_without_consent_learns_nothing_but_is_recorded(
    chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident
) -> None:
    result = registry.check(resident.address, sender=roles.bank)

    receipt = chain.w3.eth.get_transaction_receipt(HexStr(result.tx_hash))
    assert (result.standing, result.valid) == (Standing.NO_CONSENT, False)
    assert (result.level, result.issuer, result.expires_at) == (Level.NONE, None, 0)
    assert result.to_json()["expires"] is None
    assert logs(registry, "HolderChecked", receipt) == [
        {"holder": resident.address, "relyingParty": roles.bank, "standing": Standing.NO_CONSENT}
    ]
    assert [(c.actor, c.details, c.tx_hash) for c in registry.checks_of(resident.address)] == [
        (roles.bank, {"standing": "no_consent"}, result.tx_hash)
    ]
    assert registry.consent_until(resident.address, roles.bank) == 0
    assert registry.status(resident.address).standing is Standing.VALID  # the verification itself holds


def test_consent_holds_until_its_end(
    chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident
) -> None:
    until = chain.latest_timestamp() + 1_000

    receipt = consent(registry, resident.account, roles.bank, roles.bank, until)
    stored = registry.consent_until(resident.address, roles.bank)
    chain.advance_time(until - 10 - chain.latest_timestamp())
    before_end = registry.check(resident.address, sender=roles.bank)
    chain.advance_time(until - chain.latest_timestamp())
    after_end = registry.check(resident.address, sender=roles.bank)

    assert logs(registry, "ConsentGranted", receipt) == [
        {"holder": resident.address, "relyingParty": roles.bank, "until": until}
    ]
    assert stored == until
    assert (before_end.standing, before_end.level, before_end.issuer, before_end.expires_at) == (
        Standing.VALID,
        Level.HIGH,
        roles.bureau,
        resident.expires_at,
    )
    assert chain.w3.eth.get_block(after_end.block_number)["timestamp"] >= until
    assert (after_end.standing, after_end.level, after_end.issuer) == (Standing.NO_CONSENT, Level.NONE, None)
    assert [c.details["standing"] for c in registry.checks_of(resident.address)] == ["valid", "no_consent"]


def test_consent_ends_at_its_end_second(
    chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident
) -> None:
    until = chain.latest_timestamp() + 100
    consent(registry, resident.account, roles.bank, roles.bank, until)
    check = registry.contract.functions.check(resident.address)

    seen: list[tuple[int, Standing]] = []
    for target in (until - 1, until):  # a call sees the latest block's time
        chain.advance_time(target - chain.latest_timestamp())
        seen.append((chain.latest_timestamp(), Standing(check.call({"from": roles.bank}))))

    # Anvil's clock follows the wall clock, so it may land a second late; the embedded one is exact.
    assert all(standing is (Standing.VALID if at < until else Standing.NO_CONSENT) for at, standing in seen)
    assert seen[-1][0] >= until
    if chain.is_embedded:
        assert seen == [(until - 1, Standing.VALID), (until, Standing.NO_CONSENT)]


def test_consent_is_per_relying_party_and_withdrawal_is_immediate(
    chain: Chain, registry: IdentityRegistry, roles: Roles
) -> None:
    holder = chain.account(8)  # a dev account: it pays its own gas here
    registry.verify(credential_for(holder), Level.HIGH, deadline(chain, YEAR), sender=roles.bureau)
    until = deadline(chain, YEAR)

    granted = registry.grant_consent(roles.bank, until, sender=holder)
    bank_only = [registry.check(holder, sender=p).standing for p in (roles.bank, roles.hotel)]
    registry.grant_consent(roles.hotel, until, sender=holder)
    withdrawn = registry.withdraw_consent(roles.bank, sender=holder)
    after = [registry.check(holder, sender=p).standing for p in (roles.bank, roles.hotel)]

    assert logs(registry, "ConsentGranted", granted) == [{"holder": holder, "relyingParty": roles.bank, "until": until}]
    assert bank_only == [Standing.VALID, Standing.NO_CONSENT]
    assert logs(registry, "ConsentWithdrawn", withdrawn) == [{"holder": holder, "relyingParty": roles.bank}]
    assert after == [Standing.NO_CONSENT, Standing.VALID]
    assert (registry.consent_until(holder, roles.bank), registry.consent_until(holder, roles.hotel)) == (0, until)
    assert registry.nonce(holder) == 0  # direct transactions use no signature nonce


def test_a_new_consent_replaces_the_old_one(chain: Chain, registry: IdentityRegistry, roles: Roles) -> None:
    holder = chain.account(8)
    registry.verify(credential_for(holder), Level.HIGH, deadline(chain, YEAR), sender=roles.bureau)
    registry.grant_consent(roles.bank, deadline(chain, YEAR), sender=holder)
    shorter = deadline(chain, 100)

    registry.grant_consent(roles.bank, shorter, sender=holder)
    chain.advance_time(shorter - chain.latest_timestamp())

    assert registry.consent_until(holder, roles.bank) == shorter
    assert registry.check(holder, sender=roles.bank).standing is Standing.NO_CONSENT


def test_consent_does_not_hide_a_suspension_or_revocation(
    chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident
) -> None:
    consent(registry, resident.account, roles.bank, roles.bank, deadline(chain, YEAR))

    registry.suspend(resident.address, 4, sender=roles.bureau)
    suspended = registry.check(resident.address, sender=roles.bank)
    registry.revoke(resident.address, sender=roles.bureau)
    revoked = registry.check(resident.address, sender=roles.bank)

    assert (suspended.standing, revoked.standing) == (Standing.SUSPENDED, Standing.REVOKED)
    # Revoked: no new consent, but the holder may still withdraw the old one.
    assert_refused(
        chain,
        lambda: consent(registry, resident.account, roles.hotel, roles.bank, deadline(chain, YEAR)),
        "IdentityHolderRevoked",
    )
    typed = registry.typed_withdraw_consent(resident.address, roles.bank, deadline=deadline(chain))
    registry.relay(typed.sign(resident.account), sender=roles.bank)
    assert registry.check(resident.address, sender=roles.bank).standing is Standing.NO_CONSENT


def test_consent_input_is_checked_by_client_and_contract(
    chain: Chain, registry: IdentityRegistry, roles: Roles
) -> None:
    holder = chain.account(8)
    registry.verify(credential_for(holder), Level.HIGH, deadline(chain, YEAR), sender=roles.bureau)
    now = chain.latest_timestamp()
    functions = registry.contract.functions

    refused_by_client(chain, lambda: registry.grant_consent(roles.bank, now, sender=holder), InvalidInput, "future")
    refused_by_client(
        chain, lambda: registry.grant_consent(roles.stranger, now + HOUR, sender=holder), InvalidInput, "appointed"
    )
    past = assert_refused(
        chain, lambda: chain.transact(functions.grantConsent(roles.bank, now), holder), "IdentityConsentNotInFuture"
    )
    assert_refused(
        chain, lambda: chain.transact(functions.grantConsent(ZERO_ADDRESS, now + HOUR), holder), "IdentityZeroAddress"
    )
    never = assert_refused(
        chain,
        lambda: chain.transact(functions.grantConsent(roles.bank, now + HOUR), roles.stranger),
        "IdentityNotVerified",
    )

    now_time = past.error_args["nowTime"]
    assert past.error_args["until"] == now and isinstance(now_time, int) and now_time >= now
    assert never.error_args == {"holder": roles.stranger}
    assert registry.consent_until(holder, roles.bank) == 0


# ----------------------------------------------------------- gasless consent


def test_a_signature_with_v_0_or_1_is_taken_in_its_27_or_28_form(
    chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident
) -> None:
    """Some wallets give v as 0/1. The contracts take only 27/28 (OpenZeppelin's ECDSA):
    sent as it is, the signature is refused as malformed; read by the client
    (`parse_signature`, as `consent relay` and offer files do), it goes through."""
    typed = registry.typed_grant_consent(resident.address, roles.bank, deadline(chain, YEAR), deadline=deadline(chain))
    signed = typed.sign(resident.account)
    low_v = signed.signature[:64] + bytes([signed.signature[64] - 27])

    as_sent = by_sig(registry, SignedAction(typed, low_v))
    assert_refused(chain, lambda: chain.transact(as_sent, roles.bank), "IdentityMalformedSignature")
    assert parse_signature("0x" + low_v.hex()) == signed.signature
    registry.relay(SignedAction(typed, parse_signature("0x" + low_v.hex())), sender=roles.bank)
    assert registry.consent_until(resident.address, roles.bank) == typed.message["until"]


def test_gasless_consent_the_relayer_pays(
    chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident
) -> None:
    until = deadline(chain, YEAR)
    typed = registry.typed_grant_consent(resident.address, roles.bank, until, deadline=deadline(chain))
    signed = typed.sign(resident.account)
    # What travels from the holder's wallet to the bank: eth_signTypedData_v4 JSON and a signature.
    shipped = load_typed_action(json.dumps(signed.to_json()))
    bank_before = chain.w3.eth.get_balance(roles.bank)

    receipt = registry.relay(SignedAction(shipped, signed.signature), sender=roles.bank)

    paid = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert shipped == typed and typed.signer(signed.signature) == resident.address
    assert receipt["from"] == roles.bank and paid > 0
    assert chain.w3.eth.get_balance(roles.bank) == bank_before - paid
    assert chain.w3.eth.get_balance(resident.address) == 0
    assert logs(registry, "ConsentGranted", receipt) == [
        {"holder": resident.address, "relyingParty": roles.bank, "until": until}
    ]
    assert (
        registry.consent_until(resident.address, roles.bank),
        registry.consent_nonce(resident.address, roles.bank),
    ) == (
        until,
        1,
    )
    # The nonce is the (holder, bank) pair's: the holder's key nonce and other parties' are untouched.
    assert (registry.nonce(resident.address), registry.consent_nonce(resident.address, roles.hotel)) == (0, 0)
    assert registry.check(resident.address, sender=roles.bank).standing is Standing.VALID
    # The same signature once more, straight to the contract: the nonce is spent.
    raw_replay = registry.contract.functions.grantConsentBySig(
        resident.address, roles.bank, until, typed.nonce, typed.deadline, signed.signature
    )
    replay = assert_refused(chain, lambda: chain.transact(raw_replay, roles.hotel), "IdentityInvalidNonce")
    assert replay.error_args == {"holder": resident.address, "expected": 1, "given": 0}


def test_a_holder_without_eth_cannot_send_but_can_sign(
    chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident
) -> None:
    with pytest.raises(InsufficientFunds, match="relay"):
        registry.grant_consent(roles.bank, deadline(chain, YEAR), sender=resident.account)

    consent(registry, resident.account, roles.bank, roles.stranger, deadline(chain, YEAR))
    assert registry.check(resident.address, sender=roles.bank).standing is Standing.VALID


def test_domain_matches_the_contract(chain: Chain, registry: IdentityRegistry, resident: Resident) -> None:
    typed = registry.typed_cancel_signatures(resident.address, deadline=deadline(chain))

    signable = encode_typed_data(full_message=typed.to_json())

    assert registry.domain() == Domain(chain.chain_id, registry.address)
    assert bytes(registry.contract.functions.DOMAIN_SEPARATOR().call()) == signable.header
    assert registry.contract.functions.version().call() == "0.7.0"


# ------------------------------------------------------ signature security
#
# Each attack is tried on granting and withdrawing consent and on rotation (the two
# cancellations get the main ones): the client refuses what it can tell, and the
# contract refuses all of it with a named error, mining nothing.


@dataclass(frozen=True)
class Scene:
    chain: Chain
    registry: IdentityRegistry
    roles: Roles
    resident: Resident
    #: A fresh wallet: the rotation target.
    new_wallet: LocalAccount
    kind: str
    #: The resident's nonce for this kind when the scene starts: the nonce its signature carries.
    nonce: int

    def nonce_now(self) -> int:
        """The resident's nonce for this kind of action now (each kind has its own sequence)."""
        return scene_nonce(self.registry, self.resident.address, self.roles.bank, self.kind)

    def typed(self, seconds: int = HOUR) -> TypedAction:
        """The resident's ``kind`` action at its current nonce, valid for ``seconds``."""
        r, holder, end = self.registry, self.resident.address, deadline(self.chain, seconds)
        match self.kind:
            case "GrantConsent":
                return r.typed_grant_consent(holder, self.roles.bank, deadline(self.chain, YEAR), deadline=end)
            case "WithdrawConsent":
                return r.typed_withdraw_consent(holder, self.roles.bank, deadline=end)
            case "Rotate":
                return r.typed_rotate(holder, self.new_wallet.address, deadline=end)
            case "CancelSignatures":
                return r.typed_cancel_signatures(holder, deadline=end)
            case _:
                return r.typed_cancel_recovery(holder, deadline=end)

    def raw(self, signed: SignedAction) -> Callable[[], TxReceipt]:
        return lambda: self.chain.transact(by_sig(self.registry, signed), self.roles.stranger)

    def relay(self, signed: SignedAction) -> Callable[[], TxReceipt]:
        return lambda: self.registry.relay(signed, sender=self.roles.stranger)

    def effect(self) -> tuple[object, ...]:
        """Everything the resident's actions could change."""
        r, holder = self.registry, self.resident.address
        return (
            r.status(holder),
            r.status(self.new_wallet.address).status,
            r.consent_until(holder, self.roles.bank),
            r.recovery(holder),
        )


def scene_nonce(registry: IdentityRegistry, holder: str, party: str, kind: str) -> int:
    """Consent messages count per (holder, relying party); rotation and cancellation per holder."""
    if kind in ("GrantConsent", "WithdrawConsent"):
        return registry.consent_nonce(holder, party)
    return registry.nonce(holder)


KINDS = tuple(ACTIONS)
ATTACKED_KINDS = ("GrantConsent", "WithdrawConsent", "Rotate")
#: The event each kind of action emits.
KIND_EVENTS = {
    "GrantConsent": "ConsentGranted",
    "WithdrawConsent": "ConsentWithdrawn",
    "CancelSignatures": "SignaturesCancelled",
    "Rotate": "HolderRotated",
    "CancelRecovery": "RecoveryCancelled",
}


def make_scene(chain: Chain, registry: IdentityRegistry, roles: Roles, kind: str) -> Scene:
    """A freshly verified resident about to sign a ``kind`` action: with a consent to withdraw,
    or a recovery to cancel, if need be."""
    resident = verify_resident(chain, registry, roles)
    if kind == "WithdrawConsent":
        consent(registry, resident.account, roles.bank, roles.bank, deadline(chain, YEAR))
    if kind == "CancelRecovery":
        registry.request_recovery(resident.address, new_account().address, sender=roles.bureau)
    nonce = scene_nonce(registry, resident.address, roles.bank, kind)
    return Scene(chain, registry, roles, resident, new_account(), kind, nonce)


@pytest.fixture(params=ATTACKED_KINDS)
def scene(request: pytest.FixtureRequest, chain: Chain, registry: IdentityRegistry, roles: Roles) -> Scene:
    return make_scene(chain, registry, roles, request.param)


@pytest.mark.parametrize("kind", KINDS)
def test_every_holder_action_is_signable_and_relayable(
    chain: Chain, registry: IdentityRegistry, roles: Roles, kind: str
) -> None:
    """The baseline the attacks below depart from: an honest signature goes through once."""
    scene = make_scene(chain, registry, roles, kind)
    before = scene.effect()

    receipt = scene.relay(scene.typed().sign(scene.resident.account))()

    (emitted,) = logs(scene.registry, KIND_EVENTS[scene.kind], receipt)
    assert receipt["status"] == 1 and receipt["from"] == scene.roles.stranger
    assert emitted["holder"] == scene.resident.address
    assert scene.effect() != before
    # A consent or cancellation uses its nonce up; a rotation and an objection need none
    # (the old wallet signs nothing more; an objection names its recovery, which ends).
    used = 1 if kind in ("GrantConsent", "WithdrawConsent", "CancelSignatures") else 0
    assert scene.nonce_now() == scene.nonce + used
    assert scene.chain.w3.eth.get_balance(scene.resident.address) == 0


def test_a_signature_used_twice_is_refused(scene: Scene) -> None:
    signed = scene.typed().sign(scene.resident.account)
    scene.relay(signed)()
    after_first = scene.effect()

    # A rotated-away wallet can do nothing at all; otherwise the nonce is spent.
    if scene.kind == "Rotate":
        assert_refused(scene.chain, scene.relay(signed), "IdentityHolderMoved")
    else:
        refused_by_client(
            scene.chain,
            scene.relay(signed),
            InvalidInput,
            f"nonce {scene.nonce}.*next nonce for it is {scene.nonce + 1}",
        )
    error = "IdentityHolderMoved" if scene.kind == "Rotate" else "IdentityInvalidNonce"
    revert = assert_refused(scene.chain, scene.raw(signed), error)

    if error == "IdentityInvalidNonce":
        assert revert.error_args == {
            "holder": scene.resident.address,
            "expected": scene.nonce + 1,
            "given": scene.nonce,
        }
    assert scene.effect() == after_first


def test_a_signature_for_another_chain_is_refused(scene: Scene) -> None:
    honest = scene.typed()
    other_chain = with_domain(honest, Domain(scene.chain.chain_id + 1, scene.registry.address))
    signed = other_chain.sign(scene.resident.account)
    before = scene.effect()

    refused_by_client(scene.chain, scene.relay(signed), ChainIdMismatch, f"chain {scene.chain.chain_id + 1}")
    revert = assert_refused(scene.chain, scene.raw(signed), "IdentityInvalidSigner")

    # The contract hashed the message in its own domain: some other "signer" falls out.
    assert revert.error_args == {"holder": scene.resident.address, "signer": honest.signer(signed.signature)}
    assert revert.error_args["signer"] != scene.resident.address
    assert scene.effect() == before


def test_a_signature_for_another_deployment_is_refused(scene: Scene) -> None:
    other, _ = deploy(scene.chain, scene.roles.governor)
    other_registry = IdentityRegistry.from_deployment(scene.chain, other)
    signed = with_domain(scene.typed(), other_registry.domain()).sign(scene.resident.account)
    before = scene.effect()

    refused_by_client(scene.chain, scene.relay(signed), InvalidInput, f"registry at {other_registry.address}")
    revert = assert_refused(scene.chain, scene.raw(signed), "IdentityInvalidSigner")

    assert other_registry.address != scene.registry.address
    assert revert.error_args["holder"] == scene.resident.address
    assert scene.effect() == before


def test_a_signature_past_its_deadline_is_refused(scene: Scene) -> None:
    typed = scene.typed(seconds=30)
    signed = typed.sign(scene.resident.account)
    scene.chain.advance_time(60)
    before = scene.effect()

    refused_by_client(scene.chain, scene.relay(signed), InvalidInput, "expired")
    revert = assert_refused(scene.chain, scene.raw(signed), "IdentitySignatureExpired")

    assert revert.error_args["deadline"] == typed.deadline
    now_time = revert.error_args["nowTime"]
    assert isinstance(now_time, int) and now_time > typed.deadline
    assert scene.effect() == before


@pytest.mark.parametrize("how", ["transaction", "signature"])
def test_cancelled_signatures_are_refused(scene: Scene, how: str) -> None:
    """A key message is voided by cancelling signatures; a consent message for a party by
    withdrawing consent to that party (the pair's nonce moves on)."""
    signed = scene.typed().sign(scene.resident.account)
    holder, bank = scene.resident.address, scene.roles.bank
    by_consent = scene.kind in ("GrantConsent", "WithdrawConsent")
    if how == "transaction":
        fund(scene.chain, holder)
        if by_consent:
            cancel = scene.registry.withdraw_consent(bank, sender=scene.resident.account)
        else:
            cancel = scene.registry.cancel_signatures(sender=scene.resident.account)
    else:
        end = deadline(scene.chain)
        if by_consent:
            typed_cancel = scene.registry.typed_withdraw_consent(holder, bank, deadline=end)
        else:
            typed_cancel = scene.registry.typed_cancel_signatures(holder, deadline=end)
        cancel = scene.registry.relay(typed_cancel.sign(scene.resident.account), sender=scene.roles.bank)
    before = scene.effect()

    refused_by_client(scene.chain, scene.relay(signed), InvalidInput, f"next nonce for it is {scene.nonce + 1}")
    revert = assert_refused(scene.chain, scene.raw(signed), "IdentityInvalidNonce")

    if by_consent:
        assert logs(scene.registry, "ConsentWithdrawn", cancel) == [{"holder": holder, "relyingParty": bank}]
    else:
        assert logs(scene.registry, "SignaturesCancelled", cancel) == [{"holder": holder, "nonce": scene.nonce + 1}]
    assert scene.nonce_now() == scene.nonce + 1
    assert revert.error_args == {"holder": holder, "expected": scene.nonce + 1, "given": scene.nonce}
    assert scene.effect() == before


def test_a_malleated_signature_is_refused(scene: Scene) -> None:
    signed = scene.typed().sign(scene.resident.account)
    copy = SignedAction(signed.action, malleated(signed.signature))
    before = scene.effect()

    refused_by_client(scene.chain, scene.relay(copy), InvalidInput, "high s")
    revert = assert_refused(scene.chain, scene.raw(copy), "IdentityMalleableSignature")

    # The copy is a valid ECDSA signature by the holder: only the low-s rule stops it.
    assert signed.action.signer(copy.signature) == scene.resident.address
    assert (is_high_s(signed.signature), is_high_s(copy.signature)) == (False, True)
    assert revert.error_args == {"s": "0x" + copy.signature[32:64].hex()}
    assert scene.effect() == before
    scene.relay(signed)()  # the genuine signature is still good: the refusal used nothing up
    assert scene.effect() != before


def test_a_signature_by_someone_else_is_refused(scene: Scene) -> None:
    typed = scene.typed()
    impostor = new_account()
    forged = sign_as(impostor, typed)
    before = scene.effect()

    with pytest.raises(InvalidInput, match="cannot sign it"):
        typed.sign(impostor)
    # The client cannot tell an impostor from the holder: the contract does.
    via_relay = assert_refused(scene.chain, scene.relay(forged), "IdentityInvalidSigner")
    raw = assert_refused(scene.chain, scene.raw(forged), "IdentityInvalidSigner")

    assert via_relay.error_args == raw.error_args == {"holder": scene.resident.address, "signer": impostor.address}
    assert scene.effect() == before


@pytest.mark.parametrize("kind", ["CancelSignatures", "CancelRecovery"])
def test_cancellations_are_bound_to_chain_nonce_and_signer(
    chain: Chain, registry: IdentityRegistry, roles: Roles, kind: str
) -> None:
    scene = make_scene(chain, registry, roles, kind)
    honest = scene.typed()
    other_chain = with_domain(honest, Domain(chain.chain_id + 1, registry.address)).sign(scene.resident.account)
    impostor = new_account()
    forged = sign_as(impostor, honest)
    before = scene.effect()

    refused_by_client(chain, scene.relay(other_chain), ChainIdMismatch, "have the holder sign it again")
    wrong_chain = assert_refused(chain, scene.raw(other_chain), "IdentityInvalidSigner")
    wrong_signer = assert_refused(chain, scene.relay(forged), "IdentityInvalidSigner")
    unchanged = scene.effect()
    signed = honest.sign(scene.resident.account)
    scene.relay(signed)()
    # A used cancellation's nonce is spent; a used objection's recovery is over.
    replay = assert_refused(
        chain, scene.raw(signed), "IdentityInvalidNonce" if kind == "CancelSignatures" else "IdentityNoRecovery"
    )

    assert wrong_chain.error_args["signer"] == honest.signer(other_chain.signature) != scene.resident.address
    assert wrong_signer.error_args == {"holder": scene.resident.address, "signer": impostor.address}
    assert unchanged == before
    if kind == "CancelSignatures":
        assert replay.error_args == {"holder": scene.resident.address, "expected": 1, "given": 0}
    else:
        assert replay.error_args == {"holder": scene.resident.address}


#: For each field a relayer might edit after the holder signed: the edit, and the contract's error.
EDITS: dict[str, tuple[Callable[[Scene, Any], Any], str]] = {
    # Another holder in the same situation (same nonce): only the signature gives the edit away.
    "holder": (lambda s, v: make_scene(s.chain, s.registry, s.roles, s.kind).resident.address, "IdentityInvalidSigner"),
    "relyingParty": (lambda s, v: s.roles.hotel, "IdentityInvalidSigner"),
    "until": (lambda s, v: v + 1, "IdentityInvalidSigner"),
    "newHolder": (lambda s, v: new_account().address, "IdentityInvalidSigner"),
    "nonce": (lambda s, v: v + 1, "IdentityInvalidNonce"),
    "deadline": (lambda s, v: v + 1, "IdentityInvalidSigner"),
}
FIELD_EDITS = [(kind, f["name"]) for kind in ATTACKED_KINDS for f in ACTIONS[kind]]


@pytest.mark.parametrize(("kind", "field"), FIELD_EDITS, ids=[f"{k}-{f}" for k, f in FIELD_EDITS])
def test_a_relayer_cannot_alter_any_field(
    chain: Chain, registry: IdentityRegistry, roles: Roles, kind: str, field: str
) -> None:
    scene = make_scene(chain, registry, roles, kind)
    resident = scene.resident
    signed = scene.typed().sign(resident.account)
    edit, error = EDITS[field]
    value = edit(scene, signed.action.message[field])
    tampered = SignedAction(altered(signed.action, **{field: value}), signed.signature)
    before = scene.effect()
    # Consent nonces are per relying party: the hotel's sequence is not at the bank's number.
    by_nonce = field == "nonce" or (kind == "WithdrawConsent" and field == "relyingParty")
    error = "IdentityInvalidNonce" if by_nonce else error

    if by_nonce:
        refused_by_client(chain, scene.relay(tampered), InvalidInput, "nonce")
    else:  # nothing the client can see: it goes to the contract
        assert_refused(chain, scene.relay(tampered), error)
    revert = assert_refused(chain, scene.raw(tampered), error)

    assert tampered.action.message[field] != signed.action.message[field]
    assert revert.error_args["holder"] == tampered.action.holder
    assert scene.effect() == before
    scene.relay(signed)()  # the untouched original still goes through
    assert scene.effect() != before


# ------------------------------------------------------------- contract wallets


@pytest.fixture
def wallet(chain: Chain, roles: Roles) -> tuple[Contract, LocalAccount]:
    """An ERC-1271 contract wallet (tests/contracts/TestWallet.sol) and its owner's key."""
    owner = new_account()
    artifact = compile_test_contract("TestWallet")
    receipt = chain.deploy(artifact, [owner.address], roles.governor)
    address = receipt["contractAddress"]
    assert address is not None
    return chain.contract(artifact, address), owner


def test_a_contract_wallet_consents_through_erc1271(
    chain: Chain, registry: IdentityRegistry, roles: Roles, wallet: tuple[Contract, LocalAccount]
) -> None:
    contract, owner = wallet
    holder = contract.address
    registry.verify(credential_for(holder), Level.SUBSTANTIAL, deadline(chain, YEAR), sender=roles.bureau)
    until = deadline(chain, YEAR)
    typed = registry.typed_grant_consent(holder, roles.bank, until, deadline=deadline(chain))
    signed = sign_as(owner, typed)  # the wallet's owner signs the message that names the wallet
    signable = encode_typed_data(full_message=typed.to_json())
    digest = keccak(b"\x19" + signable.version + signable.header + signable.body)  # what the contract hashes

    receipt = registry.relay(signed, sender=roles.bank)

    assert bytes(contract.functions.isValidSignature(digest, signed.signature).call()) == ERC1271_MAGIC
    assert contract.functions.owner().call() == owner.address
    assert logs(registry, "ConsentGranted", receipt) == [{"holder": holder, "relyingParty": roles.bank, "until": until}]
    assert registry.consent_nonce(holder, roles.bank) == 1
    result = registry.check(holder, sender=roles.bank)
    assert (result.standing, result.level) == (Standing.VALID, Level.SUBSTANTIAL)


def test_a_contract_wallet_refuses_a_signature_not_by_its_owner(
    chain: Chain, registry: IdentityRegistry, roles: Roles, wallet: tuple[Contract, LocalAccount]
) -> None:
    contract, _ = wallet
    holder = contract.address
    registry.verify(credential_for(holder), Level.HIGH, deadline(chain, YEAR), sender=roles.bureau)
    typed = registry.typed_grant_consent(holder, roles.bank, deadline(chain, YEAR), deadline=deadline(chain))
    stranger = new_account()
    forged = sign_as(stranger, typed)

    via_relay = assert_refused(chain, lambda: registry.relay(forged, sender=roles.bank), "IdentityInvalidSigner")
    raw = assert_refused(chain, lambda: chain.transact(by_sig(registry, forged), roles.bank), "IdentityInvalidSigner")

    assert via_relay.error_args == raw.error_args == {"holder": holder, "signer": stranger.address}
    assert registry.consent_until(holder, roles.bank) == 0
    assert registry.check(holder, sender=roles.bank).standing is Standing.NO_CONSENT


# ------------------------------------------------------------------- rotation


def test_gasless_rotation_moves_the_identity(
    chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident
) -> None:
    consent(registry, resident.account, roles.bank, roles.bank, deadline(chain, YEAR))
    registry.check(resident.address, sender=roles.bank)
    before = registry.status(resident.address)
    new = new_account()
    typed = registry.typed_rotate(resident.address, new.address, deadline=deadline(chain))

    receipt = registry.relay(typed.sign(resident.account), sender=roles.stranger)

    old, moved_to = registry.status(resident.address), registry.status(new.address)
    assert logs(registry, "HolderRotated", receipt) == [{"holder": resident.address, "newHolder": new.address}]
    assert (old.standing, old.status, old.commitment) == (Standing.MOVED, Status.MOVED, bytes(32))
    assert (moved_to.standing, moved_to.status) == (Standing.VALID, Status.ACTIVE)
    assert (moved_to.commitment, moved_to.level, moved_to.issuer, moved_to.expires_at) == (
        before.commitment,
        before.level,
        before.issuer,
        before.expires_at,
    )
    assert moved_to.commitment == resident.credential.commitment
    assert chain.w3.eth.get_balance(resident.address) == chain.w3.eth.get_balance(new.address) == 0
    # The credential's salts still prove the attributes, now for the new wallet only.
    disclosure = resident.credential.disclose(["age_over_18"])
    assert registry.verify_disclosure_on_chain(dataclasses.replace(disclosure, holder=new.address)) is True
    assert registry.verify_disclosure_on_chain(disclosure) is False


def test_consents_do_not_follow_a_rotation(
    chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident
) -> None:
    until = deadline(chain, YEAR)
    consent(registry, resident.account, roles.bank, roles.bank, until)
    new = new_account()
    registry.relay(
        registry.typed_rotate(resident.address, new.address, deadline=deadline(chain)).sign(resident.account),
        sender=roles.bank,
    )

    fresh_wallet = registry.check(new.address, sender=roles.bank)
    old_wallet = registry.check(resident.address, sender=roles.bank)
    consent(registry, new, roles.bank, roles.bank, until)
    granted = registry.check(new.address, sender=roles.bank)

    assert (fresh_wallet.standing, fresh_wallet.issuer) == (Standing.NO_CONSENT, None)
    # The old wallet's consent is still stored, and all it yields is "moved".
    assert registry.consent_until(resident.address, roles.bank) == until
    assert old_wallet.standing is Standing.MOVED
    assert (granted.standing, granted.issuer) == (Standing.VALID, roles.bureau)
    # Nonces belong to the wallet: the new one starts its own sequences.
    assert (registry.consent_nonce(new.address, roles.bank), registry.nonce(new.address)) == (1, 0)


#: What the old key might still try after its identity moved away, each as a signed action.
OLD_KEY_ACTIONS: dict[str, Callable[[IdentityRegistry, str, Roles, int], TypedAction]] = {
    "rotate": lambda r, holder, roles, end: r.typed_rotate(holder, new_account().address, deadline=end),
    "grant_consent": lambda r, holder, roles, end: r.typed_grant_consent(holder, roles.hotel, end + YEAR, deadline=end),
    "withdraw_consent": lambda r, holder, roles, end: r.typed_withdraw_consent(holder, roles.bank, deadline=end),
    "cancel_signatures": lambda r, holder, roles, end: r.typed_cancel_signatures(holder, deadline=end),
    # Built by hand: the client refuses to write an objection when no recovery is pending.
    "cancel_recovery": lambda r, holder, roles, end: TypedAction(
        r.domain(), "CancelRecovery", {"holder": holder, "newHolder": roles.hotel, "readyAt": end, "deadline": end}
    ),
}


@pytest.mark.parametrize("moved_by", ["rotation", "recovery"])
def test_a_moved_wallet_can_do_nothing(
    chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident, moved_by: str
) -> None:
    holder, new = resident.address, new_account()
    if moved_by == "rotation":
        registry.relay(
            registry.typed_rotate(holder, new.address, deadline=deadline(chain)).sign(resident.account),
            sender=roles.bank,
        )
    else:
        registry.request_recovery(holder, new.address, sender=roles.bureau)
        chain.advance_time(DEFAULT_RECOVERY_DELAY)
        registry.complete_recovery(holder, sender=roles.bureau)
    fund(chain, holder)  # even paying its own gas
    functions = registry.contract.functions
    end = deadline(chain)

    def relayed(action: TypedAction) -> Callable[[], object]:
        signed = action.sign(resident.account)
        return lambda: registry.relay(signed, sender=roles.bank)

    def sent(call: ContractFunction) -> Callable[[], object]:
        return lambda: chain.transact(call, resident.account)

    for name, build in OLD_KEY_ACTIONS.items():
        revert = assert_refused(chain, relayed(build(registry, holder, roles, end)), "IdentityHolderMoved")
        assert revert.error_args == {"holder": holder}, name
    for call in (
        functions.rotate(new_account().address),
        functions.grantConsent(roles.hotel, end + YEAR),
        functions.withdrawConsent(roles.bank),
        functions.cancelSignatures(),
    ):
        assert_refused(chain, sent(call), "IdentityHolderMoved")
    # Nobody can give the spent wallet an identity again, or act on it as issuer.
    assert_refused(
        chain,
        lambda: registry.verify(credential_for(holder), Level.LOW, end + YEAR, sender=roles.clinic),
        "IdentityHolderMoved",
    )
    assert_refused(chain, lambda: registry.suspend(holder, "under_review", sender=roles.bureau), "IdentityHolderMoved")
    assert_refused(
        chain,
        lambda: registry.request_recovery(holder, new_account().address, sender=roles.bureau),
        "IdentityHolderMoved",
    )
    assert registry.status(holder).standing is Standing.MOVED
    assert registry.status(new.address).standing is Standing.VALID


def test_rotation_onto_a_used_wallet_is_refused(
    chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident
) -> None:
    other = verify_resident(chain, registry, roles)
    spent = new_account()  # a wallet that moved away: a tombstone
    registry.relay(
        registry.typed_rotate(other.address, spent.address, deadline=deadline(chain)).sign(other.account),
        sender=roles.bank,
    )

    def rotate_onto(target: str) -> Callable[[], object]:
        typed = registry.typed_rotate(resident.address, target, deadline=deadline(chain))
        return lambda: registry.relay(typed.sign(resident.account), sender=roles.bank)

    verified = assert_refused(chain, rotate_onto(spent.address), "IdentityAlreadyVerified")
    tombstone = assert_refused(chain, rotate_onto(other.address), "IdentityHolderMoved")
    itself = assert_refused(chain, rotate_onto(resident.address), "IdentityAlreadyVerified")
    zero = assert_refused(chain, rotate_onto(ZERO_ADDRESS), "IdentityZeroAddress")

    assert verified.error_args == {"holder": spent.address, "issuer": roles.bureau}
    assert tombstone.error_args == {"holder": other.address}
    assert itself.error_args["holder"] == resident.address and zero.error_args == {}
    assert registry.nonce(resident.address) == 0
    assert registry.status(resident.address).standing is Standing.VALID


def test_rotation_by_transaction(chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident) -> None:
    fund(chain, resident.address)
    new = new_account()

    receipt = registry.rotate(new.address, sender=resident.account)

    assert receipt["from"] == resident.address
    assert logs(registry, "HolderRotated", receipt) == [{"holder": resident.address, "newHolder": new.address}]
    assert registry.status(new.address).commitment == resident.credential.commitment
    assert registry.status(resident.address).standing is Standing.MOVED


def test_history_follows_the_identity_to_its_new_wallet(
    chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident
) -> None:
    consent(registry, resident.account, roles.bank, roles.bank, deadline(chain, YEAR))
    registry.check(resident.address, sender=roles.bank)
    new = new_account()
    registry.relay(
        registry.typed_rotate(resident.address, new.address, deadline=deadline(chain)).sign(resident.account),
        sender=roles.bank,
    )
    registry.check(resident.address, sender=roles.bank)  # after the move: not part of the new wallet's story
    consent(registry, new, roles.hotel, roles.hotel, deadline(chain, YEAR))
    registry.check(new.address, sender=roles.hotel)

    history = registry.history(new.address)

    assert [(e.event, e.holder, e.actor) for e in history] == [
        ("HolderVerified", resident.address, roles.bureau),
        ("ConsentGranted", resident.address, None),
        ("HolderChecked", resident.address, roles.bank),
        ("HolderRotated", resident.address, None),
        ("ConsentGranted", new.address, None),
        ("HolderChecked", new.address, roles.hotel),
    ]
    assert history[3].details == {"newHolder": new.address}
    assert [c.details["standing"] for c in registry.checks_of(resident.address)] == ["valid", "moved"]
    # A second move (a recovery this time) brings the whole story along again.
    newest = new_account()
    registry.request_recovery(new.address, newest.address, sender=roles.bureau)
    chain.advance_time(DEFAULT_RECOVERY_DELAY)
    registry.complete_recovery(new.address, sender=roles.bureau)
    assert [(e.event, e.holder) for e in registry.history(newest.address)] == [
        *[(e.event, e.holder) for e in history],
        ("RecoveryRequested", new.address),
        ("HolderRecovered", new.address),
    ]


# ------------------------------------------------------------------- recovery


@dataclass(frozen=True)
class Requested:
    new: LocalAccount
    ready_at: int
    receipt: TxReceipt


@pytest.fixture
def requested(chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident) -> Requested:
    """The bureau started recovering the resident's identity to a new wallet."""
    new = new_account()
    receipt = registry.request_recovery(resident.address, new.address, sender=roles.bureau)
    ready_at = int(chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]) + DEFAULT_RECOVERY_DELAY
    return Requested(new, ready_at, receipt)


def test_recovery_request_is_recorded_and_announced(
    registry: IdentityRegistry, roles: Roles, resident: Resident, requested: Requested
) -> None:
    recovery = registry.recovery(resident.address)

    assert registry.recovery_delay() == DEFAULT_RECOVERY_DELAY
    assert logs(registry, "RecoveryRequested", requested.receipt) == [
        {
            "holder": resident.address,
            "newHolder": requested.new.address,
            "issuer": roles.bureau,
            "readyAt": requested.ready_at,
        }
    ]
    assert recovery == Recovery(resident.address, requested.new.address, requested.ready_at)
    assert recovery.pending and recovery.to_json()["ready"] is not None
    # Nothing moves yet: the old wallet still stands, the new one has nothing but is reserved.
    assert registry.status(resident.address).standing is Standing.VALID
    target = registry.status(requested.new.address)
    assert (target.status, target.standing, target.issuer) == (Status.RESERVED, Standing.NEVER_VERIFIED, None)


def test_recovery_completes_only_after_the_delay(
    chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident, requested: Requested
) -> None:
    consent(registry, resident.account, roles.bank, roles.bank, deadline(chain, YEAR))
    chain.advance_time(requested.ready_at - 60 - chain.latest_timestamp())
    early = assert_refused(
        chain, lambda: registry.complete_recovery(resident.address, sender=roles.bureau), "IdentityRecoveryNotReady"
    )
    chain.advance_time(requested.ready_at - chain.latest_timestamp())

    receipt = registry.complete_recovery(resident.address, sender=roles.bureau)

    old, new = registry.status(resident.address), registry.status(requested.new.address)
    assert early.error_args["readyAt"] == requested.ready_at
    now_time = early.error_args["nowTime"]
    assert isinstance(now_time, int) and now_time < requested.ready_at
    assert logs(registry, "HolderRecovered", receipt) == [
        {"holder": resident.address, "newHolder": requested.new.address, "issuer": roles.bureau}
    ]
    assert (old.standing, old.status) == (Standing.MOVED, Status.MOVED)
    assert (new.standing, new.commitment, new.level, new.issuer, new.expires_at) == (
        Standing.VALID,
        resident.credential.commitment,
        Level.HIGH,
        roles.bureau,
        resident.expires_at,
    )
    assert not registry.recovery(resident.address).pending
    assert registry.check(requested.new.address, sender=roles.bank).standing is Standing.NO_CONSENT
    assert [e.event for e in registry.history(requested.new.address)] == [
        "HolderVerified",
        "RecoveryRequested",
        "ConsentGranted",
        "HolderRecovered",
        "HolderChecked",
    ]


def test_the_old_key_objects_gaslessly(
    chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident, requested: Requested
) -> None:
    typed = registry.typed_cancel_recovery(resident.address, deadline=deadline(chain))

    receipt = registry.relay(typed.sign(resident.account), sender=roles.stranger)
    chain.advance_time(DEFAULT_RECOVERY_DELAY)

    assert logs(registry, "RecoveryCancelled", receipt) == [{"holder": resident.address, "by": resident.address}]
    assert registry.recovery(resident.address) == Recovery(resident.address, None, 0)
    assert chain.w3.eth.get_balance(resident.address) == 0
    assert_refused(
        chain, lambda: registry.complete_recovery(resident.address, sender=roles.bureau), "IdentityNoRecovery"
    )
    assert registry.status(resident.address).standing is Standing.VALID
    assert registry.status(requested.new.address).status is Status.NONE


def test_the_issuer_may_withdraw_its_request_and_ask_again(
    chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident, requested: Requested
) -> None:
    receipt = registry.cancel_recovery(resident.address, sender=roles.bureau)
    again = registry.request_recovery(resident.address, requested.new.address, sender=roles.bureau)

    assert logs(registry, "RecoveryCancelled", receipt) == [{"holder": resident.address, "by": roles.bureau}]
    assert [e["newHolder"] for e in logs(registry, "RecoveryRequested", again)] == [requested.new.address]
    assert registry.recovery(resident.address).pending


def test_recovery_refusals(
    chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident, requested: Requested
) -> None:
    holder, other_wallet = resident.address, new_account().address
    pending = assert_refused(
        chain, lambda: registry.request_recovery(holder, other_wallet, sender=roles.bureau), "IdentityRecoveryPending"
    )
    stranger = assert_refused(
        chain, lambda: registry.cancel_recovery(holder, sender=roles.stranger), "IdentityNotHolderOrIssuer"
    )
    assert_refused(chain, lambda: registry.cancel_recovery(holder, sender=roles.clinic), "IdentityNotHolderOrIssuer")
    chain.advance_time(DEFAULT_RECOVERY_DELAY)
    not_issuer = assert_refused(
        chain, lambda: registry.complete_recovery(holder, sender=roles.clinic), "IdentityNotIssuer"
    )
    assert_refused(chain, lambda: registry.complete_recovery(holder, sender=roles.bank), "IdentityNotAuthority")

    assert pending.error_args == {"holder": holder, "newHolder": requested.new.address, "readyAt": requested.ready_at}
    assert stranger.error_args == {"holder": holder, "issuer": roles.bureau, "account": roles.stranger}
    assert not_issuer.error_args == {"holder": holder, "issuer": roles.bureau, "account": roles.clinic}
    assert registry.recovery(holder) == Recovery(holder, requested.new.address, requested.ready_at)


def test_recovery_request_refusals(chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident) -> None:
    holder, taken = resident.address, verify_resident(chain, registry, roles).address

    assert_refused(
        chain,
        lambda: registry.request_recovery(holder, new_account().address, sender=roles.clinic),
        "IdentityNotIssuer",
    )
    assert_refused(
        chain, lambda: registry.request_recovery(holder, taken, sender=roles.bureau), "IdentityAlreadyVerified"
    )
    assert_refused(
        chain, lambda: registry.request_recovery(holder, ZERO_ADDRESS, sender=roles.bureau), "IdentityZeroAddress"
    )
    assert_refused(
        chain,
        lambda: registry.request_recovery(roles.stranger, new_account().address, sender=roles.bureau),
        "IdentityNotVerified",
    )
    assert_refused(chain, lambda: registry.cancel_recovery(holder, sender=roles.bureau), "IdentityNoRecovery")
    registry.revoke(holder, sender=roles.bureau)
    assert_refused(
        chain,
        lambda: registry.request_recovery(holder, new_account().address, sender=roles.bureau),
        "IdentityHolderRevoked",
    )
    assert not registry.recovery(holder).pending


def test_a_rotation_by_the_holder_ends_a_pending_recovery_no_more(
    chain: Chain, registry: IdentityRegistry, roles: Roles, resident: Resident, requested: Requested
) -> None:
    """Issue 12: the old key (perhaps a thief's) cannot outrun a pending recovery by rotating."""
    own_choice = new_account()
    typed = registry.typed_rotate(resident.address, own_choice.address, deadline=deadline(chain))
    pending = assert_refused(
        chain, lambda: registry.relay(typed.sign(resident.account), sender=roles.bank), "IdentityRecoveryPending"
    )
    chain.advance_time(DEFAULT_RECOVERY_DELAY)
    registry.complete_recovery(resident.address, sender=roles.bureau)

    assert pending.error_args == {
        "holder": resident.address,
        "newHolder": requested.new.address,
        "readyAt": requested.ready_at,
    }
    assert registry.status(requested.new.address).standing is Standing.VALID
    assert registry.status(own_choice.address).status is Status.NONE
    assert not registry.recovery(resident.address).pending


# ------------------------------------------------------------- readable errors


@pytest.mark.parametrize("name", NEW_ERRORS)
def test_every_new_error_is_in_the_abi_and_reads_as_a_sentence(name: str) -> None:
    (entry,) = [e for e in load_artifact("IdentityRegistry").abi if e["type"] == "error" and e["name"] == name]
    samples: dict[str, Any] = {
        "address": "0x" + "ab" * 20,
        "uint32": 7,
        "uint40": 1_700_000_000,
        "uint256": 1_700_000_001,
        "bytes32": bytes([0xEE]) * 32,
    }
    types = [i["type"] for i in entry["inputs"]]
    data = function_signature_to_4byte_selector(f"{name}({','.join(types)})") + abi_encode(
        types, [samples[t] for t in types]
    )

    revert = decode_revert(data)

    assert name in MESSAGES
    assert revert is not None and revert.error == name
    assert set(revert.error_args) == {i["name"] for i in entry["inputs"]}
    assert_readable(revert)
    assert data[4:].hex() not in str(revert)
