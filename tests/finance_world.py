"""Set-up for the trade-finance tests: who buys, sells, arbitrates and finances, the dev
dollar minted to them, and helpers that move goods as the chain must see them (shipped,
handed to the buyer, received). Plain helpers and one function that builds the world; the
modules make their own module fixture from it (on top of ``orgs_setup``)."""

from __future__ import annotations

from dataclasses import dataclass

from accounts import World, fund
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import keccak
from passport_world import Orgs, event, hand_over, item_keys, receive, ship

from chainpass.enums import BizStep, Disposition, Sector
from chainpass.finance import Stablecoin, TradeFinance
from chainpass.passport import ProductPassports

#: What each party starts with: 1,000,000 dollars (six decimals).
FUNDS = 10**12
#: The bank's key: fixed, so every module and backend sees the same one.
BANK_KEY = keccak(text="chainpass tests: county bank")
DAY = 24 * 3600


@dataclass(frozen=True)
class Deal:
    """The parties of the trade-finance tests."""

    buyer: ChecksumAddress  # the shop abroad (a verified retailer)
    seller: ChecksumAddress  # the cooperative (a verified producer)
    arbiter: ChecksumAddress  # a verified inspector both accept
    supplier: ChecksumAddress  # the cooperative's own supplier (verified), who takes a split part
    stranger: ChecksumAddress  # no identity
    bank: LocalAccount  # the county bank: a relying party of sector bank
    governor: ChecksumAddress  # the dev dollar's minter


def set_up_deal(world: World, orgs: Orgs) -> Deal:
    """The bank appointed and funded, and the dev dollar minted to the buyer and the bank."""
    bank: LocalAccount = Account.from_key(BANK_KEY)
    fund(world.chain, bank.address)
    world.registry.appoint_relying_party(bank.address, Sector.BANK, sender=world.roles.governor)
    deal = Deal(
        buyer=orgs.retailer,
        seller=orgs.producer,
        arbiter=orgs.inspector,
        supplier=orgs.carrier,
        stranger=orgs.stranger,
        bank=bank,
        governor=world.roles.governor,
    )
    coin = dollar(world)
    for account in (deal.buyer, bank.address):
        coin.mint(account, FUNDS, sender=deal.governor)
    # The bank lets the contract take what it pays sellers (the buyer approves per order, or signs a permit).
    coin.approve(world.deployment.address("TradeFinance"), FUNDS, sender=bank)
    return deal


def dollar(world: World) -> Stablecoin:
    return Stablecoin(world.chain, world.deployment.address("DevStablecoin"))


def finance_client(world: World) -> TradeFinance:
    return TradeFinance.from_deployment(world.chain, world.deployment)


def goods(pp: ProductPassports, orgs: Orgs, count: int, prefix: str) -> list[int]:
    """``count`` items commissioned by the producer (the seller), unique to ``prefix``."""
    return pp.commission(item_keys(count, prefix), sender=orgs.producer)


def deliver(pp: ProductPassports, orgs: Orgs, deal: Deal, *ids: int) -> None:
    """The seller ships ``ids``, hands them to the buyer, and the buyer receives them."""
    ship(pp, orgs, *ids)
    for id_ in ids:
        hand_over(pp, id_, deal.seller, deal.buyer)
    receive(pp, orgs, *ids, by=deal.buyer)


def hold_at_customs(pp: ProductPassports, orgs: Orgs, id_: int) -> None:
    """Shipped, then held by customs (quarantined on the way, still in the seller's custody)."""
    ship(pp, orgs, id_)
    pp.record([event(id_, BizStep.CUSTOMS_HOLDING, Disposition.NON_CONFORMANT)], sender=orgs.customs)
