"""The IdentityRegistry contract, driven through `chainpass.identity.IdentityRegistry`.

Every test runs on the embedded EVM and on Anvil (see conftest.py) from the same
deployed registry: bureau may grant high, clinic only low; bank and hotel are
relying parties. A relying party learns a holder's standing only with the holder's
consent, so the holders here consent first (tests/test_consent.py covers consent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from accounts import PERSON, YEAR, Roles, credential_for, grant_consents
from eth_abi import encode as abi_encode
from eth_account.messages import encode_typed_data
from eth_typing import HexStr
from eth_utils import function_signature_to_4byte_selector
from support import assert_readable, assert_refused, logs
from web3.types import TxReceipt

from chainpass.artifacts import load_artifact
from chainpass.attributes import Credential
from chainpass.chain import Chain
from chainpass.enums import Level, Sector, Standing, Status, SuspensionReason
from chainpass.errors import DisclosureInvalid, InvalidInput
from chainpass.identity import Authority, IdentityRegistry, RelyingParty, SuspensionNote, reason_commitment
from chainpass.reverts import MESSAGES, decode_revert
from chainpass.signatures import Domain

ZERO_ADDRESS = "0x" + "00" * 20

# ---------------------------------------------------------------------------- helpers


def expiry(chain: Chain, seconds: int = YEAR) -> int:
    return chain.latest_timestamp() + seconds


def standings(registry: IdentityRegistry, *holders: str) -> list[Standing]:
    return [registry.status(h).standing for h in holders]


@dataclass(frozen=True)
class Verified:
    credential: Credential
    expires_at: int
    receipt: TxReceipt


@pytest.fixture
def verified(chain: Chain, registry: IdentityRegistry, roles: Roles) -> Verified:
    """roles.holder verified by the bureau at level high, for a year; it consents to the bank and hotel."""
    credential = credential_for(roles.holder)
    expires_at = expiry(chain)
    receipt = registry.verify(credential, Level.HIGH, expires_at, sender=roles.bureau)
    grant_consents(registry, roles.holder, [roles.bank, roles.hotel])
    return Verified(credential, expires_at, receipt)


# ------------------------------------------------------------------------- governance


def test_governance_moves_in_two_steps(registry: IdentityRegistry, roles: Roles) -> None:
    offer = registry.transfer_governance(roles.stranger, sender=roles.governor)
    offered = (registry.governor(), registry.pending_governor())
    assert_refused(
        registry.chain, lambda: registry.accept_governance(sender=roles.bureau), "IdentityNotPendingGovernor"
    )

    acceptance = registry.accept_governance(sender=roles.stranger)

    assert logs(registry, "GovernanceTransferStarted", offer) == [
        {"previousGovernor": roles.governor, "newGovernor": roles.stranger}
    ]
    assert offered == (roles.governor, roles.stranger)
    assert logs(registry, "GovernanceTransferred", acceptance) == [
        {"previousGovernor": roles.governor, "newGovernor": roles.stranger}
    ]
    assert (registry.governor(), registry.pending_governor()) == (roles.stranger, None)


def test_old_governor_loses_power_and_new_one_gains_it(registry: IdentityRegistry, roles: Roles) -> None:
    registry.transfer_governance(roles.stranger, sender=roles.governor)
    registry.accept_governance(sender=roles.stranger)

    assert_refused(
        registry.chain,
        lambda: registry.appoint_authority(roles.hotel, Level.LOW, sender=roles.governor),
        "IdentityNotGovernor",
    )
    assert_refused(
        registry.chain,
        lambda: registry.accept_governance(sender=roles.stranger),
        "IdentityNotPendingGovernor",
    )
    registry.appoint_authority(roles.hotel, Level.LOW, sender=roles.stranger)
    assert registry.authority(roles.hotel) == Authority(roles.hotel, True, Level.LOW, roles.hotel)


def test_offering_governance_to_zero_cancels_the_offer(registry: IdentityRegistry, roles: Roles) -> None:
    registry.transfer_governance(roles.stranger, sender=roles.governor)

    registry.transfer_governance(ZERO_ADDRESS, sender=roles.governor)

    assert registry.pending_governor() is None
    assert_refused(
        registry.chain,
        lambda: registry.accept_governance(sender=roles.stranger),
        "IdentityNotPendingGovernor",
    )
    assert registry.governor() == roles.governor


def test_appoint_and_remove_authority(chain: Chain, registry: IdentityRegistry, roles: Roles) -> None:
    appointed = registry.appoint_authority(roles.stranger, Level.SUBSTANTIAL, sender=roles.governor)
    record = registry.authority(roles.stranger)
    registry.verify(credential_for(roles.other_holder), Level.SUBSTANTIAL, expiry(chain), sender=roles.stranger)

    removed = registry.remove_authority(roles.stranger, sender=roles.governor)

    assert logs(registry, "AuthorityAppointed", appointed) == [
        {"authority": roles.stranger, "maxLevel": Level.SUBSTANTIAL}
    ]
    assert record == Authority(roles.stranger, True, Level.SUBSTANTIAL, roles.stranger)
    assert logs(registry, "AuthorityRemoved", removed) == [{"authority": roles.stranger}]
    # Removed, it keeps its key on record (re-appointing it lets that key act again).
    assert registry.authority(roles.stranger) == Authority(roles.stranger, False, Level.SUBSTANTIAL, roles.stranger)
    assert_refused(
        registry.chain,
        lambda: registry.remove_authority(roles.stranger, sender=roles.governor),
        "IdentityNotAuthority",
    )


def test_reappointing_an_authority_changes_its_level(chain: Chain, registry: IdentityRegistry, roles: Roles) -> None:
    credential = credential_for(roles.holder)
    assert_refused(
        registry.chain,
        lambda: registry.verify(credential, Level.SUBSTANTIAL, expiry(chain), sender=roles.clinic),
        "IdentityLevelAboveAuthority",
    )

    registry.appoint_authority(roles.clinic, Level.SUBSTANTIAL, sender=roles.governor)
    registry.verify(credential, Level.SUBSTANTIAL, expiry(chain), sender=roles.clinic)

    assert registry.authority(roles.clinic) == Authority(roles.clinic, True, Level.SUBSTANTIAL, roles.clinic)
    assert registry.status(roles.holder).level is Level.SUBSTANTIAL


def test_appoint_reappoint_and_remove_relying_party(
    registry: IdentityRegistry, roles: Roles, verified: Verified
) -> None:
    appointed = registry.appoint_relying_party(roles.stranger, Sector.HOSPITAL, sender=roles.governor)
    first = registry.relying_party(roles.stranger)
    registry.appoint_relying_party(roles.stranger, Sector.COURIER, sender=roles.governor)
    second = registry.relying_party(roles.stranger)
    grant_consents(registry, roles.holder, [roles.stranger])
    looked_up = registry.check(roles.holder, sender=roles.stranger)

    removed = registry.remove_relying_party(roles.stranger, sender=roles.governor)

    assert logs(registry, "RelyingPartyAppointed", appointed) == [
        {"relyingParty": roles.stranger, "sector": Sector.HOSPITAL}
    ]
    assert first == RelyingParty(roles.stranger, True, Sector.HOSPITAL)
    assert second == RelyingParty(roles.stranger, True, Sector.COURIER)
    assert looked_up.standing is Standing.VALID
    assert logs(registry, "RelyingPartyRemoved", removed) == [{"relyingParty": roles.stranger}]
    assert registry.relying_party(roles.stranger) == RelyingParty(roles.stranger, False, Sector.NONE)
    assert_refused(
        registry.chain,
        lambda: registry.check(roles.holder, sender=roles.stranger),
        "IdentityNotRelyingParty",
    )
    assert_refused(
        registry.chain,
        lambda: registry.remove_relying_party(roles.stranger, sender=roles.governor),
        "IdentityNotRelyingParty",
    )


# -------------------------------------------------------------------- access control

Action = Callable[[IdentityRegistry, Roles, str], object]

ACTIONS: dict[str, Action] = {
    "transfer_governance": lambda r, roles, caller: r.transfer_governance(roles.stranger, sender=caller),
    "appoint_authority": lambda r, roles, caller: r.appoint_authority(roles.stranger, Level.HIGH, sender=caller),
    "remove_authority": lambda r, roles, caller: r.remove_authority(roles.bureau, sender=caller),
    "appoint_relying_party": lambda r, roles, caller: r.appoint_relying_party(
        roles.stranger, Sector.HOTEL, sender=caller
    ),
    "remove_relying_party": lambda r, roles, caller: r.remove_relying_party(roles.bank, sender=caller),
    "accept_governance": lambda r, roles, caller: r.accept_governance(sender=caller),
    "verify": lambda r, roles, caller: r.verify(
        credential_for(roles.other_holder), Level.LOW, expiry(r.chain), sender=caller
    ),
    "reverify": lambda r, roles, caller: r.reverify(
        credential_for(roles.holder, address="2 New Street"), Level.LOW, expiry(r.chain), sender=caller
    ),
    "suspend": lambda r, roles, caller: r.suspend(roles.holder, SuspensionReason.UNDER_REVIEW, sender=caller),
    "reinstate": lambda r, roles, caller: r.reinstate(roles.holder, sender=caller),
    "revoke": lambda r, roles, caller: r.revoke(roles.holder, sender=caller),
    "check": lambda r, roles, caller: r.check(roles.holder, sender=caller),
}
GOVERNOR_ONLY = (
    "transfer_governance",
    "appoint_authority",
    "remove_authority",
    "appoint_relying_party",
    "remove_relying_party",
)
AUTHORITY_ONLY = ("verify", "reverify", "suspend", "reinstate", "revoke")
ISSUER_ONLY = ("reverify", "suspend", "reinstate", "revoke")

ACCESS_TABLE = [
    *[(a, c, "IdentityNotGovernor") for a in GOVERNOR_ONLY for c in ("stranger", "bureau")],
    *[(a, c, "IdentityNotAuthority") for a in AUTHORITY_ONLY for c in ("stranger", "governor")],
    *[("check", c, "IdentityNotRelyingParty") for c in ("stranger", "bureau", "holder")],
    ("verify", "bank", "IdentityNotAuthority"),
    ("appoint_authority", "bank", "IdentityNotGovernor"),
    *[(a, "clinic", "IdentityNotIssuer") for a in ISSUER_ONLY],
    ("accept_governance", "stranger", "IdentityNotPendingGovernor"),
]


@pytest.mark.parametrize(("action", "caller", "error"), ACCESS_TABLE, ids=lambda v: str(v))
def test_access_control(
    registry: IdentityRegistry, roles: Roles, verified: Verified, action: str, caller: str, error: str
) -> None:
    caller_address = getattr(roles, caller)

    revert = assert_refused(registry.chain, lambda: ACTIONS[action](registry, roles, caller_address), error)

    assert caller_address in revert.error_args.values()


#: Raw contract calls with bad input: (function, its arguments given the roles and a future
#: expiry, sender role, custom error, a fragment of the sentence).
RAW_REFUSALS: list[tuple[str, Callable[[Roles, int], tuple[object, ...]], str, str, str]] = [
    ("appointAuthority", lambda r, t: (ZERO_ADDRESS, 1), "governor", "IdentityZeroAddress", "zero address"),
    ("appointAuthority", lambda r, t: (r.stranger, 0), "governor", "IdentityInvalidLevel", "level none"),
    ("appointRelyingParty", lambda r, t: (r.stranger, 0), "governor", "IdentityInvalidSector", "Sector none"),
    (
        "appointRelyingParty",
        lambda r, t: (ZERO_ADDRESS, 2),
        "governor",
        "IdentityZeroAddress",
        "zero address",
    ),
    ("verify", lambda r, t: (r.holder, bytes(32), 1, t), "bureau", "IdentityEmptyCommitment", "empty"),
    ("verify", lambda r, t: (r.holder, b"\1" * 32, 0, t), "bureau", "IdentityInvalidLevel", "level none"),
    (
        "verify",
        lambda r, t: (ZERO_ADDRESS, b"\1" * 32, 1, t),
        "bureau",
        "IdentityZeroAddress",
        "zero address",
    ),
    ("reverify", lambda r, t: (r.holder, b"\1" * 32, 1, t), "bureau", "IdentityNotVerified", "never been"),
    ("suspend", lambda r, t: (r.holder, bytes(32)), "bureau", "IdentityEmptyReason", "salted commitment"),
    ("suspend", lambda r, t: (r.holder, b"\x01" * 32), "bureau", "IdentityNotVerified", "never been"),
]


@pytest.mark.parametrize(
    ("function", "args", "sender", "error", "fragment"),
    RAW_REFUSALS,
    ids=[f"{r[0]}-{r[3]}" for r in RAW_REFUSALS],
)
def test_contract_validates_raw_input(
    chain: Chain,
    registry: IdentityRegistry,
    roles: Roles,
    function: str,
    args: Callable[[Roles, int], tuple[object, ...]],
    sender: str,
    error: str,
    fragment: str,
) -> None:
    """What the client refuses before sending, the contract refuses too."""
    call = getattr(registry.contract.functions, function)(*args(roles, expiry(chain)))

    revert = assert_refused(registry.chain, lambda: chain.transact(call, getattr(roles, sender)), error)

    assert fragment in str(revert)


def test_client_refuses_what_the_contract_would_before_sending(
    chain: Chain, registry: IdentityRegistry, roles: Roles
) -> None:
    credential = credential_for(roles.holder)
    refusals: list[Callable[[], object]] = [
        lambda: registry.appoint_authority(roles.stranger, "none", sender=roles.governor),
        lambda: registry.appoint_authority(roles.stranger, "supreme", sender=roles.governor),
        lambda: registry.appoint_relying_party(roles.stranger, Sector.NONE, sender=roles.governor),
        lambda: registry.verify(credential, Level.NONE, expiry(chain), sender=roles.bureau),
        lambda: registry.suspend(roles.holder, 0, sender=roles.bureau),
        lambda: registry.suspend(roles.holder, 256, sender=roles.bureau),
        lambda: registry.suspend(roles.holder, "bored", sender=roles.bureau),
        lambda: registry.revoke("0x1234", sender=roles.bureau),
    ]
    block = chain.w3.eth.block_number

    for refusal in refusals:
        with pytest.raises(InvalidInput):
            refusal()

    assert chain.w3.eth.block_number == block


@pytest.mark.parametrize(
    "entry",
    [e for e in load_artifact("IdentityRegistry").abi if e["type"] == "error"],
    ids=lambda e: e["name"],
)
def test_every_custom_error_decodes_to_a_sentence(entry: dict[str, Any]) -> None:
    samples = {
        "address": "0x" + "ab" * 20,
        "uint8": 2,
        "uint32": 7,
        "uint40": 1_700_000_000,
        "uint256": 1_700_000_001,
        "bytes32": b"\xee" * 32,
    }
    types = [i["type"] for i in entry["inputs"]]
    signature = f"{entry['name']}({','.join(types)})"
    data = function_signature_to_4byte_selector(signature) + abi_encode(types, [samples[t] for t in types])

    revert = decode_revert(data)

    assert entry["name"] in MESSAGES
    assert revert is not None
    assert revert.error == entry["name"]
    assert set(revert.error_args) == {i["name"] for i in entry["inputs"]}
    assert_readable(revert)


def test_unknown_revert_data_is_not_decoded() -> None:
    assert decode_revert(bytes.fromhex("deadbeef") + b"\0" * 32) is None


# ------------------------------------------------------------------- verification


def test_verify_records_emits_and_checks_valid(chain: Chain, registry: IdentityRegistry, roles: Roles) -> None:
    credential = credential_for(roles.holder)
    expires_at = expiry(chain)
    before = registry.status(roles.holder)

    receipt = registry.verify(credential, Level.HIGH, expires_at, sender=roles.bureau)
    status = registry.status(roles.holder)
    grant_consents(registry, roles.holder, [roles.bank])
    result = registry.check(roles.holder, sender=roles.bank)

    assert (before.standing, before.status, before.issuer) == (Standing.NEVER_VERIFIED, Status.NONE, None)
    assert (status.standing, status.status, status.level, status.issuer) == (
        Standing.VALID,
        Status.ACTIVE,
        Level.HIGH,
        roles.bureau,
    )
    assert (status.expires_at, status.commitment) == (expires_at, credential.commitment)
    assert status.changed_at == chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert logs(registry, "HolderVerified", receipt) == [
        {
            "holder": roles.holder,
            "issuer": roles.bureau,
            "commitment": credential.commitment,
            "level": Level.HIGH,
            "expiresAt": expires_at,
        }
    ]
    assert (result.standing, result.valid, result.level, result.issuer, result.expires_at) == (
        Standing.VALID,
        True,
        Level.HIGH,
        roles.bureau,
        expires_at,
    )
    check_receipt = chain.w3.eth.get_transaction_receipt(HexStr(result.tx_hash))
    assert check_receipt["blockNumber"] == result.block_number
    assert logs(registry, "HolderChecked", check_receipt) == [
        {"holder": roles.holder, "relyingParty": roles.bank, "standing": Standing.VALID}
    ]


def test_verify_twice_is_refused(chain: Chain, registry: IdentityRegistry, roles: Roles, verified: Verified) -> None:
    again = credential_for(roles.holder, name="Ada King")

    revert = assert_refused(
        registry.chain,
        lambda: registry.verify(again, Level.LOW, expiry(chain), sender=roles.clinic),
        "IdentityAlreadyVerified",
    )

    assert revert.error_args == {"holder": roles.holder, "issuer": roles.bureau}
    assert "reverify" in str(revert)


def test_level_above_authority_is_refused(chain: Chain, registry: IdentityRegistry, roles: Roles) -> None:
    credential = credential_for(roles.holder)

    revert = assert_refused(
        registry.chain,
        lambda: registry.verify(credential, Level.HIGH, expiry(chain), sender=roles.clinic),
        "IdentityLevelAboveAuthority",
    )
    registry.verify(credential, Level.LOW, expiry(chain), sender=roles.clinic)

    assert revert.error_args == {"authority": roles.clinic, "level": "high", "maxLevel": "low"}
    assert registry.status(roles.holder).level is Level.LOW


@pytest.mark.parametrize("offset", [-YEAR, -1, 0])
def test_expiry_not_in_future_is_refused(chain: Chain, registry: IdentityRegistry, roles: Roles, offset: int) -> None:
    credential = credential_for(roles.holder)
    expires_at = chain.latest_timestamp() + offset

    revert = assert_refused(
        registry.chain,
        lambda: registry.verify(credential, Level.HIGH, expires_at, sender=roles.bureau),
        "IdentityExpiryNotInFuture",
    )

    assert revert.error_args["expiresAt"] == expires_at
    assert isinstance(revert.error_args["nowTime"], int) and revert.error_args["nowTime"] >= expires_at


def test_suspend_then_reinstate(registry: IdentityRegistry, roles: Roles, verified: Verified) -> None:
    note = SuspensionNote.make(roles.holder, SuspensionReason.LOST_DOCUMENT)
    suspended = registry.suspend(roles.holder, note, sender=roles.bureau)
    while_suspended = registry.status(roles.holder)
    check_suspended = registry.check(roles.holder, sender=roles.bank)
    double = assert_refused(
        registry.chain,
        lambda: registry.suspend(roles.holder, SuspensionReason.OTHER, sender=roles.bureau),
        "IdentityNotActive",
    )

    reinstated = registry.reinstate(roles.holder, sender=roles.bureau)
    check_reinstated = registry.check(roles.holder, sender=roles.hotel)

    # Issue 12: the reason stays with the bureau; the chain sees a salted commitment only,
    # in the transaction's input, and the event says nothing about the reason.
    assert logs(registry, "HolderSuspended", suspended) == [{"holder": roles.holder, "issuer": roles.bureau}]
    assert bytes(suspended["logs"][0]["data"]) == b""
    assert registry.suspension_commitment(suspended["transactionHash"]) == note.commitment
    assert note.commitment == reason_commitment(roles.holder, SuspensionReason.LOST_DOCUMENT, note.salt)
    assert note.commitment != reason_commitment(roles.holder, SuspensionReason.SUSPECTED_FRAUD, note.salt)
    assert while_suspended.status is Status.SUSPENDED
    assert "suspension_reason" not in while_suspended.to_json()
    assert check_suspended.standing is Standing.SUSPENDED and not check_suspended.valid
    assert double.error_args["status"] == "suspended"
    assert logs(registry, "HolderReinstated", reinstated) == [{"holder": roles.holder, "issuer": roles.bureau}]
    assert check_reinstated.standing is Standing.VALID
    status = registry.status(roles.holder)
    assert (status.status, status.commitment) == (Status.ACTIVE, verified.credential.commitment)
    assert_refused(
        registry.chain, lambda: registry.reinstate(roles.holder, sender=roles.bureau), "IdentityNotSuspended"
    )


@pytest.mark.parametrize(
    ("action", "caller", "error"),
    [
        ("reinstate", "bureau", "IdentityNotSuspended"),
        ("suspend", "bureau", "IdentityNotActive"),
        ("revoke", "bureau", "IdentityHolderRevoked"),
        ("reverify", "bureau", "IdentityHolderRevoked"),
        ("reverify", "clinic", "IdentityHolderRevoked"),
        ("verify", "bureau", "IdentityHolderRevoked"),
        ("verify", "clinic", "IdentityHolderRevoked"),
    ],
)
def test_revocation_is_final(
    registry: IdentityRegistry, roles: Roles, verified: Verified, action: str, caller: str, error: str
) -> None:
    registry.suspend(roles.holder, SuspensionReason.SUSPECTED_FRAUD, sender=roles.bureau)
    revoked = registry.revoke(roles.holder, sender=roles.bureau)
    holder = roles.holder

    def act() -> object:
        if action == "verify":
            return registry.verify(
                credential_for(holder), Level.LOW, expiry(registry.chain), sender=getattr(roles, caller)
            )
        return ACTIONS[action](registry, roles, getattr(roles, caller))

    assert_refused(registry.chain, act, error)

    assert logs(registry, "HolderRevoked", revoked) == [{"holder": holder, "issuer": roles.bureau}]
    status = registry.status(holder)
    assert (status.standing, status.status) == (Standing.REVOKED, Status.REVOKED)
    assert registry.check(holder, sender=roles.bank).standing is Standing.REVOKED


@pytest.mark.parametrize("suspend_first", [False, True], ids=["active", "suspended"])
def test_reverify_updates_the_grant_and_keeps_the_status(
    chain: Chain, registry: IdentityRegistry, roles: Roles, verified: Verified, suspend_first: bool
) -> None:
    if suspend_first:
        registry.suspend(roles.holder, SuspensionReason.UNDER_REVIEW, sender=roles.bureau)
    before = registry.status(roles.holder)
    renewed = credential_for(roles.holder, address="2 New Street, Delft")
    expires_at = expiry(chain, 2 * YEAR)

    receipt = registry.reverify(renewed, Level.SUBSTANTIAL, expires_at, sender=roles.bureau)

    after = registry.status(roles.holder)
    assert renewed.commitment != verified.credential.commitment
    assert (after.commitment, after.level, after.expires_at, after.issuer) == (
        renewed.commitment,
        Level.SUBSTANTIAL,
        expires_at,
        roles.bureau,
    )
    assert (after.status, after.standing, after.changed_at) == (before.status, before.standing, before.changed_at)
    assert logs(registry, "HolderReverified", receipt) == [
        {
            "holder": roles.holder,
            "issuer": roles.bureau,
            "commitment": renewed.commitment,
            "level": Level.SUBSTANTIAL,
            "expiresAt": expires_at,
        }
    ]


def test_verification_expires(chain: Chain, registry: IdentityRegistry, roles: Roles) -> None:
    lifetime = 1_000
    expires_at = expiry(chain, lifetime)
    registry.verify(credential_for(roles.holder), Level.HIGH, expires_at, sender=roles.bureau)
    grant_consents(registry, roles.holder, [roles.bank])

    chain.advance_time(lifetime // 2)
    halfway = registry.check(roles.holder, sender=roles.bank)
    chain.advance_time(lifetime // 2)
    after = registry.check(roles.holder, sender=roles.bank)

    assert halfway.standing is Standing.VALID
    assert after.standing is Standing.EXPIRED
    assert registry.status(roles.holder).status is Status.ACTIVE
    registry.reverify(credential_for(roles.holder), Level.HIGH, expiry(chain), sender=roles.bureau)
    assert registry.status(roles.holder).standing is Standing.VALID


def test_expiry_takes_effect_at_the_expiry_second(chain: Chain, registry: IdentityRegistry, roles: Roles) -> None:
    # After the test's snapshot revert the embedded chain's next block takes the wall clock's
    # time, which may be minutes past the latest block's late in a session: catch up first.
    chain.advance_time(1)
    expires_at = expiry(chain, 100)
    registry.verify(credential_for(roles.holder), Level.HIGH, expires_at, sender=roles.bureau)

    chain.advance_time(expires_at - 1 - chain.latest_timestamp())
    just_before = (chain.latest_timestamp(), registry.status(roles.holder).standing)
    chain.advance_time(1)
    at_expiry = (chain.latest_timestamp(), registry.status(roles.holder).standing)

    # Anvil's clock follows the wall clock, so it may land a second late; the embedded one is exact.
    assert just_before[1] is (Standing.VALID if just_before[0] < expires_at else Standing.EXPIRED)
    assert expires_at - 1 <= just_before[0] <= expires_at
    assert at_expiry[0] >= expires_at
    assert at_expiry[1] is Standing.EXPIRED
    if chain.is_embedded:
        assert (just_before, at_expiry[0]) == ((expires_at - 1, Standing.VALID), expires_at)


# --------------------------------------------------------------- issuer removal


@pytest.fixture
def issued_by_bureau_and_clinic(chain: Chain, registry: IdentityRegistry, roles: Roles) -> str:
    """holder and other_holder verified by the bureau; a third holder, returned, by the clinic.

    The holder consents to checks by the bank.
    """
    third = chain.account(8)
    registry.verify(credential_for(roles.holder), Level.HIGH, expiry(chain), sender=roles.bureau)
    grant_consents(registry, roles.holder, [roles.bank])
    registry.verify(credential_for(roles.other_holder), Level.HIGH, expiry(chain), sender=roles.bureau)
    registry.verify(credential_for(third), Level.LOW, expiry(chain), sender=roles.clinic)
    return third


def test_removing_the_issuer_leaves_its_holders_issuer_removed(
    registry: IdentityRegistry, roles: Roles, issued_by_bureau_and_clinic: str
) -> None:
    third = issued_by_bureau_and_clinic
    before = standings(registry, roles.holder, roles.other_holder, third)

    registry.remove_authority(roles.bureau, sender=roles.governor)

    assert before == [Standing.VALID] * 3
    assert standings(registry, roles.holder, roles.other_holder, third) == [
        Standing.ISSUER_REMOVED,
        Standing.ISSUER_REMOVED,
        Standing.VALID,
    ]
    assert registry.check(roles.holder, sender=roles.bank).standing is Standing.ISSUER_REMOVED


@pytest.mark.parametrize("action", ["suspend", "reinstate", "revoke", "reverify", "verify"])
def test_removed_authority_can_no_longer_act(
    registry: IdentityRegistry, roles: Roles, issued_by_bureau_and_clinic: str, action: str
) -> None:
    registry.remove_authority(roles.bureau, sender=roles.governor)

    assert_refused(registry.chain, lambda: ACTIONS[action](registry, roles, roles.bureau), "IdentityNotAuthority")


def test_another_authority_takes_over_only_once_the_issuer_is_removed(
    chain: Chain, registry: IdentityRegistry, roles: Roles, issued_by_bureau_and_clinic: str
) -> None:
    renewed = credential_for(roles.holder, address="3 Clinic Road")
    assert_refused(
        registry.chain,
        lambda: registry.reverify(renewed, Level.LOW, expiry(chain), sender=roles.clinic),
        "IdentityNotIssuer",
    )
    registry.remove_authority(roles.bureau, sender=roles.governor)
    assert_refused(
        registry.chain,
        lambda: registry.verify(renewed, Level.LOW, expiry(chain), sender=roles.clinic),
        "IdentityAlreadyVerified",
    )

    receipt = registry.reverify(renewed, Level.LOW, expiry(chain), sender=roles.clinic)

    status = registry.status(roles.holder)
    assert (status.standing, status.issuer, status.level, status.commitment) == (
        Standing.VALID,
        roles.clinic,
        Level.LOW,
        renewed.commitment,
    )
    assert [e["issuer"] for e in logs(registry, "HolderReverified", receipt)] == [roles.clinic]
    assert registry.status(roles.other_holder).standing is Standing.ISSUER_REMOVED
    registry.suspend(roles.holder, SuspensionReason.HOLDER_REQUEST, sender=roles.clinic)
    assert registry.status(roles.holder).standing is Standing.SUSPENDED


# ---------------------------------------------------------------- audit trail


def test_checks_are_recorded_with_what_was_learnt(registry: IdentityRegistry, roles: Roles, verified: Verified) -> None:
    registry.check(roles.holder, sender=roles.bank)
    registry.suspend(roles.holder, SuspensionReason.UNDER_REVIEW, sender=roles.bureau)
    registry.check(roles.holder, sender=roles.hotel)
    registry.check(roles.other_holder, sender=roles.bank)

    checks = registry.checks_of(roles.holder)

    assert [(c.actor, c.details) for c in checks] == [
        (roles.bank, {"standing": "valid"}),
        (roles.hotel, {"standing": "suspended"}),
    ]
    # other_holder never consented (it cannot: it was never verified): the bank learnt only that.
    assert [(c.actor, c.details) for c in registry.checks_of(roles.other_holder)] == [
        (roles.bank, {"standing": "no_consent"})
    ]


def test_history_lists_every_event_about_the_holder_in_order(
    chain: Chain, registry: IdentityRegistry, roles: Roles, verified: Verified
) -> None:
    registry.check(roles.holder, sender=roles.bank)
    registry.suspend(roles.holder, SuspensionReason.COURT_ORDER, sender=roles.bureau)
    registry.verify(credential_for(roles.other_holder), Level.LOW, expiry(chain), sender=roles.clinic)
    registry.reinstate(roles.holder, sender=roles.bureau)
    registry.reverify(verified.credential, Level.SUBSTANTIAL, expiry(chain), sender=roles.bureau)
    registry.check(roles.holder, sender=roles.hotel)
    last = registry.revoke(roles.holder, sender=roles.bureau)

    history = registry.history(roles.holder)

    assert [(e.event, e.actor) for e in history] == [
        ("HolderVerified", roles.bureau),
        ("ConsentGranted", None),
        ("ConsentGranted", None),
        ("HolderChecked", roles.bank),
        ("HolderSuspended", roles.bureau),
        ("HolderReinstated", roles.bureau),
        ("HolderReverified", roles.bureau),
        ("HolderChecked", roles.hotel),
        ("HolderRevoked", roles.bureau),
    ]
    assert [(e.block_number, e.log_index) for e in history] == sorted((e.block_number, e.log_index) for e in history)
    assert history[0].tx_hash == "0x" + bytes(verified.receipt["transactionHash"]).hex()
    assert history[-1].block_number == last["blockNumber"]
    assert {e.details["relyingParty"] for e in history[1:3]} == {roles.bank, roles.hotel}
    assert history[4].details == {}  # the reason stays off chain
    assert history[6].details["level"] == "substantial"
    assert [e.event for e in registry.history(roles.other_holder)] == ["HolderVerified"]


# --------------------------------------------------------- selective disclosure


def test_verify_attribute_on_chain(registry: IdentityRegistry, roles: Roles, verified: Verified) -> None:
    genuine = verified.credential.disclose(["age_over_18", "national_id"])
    (age,) = [a for a in genuine.attributes if a.key == "age_over_18"]
    functions = registry.contract.functions

    def on_chain(holder: str, value: str) -> bool:
        return bool(functions.verifyAttribute(holder, age.key, value, age.salt, list(age.proof)).call())

    registry.verify(credential_for(roles.other_holder), Level.HIGH, expiry(registry.chain), sender=roles.bureau)

    assert age.value == "true"
    assert on_chain(roles.holder, "true") is True
    assert registry.verify_disclosure_on_chain(genuine) is True
    assert on_chain(roles.holder, "false") is False
    assert on_chain(roles.other_holder, "true") is False
    registry.suspend(roles.holder, SuspensionReason.UNDER_REVIEW, sender=roles.bureau)
    assert on_chain(roles.holder, "true") is False
    assert registry.verify_disclosure_on_chain(genuine) is False


def test_verify_disclosure_offline(registry: IdentityRegistry, roles: Roles, verified: Verified) -> None:
    disclosure = verified.credential.disclose(["name", "age_over_18"])

    result = registry.verify_disclosure(disclosure)

    assert (result.holder, result.attributes, result.standing) == (
        roles.holder,
        {"name": PERSON["name"], "age_over_18": "true"},
        Standing.VALID,
    )
    registry.reverify(credential_for(roles.holder), Level.HIGH, expiry(registry.chain), sender=roles.bureau)
    with pytest.raises(DisclosureInvalid, match="outdated or forged"):
        registry.verify_disclosure(disclosure)


def test_an_unknown_enum_name_is_refused_in_words() -> None:
    with pytest.raises(InvalidInput, match=r"'stolen' is not a valid suspension reason: choose one of lost_document"):
        SuspensionReason.parse("stolen")
    with pytest.raises(InvalidInput, match=r"'ultra' is not a valid level: choose one of low, substantial, high\."):
        Level.parse("ultra")


def test_the_registry_states_its_signing_domain_and_an_independent_client_hashes_it_alike(
    chain: Chain, registry: IdentityRegistry
) -> None:
    """ERC-5267: clients read the EIP-712 domain from the contract; eth-account's own
    hashing of what it states is the separator the contract checks signatures against."""
    fields, name, version, chain_id, contract, salt, extensions = registry.contract.functions.eip712Domain().call()

    assert (fields, name, version) == (b"\x0f", "chainpass IdentityRegistry", "1")  # name, version, chain, contract
    assert (chain_id, contract, salt, extensions) == (chain.chain_id, registry.address, bytes(32), [])
    domain = {"name": name, "version": version, "chainId": chain_id, "verifyingContract": contract}
    probe = encode_typed_data(domain, {"Probe": [{"name": "n", "type": "uint256"}]}, {"n": 1})
    assert probe.header == registry.contract.functions.DOMAIN_SEPARATOR().call()
    assert registry.domain() == Domain(chain.chain_id, registry.address)
