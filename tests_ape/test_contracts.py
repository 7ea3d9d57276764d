"""The contracts under ape: deployment, identity and passports' main paths, reverts
checked by custom error with `ape.reverts`, events read from ape's receipts."""

from __future__ import annotations

from typing import Any

import ape
from eth_account.messages import encode_typed_data
from world import (
    CARRIER,
    COOP_PREFIX,
    COOP_PREFIX_LENGTH,
    LEVEL_HIGH,
    LEVEL_SUBSTANTIAL,
    PRODUCER,
    RECOVERY_DELAY,
    REGISTRAR,
    TEN_YEARS,
    Actors,
    commitment,
)

from chainpass.custody import CustodyOffer

GTIN = 9506000134352  # (01)09506000134352
ITEM, LOT = 1, 2
STATE_ACTIVE, STATE_IN_TRANSIT = 1, 2
SHIPPING, RECEIVING, IN_TRANSIT, SELLABLE = 5, 6, 2, 6
#: IIdentityRegistry.Standing
VALID, NO_CONSENT = 1, 7


def serial(text: str) -> bytes:
    return text.encode("ascii").ljust(32, b"\0")


def test_deployment(registry: Any, passports: Any, actors: Actors) -> None:
    assert registry.governor() == actors.governor
    assert registry.recoveryDelay() == RECOVERY_DELAY
    assert passports.identityRegistry() == registry.address
    assert passports.governor() == actors.governor


def test_only_the_governor_appoints(registry: Any, actors: Actors) -> None:
    with ape.reverts(registry.IdentityNotGovernor, account=actors.outsider.address):
        registry.appointAuthority(actors.outsider, LEVEL_HIGH, sender=actors.outsider)


def test_appoint_authority(registry: Any, actors: Actors) -> None:
    receipt = registry.appointAuthority(actors.bureau, LEVEL_SUBSTANTIAL, sender=actors.governor)
    assert receipt.events == [registry.AuthorityAppointed(authority=actors.bureau, maxLevel=LEVEL_SUBSTANTIAL)]
    record = registry.authorityOf(actors.bureau)
    assert (record.active, record.maxLevel, record.signingKey) == (True, LEVEL_SUBSTANTIAL, actors.bureau.address)


def test_register_identity_and_check_it(chain: Any, registry: Any, bureau: Any, actors: Actors) -> None:
    expires = chain.pending_timestamp + TEN_YEARS
    receipt = registry.verify(actors.holder, commitment("holder"), LEVEL_HIGH, expires, sender=bureau)
    (verified,) = receipt.decode_logs(registry.HolderVerified)
    assert verified.holder == actors.holder
    assert verified.issuer == bureau
    identity = registry.identityOf(actors.holder)
    assert identity.commitment == commitment("holder")
    assert identity.issuer == bureau
    assert identity.expiresAt == expires
    assert registry.standingOf(actors.holder) == VALID

    # The bank has no consent yet: its check says so, and is logged for the holder to see.
    receipt = registry.check(actors.holder, sender=actors.bank)
    checked = registry.HolderChecked(holder=actors.holder, relyingParty=actors.bank, standing=NO_CONSENT)
    assert receipt.events == [checked]


def test_only_the_issuer_suspends(chain: Any, registry: Any, bureau: Any, actors: Actors) -> None:
    registry.appointAuthority(actors.outsider, LEVEL_HIGH, sender=actors.governor)
    registry.verify(actors.holder, commitment("holder"), LEVEL_HIGH, chain.pending_timestamp + 3600, sender=bureau)
    with ape.reverts(
        registry.IdentityNotIssuer,
        holder=actors.holder.address,
        issuer=bureau.address,
        account=actors.outsider.address,
    ):
        registry.suspend(actors.holder, b"\x01" * 32, sender=actors.outsider)


def test_a_level_above_the_authority_s_reverts(chain: Any, registry: Any, actors: Actors) -> None:
    registry.appointAuthority(actors.bureau, LEVEL_SUBSTANTIAL, sender=actors.governor)
    with ape.reverts(registry.IdentityLevelAboveAuthority):
        expires = chain.pending_timestamp + 3600
        registry.verify(actors.holder, commitment("holder"), LEVEL_HIGH, expires, sender=actors.bureau)


def test_isolation_reverted_the_previous_tests(registry: Any, actors: Actors) -> None:
    """ape's chain isolation: what earlier tests did is gone (the bureau was appointed in them)."""
    record = registry.authorityOf(actors.outsider)
    assert (record.active, record.maxLevel, int(record.signingKey, 16)) == (False, 0, 0)
    assert registry.identityOf(actors.holder).issuer == "0x" + "00" * 20


def test_commission_record_event_and_hand_over_custody(chain: Any, supply_chain: Any, actors: Actors) -> None:
    passports = supply_chain
    key = (GTIN, ITEM, 0, serial("APE-001"))
    passport_id = passports.passportId(GTIN, ITEM, serial("APE-001"))

    receipt = passports.commission([key], b"\0" * 32, "", sender=actors.coop)
    (commissioned,) = receipt.decode_logs(passports.PassportCommissioned)
    assert commissioned.id == passport_id
    assert passports.ownerOf(passport_id) == actors.coop
    assert passports.passportOf(passport_id).state == STATE_ACTIVE

    # An account without the producer role cannot commission.
    with ape.reverts(passports.PassportMissingRole):
        passports.commission([(GTIN, ITEM, 0, serial("APE-002"))], b"\0" * 32, "", sender=actors.outsider)

    # The cooperative ships it: one EPCIS event, recorded on chain.
    no_hash = b"\0" * 32
    event = (SHIPPING, IN_TRANSIT, chain.pending_timestamp, commitment("read point"), no_hash, no_hash, [passport_id])
    receipt = passports.recordEvents([event], sender=actors.coop)
    (recorded,) = receipt.decode_logs(passports.PassportEventRecorded)
    assert recorded.id == passport_id
    assert passports.passportOf(passport_id).state == STATE_IN_TRANSIT

    # Custody: the cooperative signs an EIP-712 offer with its ape account, the carrier accepts it.
    offer = CustodyOffer(
        chain_id=chain.chain_id,
        contract=passports.address,
        passport=passport_id,
        holder=actors.coop.address,
        receiver=actors.carrier.address,
        nonce=passports.custodyOf(passport_id).nonce,
        deadline=chain.pending_timestamp + 3600,
    )
    signature = actors.coop.sign_message(encode_typed_data(full_message=offer.to_json()))
    assert signature is not None
    receipt = passports.acceptCustody(passport_id, offer.deadline, signature.encode_rsv(), sender=actors.carrier)
    assert receipt.events == [
        passports.CustodyTransferred(id=passport_id, **{"from": actors.coop.address}, to=actors.carrier.address)
    ]
    (goods,) = passports.goodsOf([passport_id])  # the custodian in its low 160 bits
    assert int.from_bytes(goods[12:], "big") == int(actors.carrier.address, 16)
    assert passports.ownerOf(passport_id) == actors.coop  # custody is not ownership

    # The carrier holds the goods now: the offer cannot be used again.
    with ape.reverts(passports.PassportAlreadyCustodian):
        passports.acceptCustody(passport_id, offer.deadline, signature.encode_rsv(), sender=actors.carrier)

    # A physical step belongs to whoever holds the goods: the carrier receives them, the
    # cooperative (the owner, no longer the holder) cannot.
    received = (RECEIVING, SELLABLE, chain.pending_timestamp, commitment("port"), no_hash, no_hash, [passport_id])
    with ape.reverts(
        passports.PassportNotHolder, id=passport_id, holder=actors.carrier.address, account=actors.coop.address
    ):
        passports.recordEvents([received], sender=actors.coop)
    passports.recordEvents([received], sender=actors.carrier)
    assert passports.passportOf(passport_id).state == STATE_ACTIVE


def test_a_brand_owns_its_codes(chain: Any, registry: Any, bureau: Any, supply_chain: Any, actors: Actors) -> None:
    passports = supply_chain
    assert passports.brandOf(GTIN, serial("APE-001")) == (actors.coop.address, COOP_PREFIX, COOP_PREFIX_LENGTH)

    # A verified producer that is not the brand's licensee is refused its codes, and a code
    # under a prefix nobody registered is refused to everyone.
    registry.verify(actors.outsider, commitment("outsider"), LEVEL_HIGH, chain.pending_timestamp + TEN_YEARS,
                    sender=bureau)  # fmt: skip
    passports.setRoles(actors.outsider, PRODUCER, sender=actors.governor)
    squatted = (GTIN, ITEM, 0, serial("APE-002"))
    with ape.reverts(passports.PassportNotLicensed, brand=actors.coop.address, account=actors.outsider.address):
        passports.commission([squatted], b"\0" * 32, "", sender=actors.outsider)
    unregistered = 4006381333931  # prefix 4006381: nobody's here
    with ape.reverts(passports.PassportUnregisteredPrefix, gtin=unregistered):
        passports.commission([(unregistered, ITEM, 0, serial("APE-003"))], b"\0" * 32, "", sender=actors.coop)

    # The brand licenses it for that GTIN: now it may.
    receipt = passports.setLicence(COOP_PREFIX, COOP_PREFIX_LENGTH, GTIN, actors.outsider, True, sender=actors.coop)
    assert receipt.events == [
        passports.LicenceGranted(
            prefix=COOP_PREFIX, length=COOP_PREFIX_LENGTH, gtin=GTIN, manufacturer=actors.outsider, brand=actors.coop
        )
    ]
    assert passports.isLicensed(COOP_PREFIX, COOP_PREFIX_LENGTH, GTIN, actors.outsider)
    passports.commission([squatted], b"\0" * 32, "", sender=actors.outsider)
    assert passports.producerOf(passports.passportId(GTIN, ITEM, serial("APE-002"))) == actors.outsider


def test_roles_are_bit_sets(supply_chain: Any, actors: Actors) -> None:
    assert supply_chain.rolesOf(actors.coop) == PRODUCER
    assert supply_chain.rolesOf(actors.carrier) == CARRIER
    assert supply_chain.rolesOf(actors.registrar) == REGISTRAR
    assert supply_chain.rolesOf(actors.outsider) == 0
