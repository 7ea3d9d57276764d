"""Brands own their codes: GS1 company prefixes registered to their licensee, licences,
and the keys (GTIN, SSCC, GIAI) checked against them (docs/passport-rules.md, "Brands").

The fixtures' registrar registered PRODUCER_PREFIXES (9506000, 0614141, 4012345, 0036000) to
the producer, the brand here. Three more verified organisations with the producer role and no
licence of their own: two manufacturers the brand may license, and a counterfeiter.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from accounts import World, credential_for, fund
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from passport_world import GTIN, Orgs
from support import assert_refused, logs, refused_by_client

from chainpass.chain import Chain
from chainpass.enums import Level, Role, Standing
from chainpass.errors import ContractRevert, InvalidInput
from chainpass.passport import Brand, ProductPassports
from chainpass.standards.gs1 import ProductKey

BRAND_PREFIX = "9506000"
#: Another GTIN of the brand's, under the same prefix as GTIN (9506000134352).
OTHER_GTIN = "9506000134369"
#: A prefix nobody registered (no fixture's prefix overlaps it).
FREE_PREFIX = "8712345"


def check_digit(body: str) -> str:
    """The GS1 check digit of ``body`` (a GTIN's or SSCC's digits before it)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str(-total % 10)


def gtin13(prefix: str, reference: int = 1) -> str:
    """A GTIN-13 under ``prefix``: the prefix, the item reference (none after a 12-digit
    prefix), the check digit."""
    room = 12 - len(prefix)
    body = prefix + (str(reference).zfill(room)[-room:] if room else "")
    return body + check_digit(body)


def sscc(prefix: str, reference: int = 1) -> str:
    """An SSCC under ``prefix``: extension digit 1, the prefix, the serial reference, the check digit."""
    body = "1" + prefix + str(reference).zfill(16 - len(prefix))
    return body + check_digit(body)


@dataclass(frozen=True)
class Makers:
    """Verified organisations with the producer role and no licence."""

    first: LocalAccount
    second: LocalAccount
    counterfeiter: LocalAccount


@pytest.fixture(scope="module")
def makers_setup(orgs_setup: Orgs, world_session: World) -> Iterator[Makers]:
    chain = world_session.chain
    snapshot = chain.snapshot()
    pp = ProductPassports.from_deployment(chain, world_session.deployment)
    accounts = [Account.from_key(keccak(text=f"chainpass tests: brands {n}")) for n in ("first", "second", "fake")]
    expires = chain.latest_timestamp() + 10**8
    for account in accounts:
        fund(chain, account.address)
        world_session.registry.verify(
            credential_for(account.address), Level.HIGH, expires, sender=world_session.roles.bureau
        )
        pp.set_roles(account.address, Role.PRODUCER, sender=orgs_setup.governor)
    yield Makers(*accounts)
    chain.revert(snapshot)


@pytest.fixture
def makers(makers_setup: Makers, world: World) -> Makers:
    return makers_setup


def commission(pp: ProductPassports, key: ProductKey, sender: object) -> int:
    (id_,) = pp.commission([key], sender=sender)  # type: ignore[arg-type]
    return id_


# ---------------------------------------------------------------------------- the registry


def test_the_registrar_registers_and_revokes_a_prefix(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    receipt = pp.register_prefix(FREE_PREFIX, orgs.retailer, sender=orgs.registrar)

    assert logs(pp, "PrefixRegistered", receipt) == [
        {"prefix": int(FREE_PREFIX), "length": 7, "licensee": orgs.retailer, "registrar": orgs.registrar}
    ]
    assert pp.brand_of(ProductKey.item(gtin13(FREE_PREFIX), "A1")) == Brand(FREE_PREFIX, orgs.retailer)
    assert pp.is_licensed(FREE_PREFIX, orgs.retailer)

    receipt = pp.revoke_prefix(FREE_PREFIX, sender=orgs.registrar)

    assert logs(pp, "PrefixRevoked", receipt) == [
        {"prefix": int(FREE_PREFIX), "length": 7, "registrar": orgs.registrar}
    ]
    assert pp.brand_of(ProductKey.item(gtin13(FREE_PREFIX), "A1")) is None
    assert not pp.is_licensed(FREE_PREFIX, orgs.retailer)
    assert_refused(chain, lambda: pp.revoke_prefix(FREE_PREFIX, sender=orgs.registrar), "PassportPrefixNotRegistered")


@pytest.mark.parametrize("who", ["producer", "retailer", "governor", "stranger"])
def test_only_a_registrar_registers_or_revokes(chain: Chain, pp: ProductPassports, orgs: Orgs, who: str) -> None:
    account = orgs.by_name(who)
    for call in (
        lambda: pp.register_prefix(FREE_PREFIX, account, sender=account),
        lambda: pp.revoke_prefix(BRAND_PREFIX, sender=account),
    ):
        assert_refused(chain, call, "PassportMissingRole", account=account)
    assert pp.brand_of(ProductKey.item(gtin13(FREE_PREFIX), "A1")) is None
    assert pp.brand_of(ProductKey.item(GTIN, "A1")) == Brand(BRAND_PREFIX, orgs.producer)


def test_a_missing_registrar_role_is_named_in_the_refusal(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    with pytest.raises(ContractRevert) as info:
        pp.register_prefix(FREE_PREFIX, orgs.producer, sender=orgs.producer)
    assert info.value.error_args["role"] == "registrar"


def test_a_prefix_goes_to_a_known_organisation_only(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    assert_refused(
        chain,
        lambda: pp.register_prefix(FREE_PREFIX, orgs.stranger, sender=orgs.registrar),
        "PassportNotMember",
        account=orgs.stranger,
    )
    refused_by_client(
        chain, lambda: pp.register_prefix("123", orgs.producer, sender=orgs.registrar), InvalidInput, "4 to 12 digits"
    )
    head = chain.w3.eth.block_number
    for digits, length in ((123, 3), (1, 13), (10**7, 7)):  # too short, too long, more digits than its length
        call = pp.contract.functions.registerPrefix(digits, length, orgs.producer)
        with pytest.raises(ContractRevert) as info:
            chain.transact(call, orgs.registrar)
        assert (info.value.error, info.value.error_args["length"]) == ("PassportInvalidPrefix", length)
        assert "give 4 to 12 digits" in str(info.value)
    assert chain.w3.eth.block_number == head


def test_prefixes_never_nest(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    """A longer prefix inside a registered one, a shorter one around it, and the same one
    again are all refused; once the registered one is revoked, the others may be."""
    longer, shorter = BRAND_PREFIX + "1", BRAND_PREFIX[:-1]
    for prefix in (longer, BRAND_PREFIX + "12345", BRAND_PREFIX):
        assert_refused(
            chain,
            lambda p=prefix: pp.register_prefix(p, orgs.retailer, sender=orgs.registrar),
            "PassportPrefixTaken",
            licensee=orgs.producer,
        )
    for prefix in (shorter, BRAND_PREFIX[:4]):
        assert_refused(
            chain,
            lambda p=prefix: pp.register_prefix(p, orgs.retailer, sender=orgs.registrar),
            "PassportPrefixContainsRegistered",
            count=1,  # no licensee of its own: a registered prefix extends it
        )

    pp.revoke_prefix(BRAND_PREFIX, sender=orgs.registrar)
    pp.register_prefix(longer, orgs.retailer, sender=orgs.registrar)

    assert_refused(
        chain,
        lambda: pp.register_prefix(BRAND_PREFIX, orgs.producer, sender=orgs.registrar),
        "PassportPrefixContainsRegistered",
    )
    assert pp.brand_of(ProductKey.item(gtin13(longer), "A1")) == Brand(longer, orgs.retailer)
    assert pp.brand_of(ProductKey.item(gtin13(BRAND_PREFIX + "2"), "A1")) is None

    pp.revoke_prefix(longer, sender=orgs.registrar)
    pp.register_prefix(shorter, orgs.retailer, sender=orgs.registrar)  # nothing extends it any more
    assert pp.brand_of(ProductKey.item(GTIN, "A1")) == Brand(shorter, orgs.retailer)


def test_every_prefix_length_is_found(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    """Prefixes of 4 to 12 digits (looked up 7, 9, 8, 10, 6, 11, 12, 5, 4): each one's codes
    name it, and the brand commissions them in one batch."""
    prefixes = {length: ("50" + str(length).zfill(2)).ljust(length, "0") for length in range(4, 13)}
    for prefix in prefixes.values():
        pp.register_prefix(prefix, orgs.producer, sender=orgs.registrar)
    keys = [ProductKey.item(gtin13(prefix, 7), f"LEN{length}") for length, prefix in prefixes.items()]

    pp.commission(keys, sender=orgs.producer)

    for key, prefix in zip(keys, prefixes.values(), strict=True):
        assert pp.brand_of(key) == Brand(prefix, orgs.producer), prefix
        assert pp.verify(key).genuine


# ---------------------------------------------------------------------------- commissioning


def test_a_code_under_an_unregistered_prefix_is_refused(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    for key in (
        ProductKey.item(gtin13(FREE_PREFIX), "A1"),
        ProductKey.lot(gtin13(FREE_PREFIX), "L1"),
        ProductKey.sscc(sscc(FREE_PREFIX)),
        ProductKey.giai(FREE_PREFIX + "ASSET1"),
    ):
        assert_refused(chain, lambda k=key: pp.commission([k], sender=orgs.producer), "PassportUnregisteredPrefix")
        assert pp.passport(pp.passport_id(key)) is None
        assert pp.brand_of(key) is None


def test_the_licensee_and_those_it_licenses_commission(
    chain: Chain, pp: ProductPassports, orgs: Orgs, makers: Makers
) -> None:
    whole, one = makers.first, makers.second

    receipt = pp.set_licence(BRAND_PREFIX, whole.address, sender=orgs.producer)
    assert logs(pp, "LicenceGranted", receipt) == [
        {"prefix": int(BRAND_PREFIX), "length": 7, "gtin": 0, "manufacturer": whole.address, "brand": orgs.producer}
    ]
    receipt = pp.set_licence(BRAND_PREFIX, one.address, gtin=GTIN, sender=orgs.producer)
    assert logs(pp, "LicenceGranted", receipt)[0]["gtin"] == int(GTIN)

    assert pp.is_licensed(BRAND_PREFIX, whole.address) and pp.is_licensed(BRAND_PREFIX, whole.address, gtin=OTHER_GTIN)
    assert pp.is_licensed(BRAND_PREFIX, one.address, gtin=GTIN)
    assert not pp.is_licensed(BRAND_PREFIX, one.address, gtin=OTHER_GTIN)
    assert not pp.is_licensed(BRAND_PREFIX, one.address)

    made = [
        commission(pp, ProductKey.item(GTIN, "OWN1"), orgs.producer),
        commission(pp, ProductKey.item(GTIN, "WHOLE1"), whole),
        commission(pp, ProductKey.item(OTHER_GTIN, "WHOLE2"), whole),
        commission(pp, ProductKey.item(GTIN, "ONE1"), one),
    ]
    assert [pp.producer_of(i) for i in made] == [orgs.producer, whole.address, whole.address, one.address]

    key = ProductKey.item(OTHER_GTIN, "ONE2")
    assert_refused(
        chain,
        lambda: pp.commission([key], sender=one),
        "PassportNotLicensed",
        brand=orgs.producer,
        account=one.address,
    )
    verdict = pp.verify(ProductKey.item(GTIN, "WHOLE1"))
    assert (verdict.genuine, verdict.producer, verdict.brand) == (
        True,
        whole.address,
        Brand(BRAND_PREFIX, orgs.producer),
    )


def test_only_the_brand_licenses_under_its_prefix(
    chain: Chain, pp: ProductPassports, orgs: Orgs, makers: Makers
) -> None:
    for sender in (makers.first, orgs.retailer):
        assert_refused(
            chain,
            lambda s=sender: pp.set_licence(BRAND_PREFIX, makers.second.address, sender=s),
            "PassportNotBrand",
            brand=orgs.producer,
        )
    assert_refused(
        chain,
        lambda: pp.set_licence(FREE_PREFIX, makers.second.address, sender=orgs.producer),
        "PassportPrefixNotRegistered",
    )
    refused_by_client(
        chain,
        lambda: pp.set_licence(BRAND_PREFIX, makers.second.address, gtin=gtin13(FREE_PREFIX), sender=orgs.producer),
        InvalidInput,
        "not under GS1 company prefix",
    )
    call = pp.contract.functions.setLicence(int(BRAND_PREFIX), 7, int(gtin13(FREE_PREFIX)), makers.second.address, True)
    assert_refused(chain, lambda: chain.transact(call, orgs.producer), "PassportNotUnderPrefix")
    assert not pp.is_licensed(BRAND_PREFIX, makers.second.address)


def test_a_revoked_licence_stops_new_commissions_and_old_passports_stay_genuine(
    chain: Chain, pp: ProductPassports, orgs: Orgs, makers: Makers
) -> None:
    maker = makers.first
    pp.set_licence(BRAND_PREFIX, maker.address, sender=orgs.producer)
    pp.set_licence(BRAND_PREFIX, maker.address, gtin=GTIN, sender=orgs.producer)
    earlier = commission(pp, ProductKey.item(GTIN, "LIC1"), maker)

    pp.set_licence(BRAND_PREFIX, maker.address, granted=False, sender=orgs.producer)
    receipt = pp.set_licence(BRAND_PREFIX, maker.address, gtin=GTIN, granted=False, sender=orgs.producer)

    assert logs(pp, "LicenceRevoked", receipt) == [
        {
            "prefix": int(BRAND_PREFIX),
            "length": 7,
            "gtin": int(GTIN),
            "manufacturer": maker.address,
            "brand": orgs.producer,
        }
    ]
    assert not pp.is_licensed(BRAND_PREFIX, maker.address, gtin=GTIN)
    assert_refused(chain, lambda: pp.commission([ProductKey.item(GTIN, "LIC2")], sender=maker), "PassportNotLicensed")
    verdict = pp.verify(ProductKey.item(GTIN, "LIC1"))
    assert (verdict.genuine, verdict.producer, verdict.brand) == (
        True,
        maker.address,
        Brand(BRAND_PREFIX, orgs.producer),
    )
    assert pp.passport(earlier) is not None


def test_a_revoked_prefix_stops_its_brand_too_and_old_passports_stay_genuine(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    key = ProductKey.item(GTIN, "PRE1")
    commission(pp, key, orgs.producer)

    pp.revoke_prefix(BRAND_PREFIX, sender=orgs.registrar)

    assert_refused(
        chain,
        lambda: pp.commission([ProductKey.item(GTIN, "PRE2")], sender=orgs.producer),
        "PassportUnregisteredPrefix",
    )
    verdict = pp.verify(key)
    assert (verdict.genuine, verdict.producer, verdict.brand) == (True, orgs.producer, None)


def test_a_prefix_registered_to_another_brand_revives_no_old_licence(
    chain: Chain, pp: ProductPassports, orgs: Orgs, makers: Makers
) -> None:
    maker, new_brand = makers.first, makers.second
    pp.set_licence(BRAND_PREFIX, maker.address, sender=orgs.producer)
    pp.set_licence(BRAND_PREFIX, maker.address, gtin=GTIN, sender=orgs.producer)

    pp.revoke_prefix(BRAND_PREFIX, sender=orgs.registrar)
    pp.register_prefix(BRAND_PREFIX, new_brand.address, sender=orgs.registrar)

    assert not pp.is_licensed(BRAND_PREFIX, maker.address)
    assert not pp.is_licensed(BRAND_PREFIX, maker.address, gtin=GTIN)
    assert not pp.is_licensed(BRAND_PREFIX, orgs.producer)
    for sender in (maker, orgs.producer):
        assert_refused(
            chain,
            lambda s=sender: pp.commission([ProductKey.item(GTIN, "NEW1")], sender=s),  # type: ignore[arg-type]
            "PassportNotLicensed",
            brand=new_brand.address,
        )
    commission(pp, ProductKey.item(GTIN, "NEW1"), new_brand)
    assert pp.verify(ProductKey.item(GTIN, "NEW1")).brand == Brand(BRAND_PREFIX, new_brand.address)


def test_a_brand_that_gets_its_prefix_back_finds_its_licences_in_force(
    chain: Chain, pp: ProductPassports, orgs: Orgs, makers: Makers
) -> None:
    """Documented as a known limit: a licence names the brand that granted it, and counts
    whenever that brand is the prefix's licensee."""
    pp.set_licence(BRAND_PREFIX, makers.first.address, sender=orgs.producer)
    pp.revoke_prefix(BRAND_PREFIX, sender=orgs.registrar)
    assert not pp.is_licensed(BRAND_PREFIX, makers.first.address)

    pp.register_prefix(BRAND_PREFIX, orgs.producer, sender=orgs.registrar)

    assert pp.is_licensed(BRAND_PREFIX, makers.first.address)
    commission(pp, ProductKey.item(GTIN, "BACK1"), makers.first)


# ---------------------------------------------------------------------------- other keys


def test_sscc_and_giai_are_checked_against_their_prefix(
    chain: Chain, pp: ProductPassports, orgs: Orgs, makers: Makers
) -> None:
    pallet = ProductKey.sscc(sscc("0614141", 42))
    asset = ProductKey.giai("0614141WAGON7")
    for key in (pallet, asset):
        assert (key.gtin, pp.brand_of(key)) == (0, Brand("0614141", orgs.producer))
        assert_refused(
            chain,
            lambda k=key: pp.commission([k], sender=makers.counterfeiter),
            "PassportNotLicensed",
            brand=orgs.producer,
            account=makers.counterfeiter.address,
        )

    ids = pp.commission([pallet, asset], sender=orgs.producer)

    assert [pp.producer_of(i) for i in ids] == [orgs.producer] * 2
    assert pp.verify(pallet).brand == Brand("0614141", orgs.producer)
    # A licence for the whole prefix covers the other keys under it (they have no GTIN).
    pp.set_licence("0614141", makers.first.address, sender=orgs.producer)
    commission(pp, ProductKey.sscc(sscc("0614141", 43)), makers.first)
    commission(pp, ProductKey.giai("0614141WAGON8"), makers.first)


def test_one_gs1_key_names_one_passport(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    """An item and a container of the same GTIN and serial are the same passport, in
    either order; a lot of that number is another key (AI 10, not 21)."""
    item, case = ProductKey.item(GTIN, "SAME1"), ProductKey.container(GTIN, "SAME1", 1)
    assert pp.passport_id(item) == pp.passport_id(case)

    first = commission(pp, item, orgs.producer)
    assert_refused(chain, lambda: pp.commission([case], sender=orgs.producer), "PassportExists")

    commission(pp, ProductKey.container(GTIN, "SAME2", 1), orgs.producer)
    assert_refused(
        chain, lambda: pp.commission([ProductKey.item(GTIN, "SAME2")], sender=orgs.producer), "PassportExists"
    )
    lot = commission(pp, ProductKey.lot(GTIN, "SAME1"), orgs.producer)
    assert lot != first


def test_a_verified_squatter_cannot_take_the_brands_next_serials(
    chain: Chain, pp: ProductPassports, orgs: Orgs, makers: Makers
) -> None:
    """The issue's scenario: a second verified producer commissions the brand's next
    predictable serials first. Now it is refused, and the brand's own commission goes on."""
    squatter = makers.counterfeiter
    assert pp.registry.status(squatter.address).standing is Standing.VALID
    assert pp.roles_of(squatter.address) == Role.PRODUCER
    pp.commission([ProductKey.item(GTIN, f"SER{i:04d}") for i in range(3)], sender=orgs.producer)
    next_serials = [ProductKey.item(GTIN, f"SER{i:04d}") for i in range(3, 6)]

    assert_refused(
        chain,
        lambda: pp.commission(next_serials, sender=squatter),
        "PassportNotLicensed",
        brand=orgs.producer,
        account=squatter.address,
    )
    ids = pp.commission(next_serials, sender=orgs.producer)

    assert ids == [pp.passport_id(k) for k in next_serials]
    verdict = pp.verify(next_serials[0])
    assert (verdict.genuine, verdict.producer, verdict.brand) == (
        True,
        orgs.producer,
        Brand(BRAND_PREFIX, orgs.producer),
    )


def test_the_verdict_names_the_brand(pp: ProductPassports, orgs: Orgs, makers: Makers) -> None:
    made = ProductKey.item(GTIN, "VER1")
    commission(pp, made, orgs.producer)
    never = ProductKey.item(GTIN, "NEVER")
    unregistered = ProductKey.item(gtin13(FREE_PREFIX), "X")

    assert pp.verify(made).to_json()["brand"] == {"prefix": BRAND_PREFIX, "licensee": orgs.producer}
    verdict = pp.verify(never)
    assert (verdict.genuine, verdict.brand) == (False, Brand(BRAND_PREFIX, orgs.producer))
    verdict = pp.verify(unregistered)
    assert (verdict.genuine, verdict.brand) == (False, None)
