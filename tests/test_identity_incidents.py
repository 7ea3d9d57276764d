"""Issue 12's confirmed findings, each pinned as a regression test on every backend.

A stolen phone never beats the bureau (recovery wins over the old key; its target is
reserved; a change of issuer ends a pending request; the delay is bounded), signatures are
scoped (no unrelated message can use up an objection; empty signatures never reach a wallet;
a wallet gets bounded gas), a stolen bureau key is contained (the governor rotates it without
touching holders, hands a removed authority's holders to a successor in one transaction,
and what the key did in its compromised window is undone), and the chain shows less.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from accounts import YEAR, Roles, credential_for, fund, new_account
from eth_account.signers.local import LocalAccount
from solidity import compile_test_contract
from support import assert_refused
from test_consent import Resident, by_sig, deadline, sign_as, verify_resident
from web3.logs import DISCARD
from web3.types import TxParams, TxReceipt

from chainpass.artifacts import load_artifact
from chainpass.chain import Chain
from chainpass.deployment import DEFAULT_RECOVERY_DELAY
from chainpass.enums import Level, Standing, Status, SuspensionReason
from chainpass.errors import ContractRevert
from chainpass.identity import IdentityRegistry
from chainpass.sender import BulkSender
from chainpass.signatures import SignedAction

DAY = 24 * 60 * 60


def logs(registry: IdentityRegistry, name: str, receipt: TxReceipt) -> list[dict[str, Any]]:
    """The arguments of every ``name`` event in ``receipt`` (other events in it are skipped)."""
    event = getattr(registry.contract.events, name)()
    return [dict(e["args"]) for e in event.process_receipt(receipt, errors=DISCARD)]


@dataclass(frozen=True)
class Incident:
    """The bureau started recovering the resident's identity to her new phone's wallet."""

    resident: Resident
    new_phone: LocalAccount
    ready_at: int


def start_recovery(chain: Chain, registry: IdentityRegistry, roles: Roles, *, suspend: bool) -> Incident:
    resident = verify_resident(chain, registry, roles)
    if suspend:  # she reported the phone stolen: the bureau suspends first
        registry.suspend(resident.address, SuspensionReason.LOST_DOCUMENT, sender=roles.bureau)
    new_phone = new_account()
    receipt = registry.request_recovery(resident.address, new_phone.address, sender=roles.bureau)
    ready_at = int(chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]) + DEFAULT_RECOVERY_DELAY
    return Incident(resident, new_phone, ready_at)


def complete(chain: Chain, registry: IdentityRegistry, roles: Roles, incident: Incident) -> None:
    chain.advance_time(incident.ready_at - chain.latest_timestamp())
    registry.complete_recovery(incident.resident.address, sender=roles.bureau)


# --------------------------------------------------------- 1. recovery wins


def test_a_thief_with_the_old_key_cannot_rotate_a_suspended_identity_away(
    chain: Chain, registry: IdentityRegistry, roles: Roles
) -> None:
    """Finding 1: the thief's rotation used to delete the pending recovery silently."""
    incident = start_recovery(chain, registry, roles, suspend=True)
    thief, elsewhere = incident.resident.account, new_account()

    rotate = registry.typed_rotate(thief.address, elsewhere.address, deadline=deadline(chain)).sign(thief)
    by_relay = assert_refused(chain, lambda: registry.relay(rotate, sender=roles.stranger), "IdentityHolderSuspended")
    fund(chain, thief.address)
    direct = assert_refused(chain, lambda: registry.rotate(elsewhere.address, sender=thief), "IdentityHolderSuspended")
    # Nor can the thief object: the suspension says the old key is no longer hers.
    objection = registry.typed_cancel_recovery(thief.address, deadline=deadline(chain)).sign(thief)
    assert_refused(chain, lambda: registry.relay(objection, sender=roles.stranger), "IdentityHolderSuspended")
    assert_refused(chain, lambda: registry.cancel_recovery(thief.address, sender=thief), "IdentityHolderSuspended")
    complete(chain, registry, roles, incident)

    assert by_relay.error_args == direct.error_args == {"holder": thief.address}
    new = registry.status(incident.new_phone.address)
    assert (new.status, new.commitment) == (Status.SUSPENDED, incident.resident.credential.commitment)
    registry.reinstate(incident.new_phone.address, sender=roles.bureau)
    assert registry.status(incident.new_phone.address).standing is Standing.VALID
    assert registry.status(elsewhere.address).status is Status.NONE
    assert registry.successor_of(thief.address) == incident.new_phone.address


def test_the_old_key_cannot_outrun_a_pending_recovery_but_the_honest_holder_may_object(
    chain: Chain, registry: IdentityRegistry, roles: Roles
) -> None:
    """Not suspended (the bureau may have been deceived): the old key objects, it never moves."""
    incident = start_recovery(chain, registry, roles, suspend=False)
    holder = incident.resident.account

    rotate = registry.typed_rotate(holder.address, new_account().address, deadline=deadline(chain)).sign(holder)
    pending = assert_refused(chain, lambda: registry.relay(rotate, sender=roles.stranger), "IdentityRecoveryPending")
    objection = registry.typed_cancel_recovery(holder.address, deadline=deadline(chain)).sign(holder)
    receipt = registry.relay(objection, sender=roles.stranger)

    assert pending.error_args["newHolder"] == incident.new_phone.address
    assert logs(registry, "RecoveryCancelled", receipt) == [{"holder": holder.address, "by": holder.address}]
    assert not registry.recovery(holder.address).pending
    # The target is free again, and the objection cannot be replayed against a new request.
    assert registry.status(incident.new_phone.address).status is Status.NONE
    registry.request_recovery(holder.address, incident.new_phone.address, sender=roles.bureau)
    assert_refused(
        chain, lambda: chain.transact(by_sig(registry, objection), roles.stranger), "IdentityRecoveryMismatch"
    )
    assert registry.recovery(holder.address).pending


def test_a_griefer_cannot_take_the_recovery_target(chain: Chain, registry: IdentityRegistry, roles: Roles) -> None:
    """Finding 2: another holder rotated into the target and made completion fail."""
    incident = start_recovery(chain, registry, roles, suspend=True)
    griefer = verify_resident(chain, registry, roles)
    target = incident.new_phone.address

    into = registry.typed_rotate(griefer.address, target, deadline=deadline(chain)).sign(griefer.account)
    rotated = assert_refused(chain, lambda: registry.relay(into, sender=roles.stranger), "IdentityWalletReserved")
    verified = assert_refused(
        chain,
        lambda: registry.verify(credential_for(target), Level.LOW, deadline(chain, YEAR), sender=roles.clinic),
        "IdentityWalletReserved",
    )
    twice = assert_refused(
        chain,
        lambda: registry.request_recovery(griefer.address, target, sender=roles.bureau),
        "IdentityWalletReserved",
    )
    complete(chain, registry, roles, incident)

    assert rotated.error_args == verified.error_args == twice.error_args
    assert rotated.error_args == {"wallet": target, "holder": incident.resident.address}
    assert registry.status(target).commitment == incident.resident.credential.commitment
    assert registry.status(griefer.address).standing is Standing.VALID


def test_a_change_of_issuer_ends_the_pending_recovery(chain: Chain, registry: IdentityRegistry, roles: Roles) -> None:
    """Finding 3: a removed authority's request stayed pending and could complete later."""
    incident = start_recovery(chain, registry, roles, suspend=False)
    holder = incident.resident.address
    registry.remove_authority(roles.bureau, sender=roles.governor)

    receipt = registry.reverify(incident.resident.credential, Level.LOW, deadline(chain, YEAR), sender=roles.clinic)
    registry.appoint_authority(roles.bureau, Level.HIGH, sender=roles.governor)
    chain.advance_time(DEFAULT_RECOVERY_DELAY + 1)
    late = assert_refused(chain, lambda: registry.complete_recovery(holder, sender=roles.bureau), "IdentityNotIssuer")
    own = registry.request_recovery(holder, new_account().address, sender=roles.clinic)

    assert logs(registry, "RecoveryCancelled", receipt) == [{"holder": holder, "by": roles.clinic}]
    assert registry.status(incident.new_phone.address).status is Status.NONE  # unreserved
    assert late.error_args["issuer"] == roles.clinic
    assert logs(registry, "RecoveryRequested", own)[0]["issuer"] == roles.clinic


def test_a_request_made_with_a_retired_key_cannot_complete_and_is_replaced(
    chain: Chain, registry: IdentityRegistry, roles: Roles
) -> None:
    incident = start_recovery(chain, registry, roles, suspend=True)
    holder, new_key = incident.resident.address, new_account()
    fund(chain, new_key.address)
    registry.rotate_authority_key(roles.bureau, new_key.address, sender=roles.governor)
    chain.advance_time(DEFAULT_RECOVERY_DELAY + 1)

    stale = assert_refused(chain, lambda: registry.complete_recovery(holder, sender=new_key), "IdentityRecoveryStale")
    again = registry.request_recovery(holder, incident.new_phone.address, sender=new_key)

    assert stale.error_args == {"holder": holder}
    assert [e["by"] for e in logs(registry, "RecoveryCancelled", again)] == [roles.bureau]
    assert registry.recovery(holder).pending and registry.recovery(holder).ready_at > incident.ready_at


@pytest.mark.parametrize("delay", [0, 599, 90 * DAY + 1, 2**40])
def test_the_recovery_delay_is_bounded_at_deployment(chain: Chain, roles: Roles, delay: int) -> None:
    """Finding 4: 0 or 2**40 (which wrapped uint40) let the issuer complete at once."""
    with pytest.raises(ContractRevert) as info:
        chain.deploy(load_artifact("IdentityRegistry"), [delay], roles.governor)
    revert = info.value
    assert revert.error == "IdentityInvalidRecoveryDelay"
    assert revert.error_args == {"delay": delay, "minDelay": 600, "maxDelay": 90 * DAY}


@pytest.mark.parametrize("delay", [600, 90 * DAY])
def test_the_bounds_themselves_are_allowed(chain: Chain, roles: Roles, delay: int) -> None:
    receipt = chain.deploy(load_artifact("IdentityRegistry"), [delay], roles.governor)
    address = receipt["contractAddress"]
    assert address is not None
    assert IdentityRegistry(chain, address).recovery_delay() == delay


# --------------------------------------------------------- 2. scoped signatures


def test_an_unused_consent_signature_cannot_use_up_an_objection(
    chain: Chain, registry: IdentityRegistry, roles: Roles
) -> None:
    """Finding 5: one nonce for everything let any unused message void a pending objection."""
    incident = start_recovery(chain, registry, roles, suspend=False)
    holder = incident.resident.account
    # Handed to the bank earlier and never used; the bank now races the objection with it.
    unused = registry.typed_grant_consent(holder.address, roles.bank, deadline(chain, YEAR), deadline=deadline(chain))
    other = registry.typed_grant_consent(holder.address, roles.hotel, deadline(chain, YEAR), deadline=deadline(chain))
    objection = registry.typed_cancel_recovery(holder.address, deadline=deadline(chain)).sign(holder)

    registry.relay(unused.sign(holder), sender=roles.bank)
    registry.relay(other.sign(holder), sender=roles.hotel)  # another party's sequence is its own
    receipt = registry.relay(objection, sender=roles.stranger)

    assert logs(registry, "RecoveryCancelled", receipt) == [{"holder": holder.address, "by": holder.address}]
    assert registry.nonce(holder.address) == 0  # the key nonce was never touched
    assert (
        registry.consent_nonce(holder.address, roles.bank),
        registry.consent_nonce(holder.address, roles.hotel),
    ) == (
        1,
        1,
    )


@pytest.fixture
def lenient_wallet(chain: Chain, registry: IdentityRegistry, roles: Roles) -> str:
    """Finding 6's wallet: a verified contract wallet that accepts any signature at all."""
    artifact = compile_test_contract("HostileWallet")
    address = chain.deploy(artifact, [0], roles.stranger)["contractAddress"]
    assert address is not None
    registry.verify(credential_for(address), Level.LOW, deadline(chain, YEAR), sender=roles.bureau)
    return address


def test_an_empty_signature_never_reaches_a_wallet(
    chain: Chain, registry: IdentityRegistry, roles: Roles, lenient_wallet: str
) -> None:
    """Finding 6: rotateBySig with an empty signature moved a lenient wallet's identity."""
    thief = new_account()
    typed = registry.typed_rotate(lenient_wallet, thief.address, deadline=deadline(chain))
    empty = SignedAction(typed, b"")
    bad_v = SignedAction(typed, bytes(64) + bytes([5]))

    raw = assert_refused(
        chain, lambda: chain.transact(by_sig(registry, empty), roles.stranger), "IdentityMalformedSignature"
    )
    assert_refused(chain, lambda: chain.transact(by_sig(registry, bad_v), roles.stranger), "IdentityMalformedSignature")

    assert raw.error_args == {"holder": lenient_wallet}
    assert registry.status(lenient_wallet).standing is Standing.VALID
    assert registry.status(thief.address).status is Status.NONE


@pytest.mark.parametrize("mode", [1, 2], ids=["burns-gas", "huge-answer"])
def test_a_hostile_wallet_gets_bounded_gas(chain: Chain, registry: IdentityRegistry, roles: Roles, mode: int) -> None:
    """Finding 6: a hostile wallet could burn a relayer's whole gas limit."""
    artifact = compile_test_contract("HostileWallet")
    wallet = chain.deploy(artifact, [mode], roles.stranger)["contractAddress"]
    assert wallet is not None
    registry.verify(credential_for(wallet), Level.LOW, deadline(chain, YEAR), sender=roles.bureau)
    typed = registry.typed_grant_consent(wallet, roles.bank, deadline(chain, YEAR), deadline=deadline(chain))
    signed = sign_as(new_account(), typed)
    relayer = new_account()
    fund(chain, relayer.address)
    data = by_sig(registry, signed)._encode_transaction_data()

    (sent,) = BulkSender(chain, relayer).send([TxParams(to=registry.address, data=data, gas=3_000_000)])

    assert sent.receipt is not None
    used = int(sent.receipt["gasUsed"])
    if mode == 1:  # the wallet never says yes: the signature is refused, having cost at most the bound
        assert sent.receipt["status"] == 0 and used < 150_000, used
        assert isinstance(sent.error, ContractRevert) and sent.error.error == "IdentityInvalidSigner"
    else:  # the magic value first, then 10 KB of noise: accepted, only one word of it read
        assert sent.receipt["status"] == 1 and used < 150_000, used
        assert registry.consent_until(wallet, roles.bank) > 0


# --------------------------------------------------------- 3. a stolen bureau key


def test_the_governor_rotates_an_authority_key_without_touching_its_holders(
    chain: Chain, registry: IdentityRegistry, roles: Roles
) -> None:
    resident = verify_resident(chain, registry, roles)
    new_key = new_account()
    fund(chain, new_key.address)

    receipt = registry.rotate_authority_key(roles.bureau, new_key.address, sender=roles.governor)
    old = assert_refused(
        chain,
        lambda: registry.suspend(resident.address, SuspensionReason.OTHER, sender=roles.bureau),
        "IdentityNotAuthority",
    )
    registry.suspend(resident.address, SuspensionReason.UNDER_REVIEW, sender=new_key)
    registry.reinstate(resident.address, sender=new_key)
    newcomer = verify_resident_by(chain, registry, new_key)

    assert logs(registry, "AuthorityKeyRotated", receipt) == [
        {"authority": roles.bureau, "oldKey": roles.bureau, "newKey": new_key.address}
    ]
    assert old.error_args == {"account": roles.bureau}
    status = registry.status(resident.address)
    assert (status.standing, status.issuer) == (Standing.VALID, roles.bureau)  # the id, not the key
    assert registry.status(newcomer).issuer == roles.bureau
    assert registry.authority_of_key(new_key.address) == roles.bureau
    assert registry.authority_of_key(roles.bureau) is None
    assert registry.authority(roles.bureau).signing_key == new_key.address


def verify_resident_by(chain: Chain, registry: IdentityRegistry, authority: LocalAccount) -> str:
    holder = new_account().address
    registry.verify(credential_for(holder), Level.HIGH, deadline(chain, YEAR), sender=authority)
    return holder


def test_a_removed_authoritys_holders_are_handed_over_in_one_transaction(
    chain: Chain, registry: IdentityRegistry, roles: Roles
) -> None:
    """Finding 7: removing an authority put every holder (organisations included) out at once."""
    residents = [verify_resident(chain, registry, roles).address for _ in range(3)]
    registry.remove_authority(roles.bureau, sender=roles.governor)
    assert {registry.status(r).standing for r in residents} == {Standing.ISSUER_REMOVED}

    receipt = registry.hand_over_authority(roles.bureau, roles.clinic, sender=roles.governor)
    registry.suspend(residents[0], SuspensionReason.UNDER_REVIEW, sender=roles.clinic)
    assert_refused(chain, lambda: registry.revoke(residents[1], sender=roles.hotel), "IdentityNotAuthority")

    assert logs(registry, "AuthorityHandedOver", receipt) == [{"authority": roles.bureau, "successor": roles.clinic}]
    assert receipt["gasUsed"] < 60_000  # one write, whatever the number of holders
    assert [registry.status(r).standing for r in residents] == [Standing.SUSPENDED, Standing.VALID, Standing.VALID]
    assert registry.status(residents[0]).issuer == roles.clinic  # taken over when first acted on
    assert registry.status(residents[1]).issuer == roles.bureau
    assert registry.authority(roles.bureau).successor == roles.clinic


def test_what_a_compromised_key_did_in_its_window_is_undone(
    chain: Chain, registry: IdentityRegistry, roles: Roles
) -> None:
    """Finding 7: a stolen key's revocations were final and nobody could undo them."""
    before, victims = verify_resident(chain, registry, roles).address, []
    registry.suspend(before, SuspensionReason.COURT_ORDER, sender=roles.bureau)  # a genuine one
    chain.advance_time(DAY)
    since = chain.latest_timestamp()  # block times never go back: what follows is at or after it
    for _ in range(2):  # the thief's work, after `since`
        victims.append(verify_resident(chain, registry, roles).address)
    registry.revoke(victims[0], sender=roles.bureau)
    registry.suspend(victims[1], SuspensionReason.SUSPECTED_FRAUD, sender=roles.bureau)
    new_key = new_account()
    fund(chain, new_key.address)

    early = assert_refused(
        chain,
        lambda: registry.declare_compromise(roles.bureau, since, sender=roles.governor),
        "IdentityAuthorityActive",
    )
    registry.rotate_authority_key(roles.bureau, new_key.address, sender=roles.governor)
    declared = registry.declare_compromise(roles.bureau, since, sender=roles.governor)
    restored = [registry.restore(v, sender=new_key) for v in victims]
    genuine = assert_refused(chain, lambda: registry.restore(before, sender=new_key), "IdentityNotCompromised")

    assert early.error_args == {"authority": roles.bureau}
    (window,) = logs(registry, "AuthorityCompromised", declared)
    assert window["authority"] == roles.bureau and window["since"] == since and window["until"] >= since
    assert [logs(registry, "HolderRestored", r) for r in restored] == [
        [{"holder": v, "issuer": roles.bureau}] for v in victims
    ]
    assert [registry.status(v).standing for v in victims] == [Standing.VALID, Standing.VALID]
    assert registry.status(before).standing is Standing.SUSPENDED
    assert genuine.error_args["holder"] == before
    assert [e.event for e in registry.history(victims[0])][-2:] == ["HolderRevoked", "HolderRestored"]


def test_authority_key_refusals(chain: Chain, registry: IdentityRegistry, roles: Roles) -> None:
    taken = assert_refused(
        chain,
        lambda: registry.rotate_authority_key(roles.bureau, roles.clinic, sender=roles.governor),
        "IdentityKeyInUse",
    )
    assert_refused(
        chain,
        lambda: registry.rotate_authority_key(roles.bureau, new_account().address, sender=roles.bureau),
        "IdentityNotGovernor",
    )
    assert_refused(
        chain,
        lambda: registry.hand_over_authority(roles.bureau, roles.clinic, sender=roles.governor),
        "IdentityAuthorityActive",
    )
    assert_refused(
        chain,
        lambda: registry.hand_over_authority(roles.stranger, roles.clinic, sender=roles.governor),
        "IdentityUnknownAuthority",
    )
    registry.remove_authority(roles.bureau, sender=roles.governor)
    assert_refused(
        chain,
        lambda: registry.hand_over_authority(roles.bureau, roles.bureau, sender=roles.governor),
        "IdentityInvalidSuccessor",
    )
    late = chain.latest_timestamp() + DAY
    window = assert_refused(
        chain,
        lambda: registry.declare_compromise(roles.bureau, late, sender=roles.governor),
        "IdentityInvalidCompromise",
    )

    assert taken.error_args == {"key": roles.clinic}
    assert window.error_args["since"] == late


# --------------------------------------------------------- 4. the chain shows less


def test_the_check_event_carries_no_sector_and_the_suspension_no_reason(
    chain: Chain, registry: IdentityRegistry, roles: Roles
) -> None:
    """Finding 8: the reason was public; the check event is the audited minimum."""
    abi = {e["name"]: e for e in load_artifact("IdentityRegistry").abi if e["type"] == "event"}

    assert [i["name"] for i in abi["HolderChecked"]["inputs"]] == ["holder", "relyingParty", "standing"]
    assert [i["name"] for i in abi["HolderSuspended"]["inputs"]] == ["holder", "issuer"]
    fields = [o["name"] for o in next(
        f for f in load_artifact("IdentityRegistry").abi if f.get("name") == "identityOf"
    )["outputs"][0]["components"]]  # fmt: skip
    assert "suspensionReason" not in fields
