"""Organisations survive key changes (docs/passport-rules.md, "Following organisations").

When the registry moves an organisation's identity to a new wallet (the holder rotates it,
or its issuer recovers it), anyone calls ``followMember(oldWallet)``: roles, producer-ship,
ownership, balances, custody and licences (granted and held) go to the new wallet, one hop
per call. Genuineness is a fact about origin: it never flips because the producer moved or
its verification lapsed; the producer's standing today is shown beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from accounts import World, credential_for, fund
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from passport_world import (
    GTIN,
    Orgs,
    commission_one,
    enlist_producer,
    event,
    hand_over,
    item_keys,
    recall,
    ship,
    states,
)
from support import assert_refused, logs

from chainpass.chain import Chain
from chainpass.enums import BizStep, Disposition, Level, Role, Standing, State
from chainpass.identity import IdentityRegistry
from chainpass.passport import Brand, ProductPassports
from chainpass.standards.gs1 import ProductKey

BRAND_PREFIX = "9506000"


def wallet(name: str) -> LocalAccount:
    """A fixed fresh wallet per name (no identity, no role), the same on every backend."""
    account: LocalAccount = Account.from_key(keccak(text=f"chainpass tests: followers {name}"))
    return account


@dataclass(frozen=True)
class Holdings:
    """What the producer has before its key changes."""

    #: Commissioned and still owned and held by the producer.
    kept: list[int]
    #: Commissioned by the producer, sold (title) to the retailer; the producer still holds the goods.
    sold_title: int
    #: Commissioned by the producer, handed to the carrier (custody), title kept.
    handed: int
    #: A second producer the brand licensed for its prefix.
    licensee: LocalAccount


@pytest.fixture(scope="module")
def holdings_setup(orgs_setup: Orgs, world_session: World) -> Iterator[Holdings]:
    """Built once per module and backend; each test starts from it (the ``world`` snapshot)."""
    world, orgs = world_session, orgs_setup
    snapshot = world.chain.snapshot()
    pp = ProductPassports.from_deployment(world.chain, world.deployment)
    kept = pp.commission(item_keys(3, "KEEP"), sender=orgs.producer)
    sold_title = commission_one(pp, orgs, ProductKey.item(GTIN, "TITLE1"))
    pp.transfer(sold_title, orgs.retailer, sender=orgs.producer)
    handed = commission_one(pp, orgs, ProductKey.item(GTIN, "HAND1"))
    hand_over(pp, handed, orgs.producer, orgs.carrier)
    licensee = wallet("licensee")
    fund(world.chain, licensee.address)
    enlist_producer(world, pp, licensee.address, licensed_by=orgs.producer)
    yield Holdings(kept, sold_title, handed, licensee)
    world.chain.revert(snapshot)


@pytest.fixture
def holdings(holdings_setup: Holdings, world: World) -> Holdings:
    return holdings_setup


def balance(pp: ProductPassports, account: str) -> int:
    return int(pp.contract.functions.balanceOf(account).call())


def assert_followed(pp: ProductPassports, orgs: Orgs, h: Holdings, old: str, new: str) -> None:
    """Everything the producer had is the new wallet's, and nothing is the old one's."""
    assert (pp.roles_of(new), pp.roles_of(old)) == (Role.PRODUCER, Role(0))
    assert pp.current_wallet_of(old) == new
    every = [*h.kept, h.sold_title, h.handed]
    assert {pp.contract.functions.producerOf(i).call() for i in every} == {new}
    assert [pp.passport(i).owner for i in h.kept] == [new] * 3  # type: ignore[union-attr]
    assert pp.passport(h.sold_title).owner == orgs.retailer  # type: ignore[union-attr]
    assert pp.custodian_of(h.sold_title) == new  # it still holds the goods it sold
    assert (pp.passport(h.handed).owner, pp.custodian_of(h.handed)) == (new, orgs.carrier)  # type: ignore[union-attr]
    assert (balance(pp, new), balance(pp, old)) == (4, 0)
    # The prefix it is the brand of, and the licence it granted, follow it.
    assert pp.brand_of(ProductKey.item(GTIN, "ANY")) == Brand(BRAND_PREFIX, new)
    assert pp.is_licensed(BRAND_PREFIX, new)
    assert pp.is_licensed(BRAND_PREFIX, h.licensee.address)
    for id_ in every:
        verdict = pp.verify(pp_key(pp, id_))
        assert (verdict.genuine, verdict.producer, verdict.producer_standing) == (True, new, Standing.VALID)


def pp_key(pp: ProductPassports, id_: int) -> ProductKey:
    """The key of one of this module's items (their serials are known)."""
    for serial in ("KEEP00000", "KEEP00001", "KEEP00002", "TITLE1", "HAND1"):
        key = ProductKey.item(GTIN, serial)
        if pp.passport_id(key) == id_:
            return key
    raise AssertionError(hex(id_))


def test_a_rotated_producer_is_followed_with_everything_it_had(
    chain: Chain, pp: ProductPassports, registry: IdentityRegistry, orgs: Orgs, holdings: Holdings
) -> None:
    new = wallet("producer's new key")
    fund(chain, new.address)
    registry.rotate(new.address, sender=orgs.producer)

    # Moved, not yet followed: still genuine; the standing shown is the old wallet's.
    verdict = pp.verify(ProductKey.item(GTIN, "KEEP00000"))
    assert (verdict.genuine, verdict.producer, verdict.producer_standing) == (True, orgs.producer, Standing.MOVED)
    assert_refused(
        chain,
        lambda: pp.commission([ProductKey.item(GTIN, "NEW1")], sender=orgs.producer),
        "PassportActorNotVerified",
        standing="moved",
    )

    receipt = pp.follow_member(orgs.producer, sender=orgs.customs)  # anyone may call it

    (followed,) = logs(pp, "MemberFollowed", receipt)
    assert (followed["from"], followed["to"]) == (orgs.producer, new.address)
    assert_followed(pp, orgs, holdings, orgs.producer, new.address)

    # The new wallet recalls what the old one made, and commissions under the brand's prefix.
    recall(pp, orgs, holdings.kept[0], by=new)  # type: ignore[arg-type]
    assert states(pp, holdings.kept[0]) == [(State.RECALLED, State.RECALLED)]
    ship(pp, orgs, holdings.kept[1], by=new)
    assert commission_one_as(pp, new, "NEW1")


def commission_one_as(pp: ProductPassports, sender: LocalAccount, serial: str) -> int:
    (id_,) = pp.commission([ProductKey.item(GTIN, serial)], sender=sender)
    return id_


@pytest.mark.parametrize(
    "act",
    ["commission", "recall", "ship", "license", "set roles", "register prefix", "transfer"],
)
def test_the_old_wallet_is_refused_once_followed(
    chain: Chain, pp: ProductPassports, registry: IdentityRegistry, orgs: Orgs, holdings: Holdings, act: str
) -> None:
    new = wallet("producer's new key")
    registry.rotate(new.address, sender=orgs.producer)
    pp.follow_member(orgs.producer, sender=orgs.carrier)
    old = orgs.producer
    calls = {
        "commission": lambda: pp.commission([ProductKey.item(GTIN, "OLD1")], sender=old),
        "recall": lambda: recall(pp, orgs, holdings.kept[0]),
        "ship": lambda: ship(pp, orgs, holdings.kept[0]),
        "license": lambda: pp.set_licence(BRAND_PREFIX, orgs.retailer, sender=old),
        "set roles": lambda: pp.set_roles(old, Role.PRODUCER, sender=orgs.governor),
        "register prefix": lambda: pp.register_prefix("8712345", old, sender=orgs.registrar),
    }
    if act == "transfer":
        # ERC-721 names the owner as it stands: the old wallet owns nothing any more.
        call = pp.contract.functions.transferFrom(old, orgs.retailer, holdings.kept[0])
        assert_refused(chain, lambda: chain.transact(call, old), "PassportWrongOwner", owner=new.address)
    else:
        assert_refused(chain, calls[act], "PassportMemberMoved", account=old, successor=new.address)
    assert states(pp, holdings.kept[0]) == [(State.ACTIVE, State.ACTIVE)]
    assert pp.roles_of(old) == Role(0)


def test_a_producer_recovered_by_the_bureau_is_followed_likewise(
    chain: Chain, pp: ProductPassports, registry: IdentityRegistry, orgs: Orgs, holdings: Holdings, world: World
) -> None:
    new = wallet("producer's recovered key")
    fund(chain, new.address)
    registry.request_recovery(orgs.producer, new.address, sender=world.roles.bureau)
    chain.advance_time(registry.recovery_delay() + 1)
    registry.complete_recovery(orgs.producer, sender=world.roles.bureau)
    assert registry.contract.functions.successorOf(orgs.producer).call() == new.address

    pp.follow_member(orgs.producer, sender=orgs.retailer)

    assert_followed(pp, orgs, holdings, orgs.producer, new.address)
    recall(pp, orgs, holdings.handed, by=new)  # type: ignore[arg-type]
    assert states(pp, holdings.handed) == [(State.RECALLED, State.RECALLED)]
    assert_refused(chain, lambda: recall(pp, orgs, holdings.kept[0]), "PassportMemberMoved", successor=new.address)


def test_custody_held_by_a_moved_organisation_follows_it(
    chain: Chain, pp: ProductPassports, registry: IdentityRegistry, orgs: Orgs, holdings: Holdings
) -> None:
    """The carrier holds the goods; it rotates its key: until it is followed, nobody can
    take an offer from it; once followed, its new wallet records, offers and hands over."""
    new = wallet("carrier's new key")
    fund(chain, new.address)
    registry.rotate(new.address, sender=orgs.carrier)
    offer = pp.custody_offer(holdings.handed, orgs.retailer, deadline=chain.latest_timestamp() + 3600)
    signed = pp.sign_offer(offer, signer=orgs.carrier)
    assert_refused(
        chain, lambda: pp.accept_custody(signed, sender=orgs.retailer), "PassportActorNotVerified", standing="moved"
    )

    pp.follow_member(orgs.carrier, sender=orgs.retailer)

    assert pp.custodian_of(holdings.handed) == new.address
    assert pp.roles_of(new.address) == Role.CARRIER
    pp.record([event(holdings.handed, BizStep.SHIPPING, Disposition.IN_TRANSIT)], sender=new)
    assert_refused(
        chain,
        lambda: pp.record([event(holdings.handed, BizStep.ARRIVING, Disposition.SELLABLE)], sender=orgs.carrier),
        "PassportMemberMoved",
        successor=new.address,
    )
    hand_over(pp, holdings.handed, new, orgs.retailer)
    assert pp.custodian_of(holdings.handed) == orgs.retailer


def test_following_takes_one_hop_per_call(
    chain: Chain, pp: ProductPassports, registry: IdentityRegistry, orgs: Orgs, holdings: Holdings
) -> None:
    second, third = wallet("second key"), wallet("third key")
    fund(chain, second.address)
    registry.rotate(second.address, sender=orgs.producer)
    registry.rotate(third.address, sender=second)

    receipt = pp.follow_member(orgs.producer, sender=orgs.retailer)

    assert (logs(pp, "MemberFollowed", receipt)[0]["to"], pp.current_wallet_of(orgs.producer)) == (
        second.address,
        second.address,
    )
    assert pp.contract.functions.producerOf(holdings.kept[0]).call() == second.address

    pp.follow_member(second.address, sender=orgs.retailer)

    assert pp.current_wallet_of(orgs.producer) == pp.current_wallet_of(second.address) == third.address
    assert_followed(pp, orgs, holdings, orgs.producer, third.address)
    assert pp.roles_of(second.address) == Role(0)


def test_the_client_names_the_new_wallet_as_producer_after_a_follow(
    pp: ProductPassports, registry: IdentityRegistry, orgs: Orgs, holdings: Holdings
) -> None:
    assert pp.producer_of(holdings.kept[0]) == orgs.producer
    new = wallet("producer's new key")
    registry.rotate(new.address, sender=orgs.producer)
    pp.follow_member(orgs.producer, sender=orgs.retailer)

    assert pp.contract.functions.producerOf(holdings.kept[0]).call() == new.address
    assert pp.producer_of(holdings.kept[0]) == new.address


def test_follow_is_refused_when_nothing_moved_or_the_target_is_a_member(
    chain: Chain, pp: ProductPassports, registry: IdentityRegistry, orgs: Orgs, holdings: Holdings
) -> None:
    assert_refused(
        chain, lambda: pp.follow_member(orgs.producer, sender=orgs.retailer), "PassportNotMoved", account=orgs.producer
    )
    assert_refused(
        chain, lambda: pp.follow_member(orgs.stranger, sender=orgs.retailer), "PassportNotMember", account=orgs.stranger
    )

    # A wallet the governor gave roles already (no identity of its own) cannot take another's place.
    taken = wallet("a member already")
    pp.set_roles(taken.address, Role.RETAILER, sender=orgs.governor)
    registry.rotate(taken.address, sender=orgs.producer)

    assert_refused(
        chain,
        lambda: pp.follow_member(orgs.producer, sender=orgs.retailer),
        "PassportMemberExists",
        account=taken.address,
    )
    assert (pp.roles_of(orgs.producer), pp.roles_of(taken.address)) == (Role.PRODUCER, Role.RETAILER)
    assert pp.current_wallet_of(orgs.producer) == orgs.producer
    assert pp.producer_of(holdings.kept[0]) == orgs.producer


def test_following_twice_is_refused(
    chain: Chain, pp: ProductPassports, registry: IdentityRegistry, orgs: Orgs, holdings: Holdings
) -> None:
    new = wallet("producer's new key")
    registry.rotate(new.address, sender=orgs.producer)
    pp.follow_member(orgs.producer, sender=orgs.retailer)

    assert_refused(
        chain,
        lambda: pp.follow_member(orgs.producer, sender=orgs.retailer),
        "PassportMemberMoved",
        account=orgs.producer,
        successor=new.address,
    )
    assert balance(pp, new.address) == 4


def test_an_expired_producer_s_passports_stay_genuine(
    chain: Chain, pp: ProductPassports, registry: IdentityRegistry, orgs: Orgs, holdings: Holdings, world: World
) -> None:
    registry.reverify(
        credential_for(orgs.producer), Level.HIGH, chain.latest_timestamp() + 60, sender=world.roles.bureau
    )
    chain.advance_time(120)
    assert registry.status(orgs.producer).standing is Standing.EXPIRED

    verdict = pp.verify(ProductKey.item(GTIN, "KEEP00000"))

    assert (verdict.genuine, verdict.producer, verdict.producer_standing) == (True, orgs.producer, Standing.EXPIRED)
    assert verdict.to_json()["producer_standing"] == "expired"
    assert verdict.brand == Brand(BRAND_PREFIX, orgs.producer)
    # It acts no more until its verification is renewed; a food-safety authority still recalls its goods.
    assert_refused(
        chain,
        lambda: pp.commission([ProductKey.item(GTIN, "LATE1")], sender=orgs.producer),
        "PassportActorNotVerified",
        standing="expired",
    )
    assert_refused(chain, lambda: recall(pp, orgs, holdings.kept[0]), "PassportActorNotVerified", standing="expired")
    recall(pp, orgs, holdings.kept[0], by=orgs.food_safety)  # type: ignore[arg-type]
    assert pp.verify(ProductKey.item(GTIN, "KEEP00000")).recalled
    assert pp.verify(ProductKey.item(GTIN, "KEEP00000")).genuine


def test_an_approval_does_not_stay_with_a_recovered_organisation_s_lost_key(
    chain: Chain, pp: ProductPassports, registry: IdentityRegistry, orgs: Orgs, holdings: Holdings, world: World
) -> None:
    """The producer lets the carrier (its logistics operator) transfer its passports. The
    carrier's key is lost, and the bureau recovers its identity to a new wallet, which is
    followed. Whoever holds the lost key must not be able to use the approval."""
    chain.transact(pp.contract.functions.setApprovalForAll(orgs.carrier, True), orgs.producer)
    new = wallet("carrier's recovered key")
    registry.request_recovery(orgs.carrier, new.address, sender=world.roles.bureau)
    chain.advance_time(registry.recovery_delay() + 1)
    registry.complete_recovery(orgs.carrier, sender=world.roles.bureau)
    pp.follow_member(orgs.carrier, sender=orgs.retailer)

    steal = pp.contract.functions.transferFrom(orgs.producer, orgs.stranger, holdings.kept[0])
    assert_refused(chain, lambda: chain.transact(steal, orgs.carrier), "PassportNotOwnerNorApproved")
    assert pp.passport(holdings.kept[0]).owner == orgs.producer  # type: ignore[union-attr]
