"""Custody of a passport's goods: signed offers, acceptance, packing, sales and wallets.

Custody (who holds the goods) is not ownership (the ERC-721 title). The holder signs an
EIP-712 ``CustodyOffer`` naming the receiver, the passport's custody nonce and a
deadline; only the receiver submits it, and only then holds the goods. Every test runs
on the embedded EVM and on Anvil (see conftest.py). A refusal is asserted twice where the
client has a check of its own: once through `ProductPassports.accept_custody` (before
anything is sent) and once by sending the raw ``acceptCustody``, so that the contract's
custom error is seen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from accounts import YEAR, World, credential_for, fund, malleated, new_account
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from passport_world import CASE_GTIN, GTIN, ZERO_ADDRESS, Orgs, commission_one, event, shown, states
from solidity import compile_test_contract
from support import assert_refused, logs, refused_by_client
from web3.types import TxReceipt

from chainpass.chain import Chain, Sender
from chainpass.custody import CustodyOffer, SignedOffer
from chainpass.deployment import deploy
from chainpass.enums import BizStep, Disposition, Level, Role, State
from chainpass.errors import ChainIdMismatch, DeploymentError, InvalidInput
from chainpass.passport import ProductPassports, transformation_id
from chainpass.standards.gs1 import ProductKey

HOUR = 60 * 60

# ---------------------------------------------------------------------------- helpers


def deadline(chain: Chain, seconds: int = HOUR) -> int:
    return chain.latest_timestamp() + seconds


def offer(pp: ProductPassports, id_: int, holder: Sender, to: str, *, seconds: int = HOUR) -> SignedOffer:
    """``holder`` (who holds ``id_``'s goods) signs an offer of them to ``to``."""
    typed = pp.custody_offer(id_, to, deadline=deadline(pp.chain, seconds))
    return pp.sign_offer(typed, signer=holder)


def hand_over(pp: ProductPassports, id_: int, holder: Sender, to: str) -> TxReceipt:
    """``holder`` offers ``id_``'s goods to ``to``, which accepts them."""
    return pp.accept_custody(offer(pp, id_, holder, to), sender=to)


def sign_as(chain: Chain, signer: Sender, typed: CustodyOffer) -> SignedOffer:
    """``typed`` signed by ``signer`` whoever it names as holder (a wallet's eth_signTypedData_v4)."""
    if isinstance(signer, LocalAccount):
        return SignedOffer(typed, bytes(Account.sign_typed_data(signer.key, full_message=typed.to_json()).signature))
    return SignedOffer(typed, chain.sign_typed_data(signer, typed.to_json()))


def accept(pp: ProductPassports, signed: SignedOffer, sender: Sender) -> Callable[[], TxReceipt]:
    """``sender`` accepts ``signed`` through the client."""
    return lambda: pp.accept_custody(signed, sender=sender)


def raw_accept(pp: ProductPassports, signed: SignedOffer, sender: Sender) -> Callable[[], TxReceipt]:
    """The raw ``acceptCustody`` call for ``signed``, with no client check in the way."""
    typed = signed.offer
    call = pp.contract.functions.acceptCustody(typed.passport, typed.deadline, signed.signature)
    return lambda: pp.chain.transact(call, sender)


def offer_unchecked(chain: Chain, pp: ProductPassports, id_: int, holder: str, to: str) -> SignedOffer:
    """An offer signed by ``holder`` for what the client will not offer (packed goods)."""
    _, nonce = custody(pp, id_)
    typed = CustodyOffer(chain.chain_id, pp.address, id_, holder, to, nonce, deadline(chain))  # type: ignore[arg-type]
    return sign_as(chain, holder, typed)


def custody(pp: ProductPassports, id_: int) -> tuple[str, int]:
    """The stored custody record of ``id_``: (custodian, nonce)."""
    custodian, nonce = pp.contract.functions.custodyOf(id_).call()
    return custodian, nonce


def owner_of(pp: ProductPassports, id_: int) -> str:
    owner: str = pp.contract.functions.ownerOf(id_).call()
    return owner


@pytest.fixture
def item(pp: ProductPassports, orgs: Orgs) -> int:
    return commission_one(pp, orgs, ProductKey.item(GTIN, "CUST00001"))


# ------------------------------------------------------------------- handovers


def test_a_fresh_passport_is_held_by_its_owner(pp: ProductPassports, orgs: Orgs, item: int) -> None:
    record = pp.passport(item)

    assert record is not None
    assert (record.owner, record.custodian) == (orgs.producer, orgs.producer)
    assert pp.custodian_of(item) == orgs.producer
    assert custody(pp, item) == (ZERO_ADDRESS, 0)


def test_the_goods_move_producer_to_carrier_to_retailer_and_the_title_stays(
    chain: Chain, pp: ProductPassports, orgs: Orgs, item: int
) -> None:
    first = pp.custody_offer(item, orgs.carrier, deadline=deadline(chain))
    to_carrier = pp.accept_custody(pp.sign_offer(first, signer=orgs.producer), sender=orgs.carrier)

    assert (first.holder, first.receiver, first.nonce) == (orgs.producer, orgs.carrier, 0)
    assert (first.chain_id, first.contract, first.passport) == (chain.chain_id, pp.address, item)
    assert to_carrier["from"] == orgs.carrier  # the receiver sends, and pays
    assert logs(pp, "CustodyTransferred", to_carrier) == [{"id": item, "from": orgs.producer, "to": orgs.carrier}]
    assert pp.custodian_of(item) == orgs.carrier
    assert custody(pp, item) == (orgs.carrier, 1)
    assert owner_of(pp, item) == orgs.producer

    second = pp.custody_offer(item, orgs.retailer, deadline=deadline(chain))
    to_retailer = pp.accept_custody(pp.sign_offer(second, signer=orgs.carrier), sender=orgs.retailer)

    assert (second.holder, second.nonce) == (orgs.carrier, 1)
    assert logs(pp, "CustodyTransferred", to_retailer) == [{"id": item, "from": orgs.carrier, "to": orgs.retailer}]
    assert custody(pp, item) == (orgs.retailer, 2)
    record = pp.passport(item)
    assert record is not None
    assert (record.owner, record.custodian, record.state) == (orgs.producer, orgs.retailer, State.ACTIVE)


def test_an_offer_is_good_for_one_handover(chain: Chain, pp: ProductPassports, orgs: Orgs, item: int) -> None:
    signed = offer(pp, item, orgs.producer, orgs.carrier)
    pp.accept_custody(signed, sender=orgs.carrier)

    # The carrier holds the goods now: the same offer again is pointless.
    again = assert_refused(
        chain, lambda: pp.accept_custody(signed, sender=orgs.carrier), "PassportAlreadyCustodian", account=orgs.carrier
    )
    assert again.error_args["id"] == shown(item)
    refused_by_client(
        chain, lambda: pp.custody_offer(item, orgs.carrier, deadline=deadline(chain)), InvalidInput, "already"
    )

    # Back to the producer: it holds the goods again, but its old offer was for nonce 0.
    hand_over(pp, item, orgs.carrier, orgs.producer)
    assert custody(pp, item) == (orgs.producer, 2)
    replayed = assert_refused(chain, lambda: pp.accept_custody(signed, sender=orgs.carrier), "PassportInvalidOffer")
    raw = assert_refused(chain, raw_accept(pp, signed, orgs.carrier), "PassportInvalidOffer")

    current = dataclasses.replace(signed.offer, nonce=2)  # what the contract hashed
    assert (
        replayed.error_args
        == raw.error_args
        == {
            "custodian": orgs.producer,
            "signer": current.signer(signed.signature),
        }
    )
    assert raw.error_args["signer"] != orgs.producer
    assert pp.custodian_of(item) == orgs.producer
    hand_over(pp, item, orgs.producer, orgs.carrier)  # a fresh offer, for nonce 2, goes through
    assert custody(pp, item) == (orgs.carrier, 3)


def test_only_the_receiver_can_accept(chain: Chain, pp: ProductPassports, orgs: Orgs, item: int) -> None:
    signed = offer(pp, item, orgs.producer, orgs.carrier)

    refused_by_client(chain, lambda: pp.accept_custody(signed, sender=orgs.retailer), InvalidInput, "made out to")
    revert = assert_refused(chain, raw_accept(pp, signed, orgs.retailer), "PassportInvalidOffer")

    # The contract hashed an offer to the retailer, which the producer never signed.
    as_if_for_retailer = dataclasses.replace(signed.offer, receiver=orgs.retailer)
    assert revert.error_args == {"custodian": orgs.producer, "signer": as_if_for_retailer.signer(signed.signature)}
    assert revert.error_args["signer"] != orgs.producer
    assert custody(pp, item) == (ZERO_ADDRESS, 0)
    pp.accept_custody(signed, sender=orgs.carrier)  # the refusals used nothing up
    assert pp.custodian_of(item) == orgs.carrier


def test_an_offer_past_its_deadline_is_refused(chain: Chain, pp: ProductPassports, orgs: Orgs, item: int) -> None:
    signed = offer(pp, item, orgs.producer, orgs.carrier, seconds=30)
    chain.advance_time(60)

    via_client = assert_refused(chain, lambda: pp.accept_custody(signed, sender=orgs.carrier), "PassportOfferExpired")
    raw = assert_refused(chain, raw_accept(pp, signed, orgs.carrier), "PassportOfferExpired")

    assert via_client.error_args == raw.error_args == {"deadline": signed.offer.deadline}
    assert chain.latest_timestamp() > signed.offer.deadline
    assert custody(pp, item) == (ZERO_ADDRESS, 0)
    hand_over(pp, item, orgs.producer, orgs.carrier)  # a new offer with a later deadline works
    assert pp.custodian_of(item) == orgs.carrier


def test_cancelled_offers_are_refused(chain: Chain, pp: ProductPassports, orgs: Orgs, item: int) -> None:
    signed = offer(pp, item, orgs.producer, orgs.carrier)

    cancel = pp.cancel_custody_offers(item, sender=orgs.producer)
    revert = assert_refused(chain, lambda: pp.accept_custody(signed, sender=orgs.carrier), "PassportInvalidOffer")

    assert logs(pp, "CustodyOffersCancelled", cancel) == [{"id": item, "custodian": orgs.producer}]
    assert logs(pp, "CustodyTransferred", cancel) == []
    assert custody(pp, item) == (ZERO_ADDRESS, 1)
    assert revert.error_args["custodian"] == orgs.producer
    assert revert.error_args["signer"] != orgs.producer
    assert pp.custodian_of(item) == orgs.producer
    fresh = offer(pp, item, orgs.producer, orgs.carrier)
    assert fresh.offer.nonce == 1
    pp.accept_custody(fresh, sender=orgs.carrier)
    assert custody(pp, item) == (orgs.carrier, 2)


def test_only_the_holder_can_cancel_its_offers(chain: Chain, pp: ProductPassports, orgs: Orgs, item: int) -> None:
    assert_refused(
        chain,
        lambda: pp.cancel_custody_offers(item, sender=orgs.carrier),
        "PassportNotOwnerNorApproved",
        account=orgs.carrier,
        id=shown(item),
    )
    hand_over(pp, item, orgs.producer, orgs.carrier)
    # The owner no longer holds the goods: it cannot void the carrier's offers.
    assert_refused(
        chain,
        lambda: pp.cancel_custody_offers(item, sender=orgs.producer),
        "PassportNotOwnerNorApproved",
        account=orgs.producer,
        id=shown(item),
    )
    signed = offer(pp, item, orgs.carrier, orgs.retailer)

    cancel = pp.cancel_custody_offers(item, sender=orgs.carrier)

    assert logs(pp, "CustodyOffersCancelled", cancel) == [{"id": item, "custodian": orgs.carrier}]
    assert custody(pp, item) == (orgs.carrier, 2)
    assert_refused(chain, lambda: pp.accept_custody(signed, sender=orgs.retailer), "PassportInvalidOffer")


# ------------------------------------------------------------------ signatures


def test_an_offer_signed_by_someone_else_is_refused(chain: Chain, pp: ProductPassports, orgs: Orgs, item: int) -> None:
    typed = pp.custody_offer(item, orgs.carrier, deadline=deadline(chain))
    refused_by_client(chain, lambda: pp.sign_offer(typed, signer=orgs.retailer), InvalidInput, "to sign")
    impostor = new_account()

    forgers: list[tuple[Sender, str]] = [(orgs.retailer, orgs.retailer), (impostor, impostor.address)]
    for forger, signer in forgers:  # a dev account (signing where its key lives) and a local key
        forged = sign_as(chain, forger, typed)
        revert = assert_refused(chain, accept(pp, forged, orgs.carrier), "PassportInvalidOffer")
        assert revert.error_args == {"custodian": orgs.producer, "signer": signer}

    assert custody(pp, item) == (ZERO_ADDRESS, 0)


def test_a_malleated_signature_is_refused(chain: Chain, pp: ProductPassports, orgs: Orgs, item: int) -> None:
    signed = offer(pp, item, orgs.producer, orgs.carrier)
    copy = SignedOffer(signed.offer, malleated(signed.signature))

    via_client = assert_refused(
        chain, lambda: pp.accept_custody(copy, sender=orgs.carrier), "PassportMalleableSignature"
    )
    raw = assert_refused(chain, raw_accept(pp, copy, orgs.carrier), "PassportMalleableSignature")

    # The copy is a valid ECDSA signature by the holder: only the low-s rule stops it.
    assert copy.signature != signed.signature
    assert signed.offer.signer(copy.signature) == signed.offer.signer(signed.signature) == orgs.producer
    assert via_client.error_args == raw.error_args == {"s": "0x" + copy.signature[32:64].hex()}
    assert custody(pp, item) == (ZERO_ADDRESS, 0)
    pp.accept_custody(signed, sender=orgs.carrier)  # the genuine signature is still good
    assert custody(pp, item) == (orgs.carrier, 1)


def test_an_offer_for_another_chain_is_refused(chain: Chain, pp: ProductPassports, orgs: Orgs, item: int) -> None:
    honest = pp.custody_offer(item, orgs.carrier, deadline=deadline(chain))
    elsewhere = dataclasses.replace(honest, chain_id=chain.chain_id + 1)
    signed = sign_as(chain, orgs.producer, elsewhere)

    refused_by_client(
        chain, lambda: pp.accept_custody(signed, sender=orgs.carrier), ChainIdMismatch, f"chain {chain.chain_id + 1}"
    )
    revert = assert_refused(chain, raw_accept(pp, signed, orgs.carrier), "PassportInvalidOffer")

    # Signed by the producer, but the contract hashed the offer in its own domain.
    assert elsewhere.signer(signed.signature) == orgs.producer
    assert revert.error_args == {"custodian": orgs.producer, "signer": honest.signer(signed.signature)}
    assert revert.error_args["signer"] != orgs.producer
    assert custody(pp, item) == (ZERO_ADDRESS, 0)


def test_an_offer_for_another_deployment_is_refused(chain: Chain, pp: ProductPassports, orgs: Orgs, item: int) -> None:
    other_deployment, _ = deploy(chain, orgs.governor)
    other = ProductPassports.from_deployment(chain, other_deployment)
    honest = pp.custody_offer(item, orgs.carrier, deadline=deadline(chain))
    signed = pp.sign_offer(dataclasses.replace(honest, contract=other.address), signer=orgs.producer)

    refused_by_client(
        chain, lambda: pp.accept_custody(signed, sender=orgs.carrier), InvalidInput, f"passports at {other.address}"
    )
    revert = assert_refused(chain, raw_accept(pp, signed, orgs.carrier), "PassportInvalidOffer")

    assert other.address != pp.address
    assert revert.error_args == {"custodian": orgs.producer, "signer": honest.signer(signed.signature)}
    assert revert.error_args["signer"] != orgs.producer
    assert custody(pp, item) == (ZERO_ADDRESS, 0)


def test_the_passports_state_their_signing_domain_and_offers_are_signed_in_it(
    chain: Chain, pp: ProductPassports
) -> None:
    """ERC-5267: the client reads the offers' EIP-712 domain from the contract (behind its
    proxy: the proxy's address, not the implementation's), and refuses a contract that
    signs in a domain it does not know."""
    fields, name, version, chain_id, contract, salt, extensions = pp.contract.functions.eip712Domain().call()

    assert (fields, name, version) == (b"\x0f", "chainpass ProductPassport", "1")  # name, version, chain, contract
    assert (chain_id, contract, salt, extensions) == (chain.chain_id, pp.address, bytes(32), [])
    assert pp.signing_domain == (chain.chain_id, pp.address)

    class Stranger(ProductPassports):
        DOMAIN_NAME = "someone else's passports"

    with pytest.raises(DeploymentError, match=r"signs in EIP-712 domain 'chainpass ProductPassport' version '1'"):
        _ = Stranger(chain, pp.address).signing_domain


# -------------------------------------------------------------- who may act


def test_the_receiver_needs_a_role_and_an_identity_in_force(
    chain: Chain, world: World, pp: ProductPassports, orgs: Orgs, item: int
) -> None:
    registry, bureau = world.registry, world.roles.bureau
    # No role (and no identity).
    to_stranger = offer(pp, item, orgs.producer, orgs.stranger)
    assert_refused(
        chain,
        lambda: pp.accept_custody(to_stranger, sender=orgs.stranger),
        "PassportMissingRole",
        account=orgs.stranger,
        role="any role",
    )
    # A role, but never verified.
    pp.set_roles(orgs.governor, Role.CARRIER, sender=orgs.governor)
    to_governor = offer(pp, item, orgs.producer, orgs.governor)
    assert_refused(
        chain,
        lambda: pp.accept_custody(to_governor, sender=orgs.governor),
        "PassportActorNotVerified",
        account=orgs.governor,
        standing="never_verified",
    )
    # A carrier whose identity is suspended.
    to_carrier = offer(pp, item, orgs.producer, orgs.carrier)
    registry.suspend(orgs.carrier, "under_review", sender=bureau)
    assert_refused(
        chain,
        lambda: pp.accept_custody(to_carrier, sender=orgs.carrier),
        "PassportActorNotVerified",
        account=orgs.carrier,
        standing="suspended",
    )
    assert custody(pp, item) == (ZERO_ADDRESS, 0)

    registry.reinstate(orgs.carrier, sender=bureau)
    pp.accept_custody(to_carrier, sender=orgs.carrier)  # the same offer, once reinstated
    assert custody(pp, item) == (orgs.carrier, 1)


def test_a_suspended_holder_cannot_hand_over(
    chain: Chain, world: World, pp: ProductPassports, orgs: Orgs, item: int
) -> None:
    hand_over(pp, item, orgs.producer, orgs.carrier)
    signed = offer(pp, item, orgs.carrier, orgs.retailer)
    world.registry.suspend(orgs.carrier, "suspected_fraud", sender=world.roles.bureau)

    assert_refused(
        chain,
        lambda: pp.accept_custody(signed, sender=orgs.retailer),
        "PassportActorNotVerified",
        account=orgs.carrier,
        standing="suspended",
    )
    assert custody(pp, item) == (orgs.carrier, 1)


# ------------------------------------------------------------------ packed goods


def test_packed_goods_are_held_by_whoever_holds_the_outermost_container(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    item, case, pallet = pp.commission(
        [
            ProductKey.item(GTIN, "CUST00001"),
            ProductKey.container(CASE_GTIN, "CASE1", 1),
            ProductKey.container(CASE_GTIN, "PAL1", 2),
        ],
        sender=orgs.producer,
    )
    early = offer(pp, item, orgs.producer, orgs.carrier)  # signed before packing
    pp.pack(case, [item], sender=orgs.producer)
    pp.pack(pallet, [case], sender=orgs.producer)

    refused_by_client(
        chain,
        lambda: pp.custody_offer(item, orgs.carrier, deadline=deadline(chain)),
        InvalidInput,
        "hand over the container",
    )
    assert_refused(
        chain,
        lambda: pp.accept_custody(early, sender=orgs.carrier),
        "PassportInContainer",
        id=shown(item),
        container=shown(case),
    )
    assert_refused(
        chain,
        raw_accept(pp, offer_unchecked(chain, pp, case, orgs.producer, orgs.carrier), orgs.carrier),
        "PassportInContainer",
        id=shown(case),
        container=shown(pallet),
    )

    receipt = hand_over(pp, pallet, orgs.producer, orgs.carrier)

    assert logs(pp, "CustodyTransferred", receipt) == [{"id": pallet, "from": orgs.producer, "to": orgs.carrier}]
    assert [pp.custodian_of(i) for i in (item, case, pallet)] == [orgs.carrier] * 3
    record = pp.passport(item)
    assert record is not None and (record.owner, record.custodian) == (orgs.producer, orgs.carrier)
    # No record is written for what is inside: it follows the pallet.
    assert custody(pp, item) == custody(pp, case) == (ZERO_ADDRESS, 0)
    hand_over(pp, pallet, orgs.carrier, orgs.retailer)
    assert [pp.custodian_of(i) for i in (item, case, pallet)] == [orgs.retailer] * 3


def test_unpacked_goods_are_held_by_the_containers_holder(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    first, second, case = pp.commission(
        [
            ProductKey.item(GTIN, "CUST00001"),
            ProductKey.item(GTIN, "CUST00002"),
            ProductKey.container(CASE_GTIN, "CASE1", 1),
        ],
        sender=orgs.producer,
    )
    stale = offer(pp, first, orgs.producer, orgs.retailer)  # the producer's offer, before packing
    pp.pack(case, [first, second], sender=orgs.producer)
    hand_over(pp, case, orgs.producer, orgs.carrier)

    # Only the container's holder unpacks it: not the owner of the goods, nor a retailer.
    for outsider in (orgs.producer, orgs.retailer):
        assert_refused(
            chain,
            lambda outsider=outsider: pp.unpack([second], sender=outsider),  # type: ignore[misc]
            "PassportNotHolder",
            id=shown(case),
            holder=orgs.carrier,
            account=outsider,
        )
    by_holder = pp.unpack([first], sender=orgs.carrier)
    again = pp.unpack([second], sender=orgs.carrier)

    assert logs(pp, "CustodyTransferred", by_holder) == [{"id": first, "from": orgs.producer, "to": orgs.carrier}]
    assert logs(pp, "CustodyTransferred", again) == [{"id": second, "from": orgs.producer, "to": orgs.carrier}]
    assert logs(pp, "PassportUnpacked", by_holder) == [
        {"id": first, "container": case, "actor": orgs.carrier, "eventId": bytes(32)}
    ]
    assert custody(pp, first) == custody(pp, second) == (orgs.carrier, 1)
    assert pp.custodian_of(first) == pp.custodian_of(second) == orgs.carrier
    assert owner_of(pp, first) == orgs.producer
    # The producer's offer from before no longer works: the carrier holds the goods, at nonce 1.
    revert = assert_refused(chain, lambda: pp.accept_custody(stale, sender=orgs.retailer), "PassportInvalidOffer")
    assert revert.error_args["custodian"] == orgs.carrier
    assert revert.error_args["signer"] != orgs.producer
    hand_over(pp, first, orgs.carrier, orgs.retailer)
    assert custody(pp, first) == (orgs.retailer, 2)


def test_unpacking_by_the_holder_itself_changes_no_custody(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    item, case = pp.commission(
        [ProductKey.item(GTIN, "CUST00001"), ProductKey.container(CASE_GTIN, "CASE1", 1)], sender=orgs.producer
    )
    signed = offer(pp, item, orgs.producer, orgs.carrier)
    pp.pack(case, [item], sender=orgs.producer)

    receipt = pp.unpack([item], sender=orgs.producer)

    assert logs(pp, "CustodyTransferred", receipt) == []
    assert custody(pp, item) == (ZERO_ADDRESS, 0)
    pp.accept_custody(signed, sender=orgs.carrier)  # the holder never changed: its offer still stands
    assert pp.custodian_of(item) == orgs.carrier


@pytest.mark.parametrize("move", ["take", "push"])
def test_packing_does_not_move_goods_between_holders(chain: Chain, pp: ProductPassports, orgs: Orgs, move: str) -> None:
    """Custody moves only by an accepted offer: a carrier can neither take a retailer's goods
    by packing them into a case it holds (custodian_of would follow the case, and unpacking
    would then record the carrier as the holder), nor push goods it holds onto a retailer
    by packing them into the retailer's case (only the case's holder packs into it)."""
    item, case = pp.commission(
        [ProductKey.item(GTIN, "CUST00001"), ProductKey.container(CASE_GTIN, "CASE1", 1)], sender=orgs.producer
    )
    item_holder, case_holder = (orgs.retailer, orgs.carrier) if move == "take" else (orgs.carrier, orgs.retailer)
    hand_over(pp, item, orgs.producer, item_holder)
    hand_over(pp, case, orgs.producer, case_holder)

    if move == "take":
        assert_refused(
            chain,
            lambda: pp.pack(case, [item], sender=orgs.carrier),
            "PassportHeldElsewhere",
            id=shown(item),
            holder=orgs.retailer,
            container=shown(case),
            containerHolder=orgs.carrier,
        )
    else:
        assert_refused(
            chain,
            lambda: pp.pack(case, [item], sender=orgs.carrier),
            "PassportNotHolder",
            id=shown(case),
            holder=orgs.retailer,
            account=orgs.carrier,
        )

    assert pp.custodian_of(item) == item_holder
    assert custody(pp, item) == (item_holder, 1)
    assert pp.passport(item).container is None  # type: ignore[union-attr]
    # Handed over first, the goods can be packed by the case's holder, and follow the case
    # (a retailer packs once it has the carrier's role too: its own delivery vans).
    hand_over(pp, item, item_holder, case_holder)
    if move == "push":
        pp.set_roles(orgs.retailer, Role.RETAILER | Role.CARRIER, sender=orgs.governor)
    pp.pack(case, [item], sender=case_holder)
    assert pp.custodian_of(item) == case_holder
    assert pp.passport(item).container == case  # type: ignore[union-attr]


# ------------------------------------------------------------- title and state


def test_a_sale_moves_the_title_not_the_goods(chain: Chain, pp: ProductPassports, orgs: Orgs, item: int) -> None:
    sale = pp.transfer(item, orgs.retailer, sender=orgs.producer)

    assert logs(pp, "Transfer", sale) == [{"from": orgs.producer, "to": orgs.retailer, "tokenId": item}]
    assert logs(pp, "CustodyTransferred", sale) == []
    assert owner_of(pp, item) == orgs.retailer
    assert custody(pp, item) == (orgs.producer, 0)  # written down: the seller still holds the goods
    assert pp.custodian_of(item) == orgs.producer

    # The new owner cannot take the goods with an offer it signed itself.
    typed = pp.custody_offer(item, orgs.retailer, deadline=deadline(chain))
    assert typed.holder == orgs.producer
    refused_by_client(chain, lambda: pp.sign_offer(typed, signer=orgs.retailer), InvalidInput, "to sign")
    own = sign_as(chain, orgs.retailer, typed)
    revert = assert_refused(chain, lambda: pp.accept_custody(own, sender=orgs.retailer), "PassportInvalidOffer")
    assert revert.error_args == {"custodian": orgs.producer, "signer": orgs.retailer}
    # Nor cancel the seller's offers.
    assert_refused(chain, lambda: pp.cancel_custody_offers(item, sender=orgs.retailer), "PassportNotOwnerNorApproved")

    receipt = pp.accept_custody(pp.sign_offer(typed, signer=orgs.producer), sender=orgs.retailer)

    assert logs(pp, "CustodyTransferred", receipt) == [{"id": item, "from": orgs.producer, "to": orgs.retailer}]
    assert custody(pp, item) == (orgs.retailer, 1)
    assert (owner_of(pp, item), pp.custodian_of(item)) == (orgs.retailer, orgs.retailer)


def test_a_sale_leaves_the_goods_with_the_carrier_that_holds_them(pp: ProductPassports, orgs: Orgs, item: int) -> None:
    hand_over(pp, item, orgs.producer, orgs.carrier)

    pp.transfer(item, orgs.retailer, sender=orgs.producer)

    assert owner_of(pp, item) == orgs.retailer
    assert custody(pp, item) == (orgs.carrier, 1)
    assert pp.custodian_of(item) == orgs.carrier


def test_a_sale_of_packed_goods_leaves_them_in_their_container(pp: ProductPassports, orgs: Orgs) -> None:
    item, case = pp.commission(
        [ProductKey.item(GTIN, "CUST00001"), ProductKey.container(CASE_GTIN, "CASE1", 1)], sender=orgs.producer
    )
    pp.pack(case, [item], sender=orgs.producer)
    hand_over(pp, case, orgs.producer, orgs.carrier)

    pp.transfer(item, orgs.retailer, sender=orgs.producer)
    assert (owner_of(pp, item), pp.custodian_of(item)) == (orgs.retailer, orgs.carrier)
    pp.unpack([item], sender=orgs.carrier)

    # Out of the case, the goods are the carrier's to hand over, not the new owner's.
    assert custody(pp, item) == (orgs.carrier, 1)
    assert (owner_of(pp, item), pp.custodian_of(item)) == (orgs.retailer, orgs.carrier)


@pytest.mark.parametrize("end", ["decommissioned", "consumed"])
def test_goods_that_are_gone_cannot_change_hands(
    chain: Chain, pp: ProductPassports, orgs: Orgs, item: int, end: str
) -> None:
    signed = offer(pp, item, orgs.producer, orgs.carrier)
    if end == "decommissioned":
        pp.record([event(item, BizStep.DECOMMISSIONING, Disposition.INACTIVE)], sender=orgs.producer)
    else:
        pp.transform(
            transformation_id("roast-2026-001"), [item], [ProductKey.lot(GTIN, "ROAST1")], sender=orgs.producer
        )

    assert_refused(
        chain, lambda: pp.accept_custody(signed, sender=orgs.carrier), "PassportInactive", id=shown(item), state=end
    )
    assert custody(pp, item) == (ZERO_ADDRESS, 0)
    assert pp.custodian_of(item) == orgs.producer


# ------------------------------------------- key changes, revoked holders, repairs


def test_custody_follows_a_custodian_that_rotated_its_key(
    chain: Chain, world: World, pp: ProductPassports, orgs: Orgs, item: int
) -> None:
    """The carrier holds the goods and moves its identity to a new wallet: until it is
    followed its goods cannot change hands (its old wallet stands for nothing in the
    registry); once followed, the new wallet holds them, records steps and signs offers,
    and the old wallet is refused."""
    hand_over(pp, item, orgs.producer, orgs.carrier)
    new = new_account()
    fund(chain, new.address)
    before_rotation = offer(pp, item, orgs.carrier, orgs.retailer)  # signed by the old wallet
    world.registry.rotate(new.address, sender=orgs.carrier)

    assert_refused(
        chain,
        lambda: pp.accept_custody(before_rotation, sender=orgs.retailer),
        "PassportActorNotVerified",
        account=orgs.carrier,
        standing="moved",
    )
    followed = pp.follow_member(orgs.carrier, sender=orgs.stranger)  # anyone may follow it

    assert [(e["from"], e["to"]) for e in logs(pp, "MemberFollowed", followed)] == [(orgs.carrier, new.address)]
    assert logs(pp, "CustodyTransferred", followed) == []  # nothing is written per passport
    assert custody(pp, item) == (orgs.carrier, 1)  # as stored; it stands for the new wallet
    assert pp.custodian_of(item) == pp.current_wallet_of(orgs.carrier) == new.address
    assert pp.roles_of(new.address) == Role.CARRIER and pp.roles_of(orgs.carrier) == Role(0)
    assert owner_of(pp, item) == orgs.producer
    # The old wallet's offer names the old holder: refused, as is anything the old wallet does.
    stale = assert_refused(
        chain, lambda: pp.accept_custody(before_rotation, sender=orgs.retailer), "PassportInvalidOffer"
    )
    assert stale.error_args["custodian"] == new.address
    shipping = event(item, BizStep.SHIPPING, Disposition.IN_TRANSIT)
    assert_refused(
        chain,
        lambda: pp.record([shipping], sender=orgs.carrier),
        "PassportMemberMoved",
        account=orgs.carrier,
        successor=new.address,
    )
    typed = pp.custody_offer(item, orgs.retailer, deadline=deadline(chain))
    assert typed.holder == new.address
    forged = sign_as(chain, orgs.carrier, typed)
    assert_refused(chain, accept(pp, forged, orgs.retailer), "PassportInvalidOffer", signer=orgs.carrier)

    shipped = pp.record([shipping], sender=new)
    handed = pp.accept_custody(sign_as(chain, new, typed), sender=orgs.retailer)

    assert [e["actor"] for e in logs(pp, "PassportEventRecorded", shipped)] == [new.address]
    assert states(pp, item) == [(State.IN_TRANSIT, State.IN_TRANSIT)]
    assert logs(pp, "CustodyTransferred", handed) == [{"id": item, "from": new.address, "to": orgs.retailer}]
    assert custody(pp, item) == (orgs.retailer, 2)


def test_the_owner_reclaims_goods_from_a_revoked_custodian(
    chain: Chain, world: World, pp: ProductPassports, orgs: Orgs, item: int
) -> None:
    registry, bureau = world.registry, world.roles.bureau
    hand_over(pp, item, orgs.producer, orgs.carrier)
    in_force = {"id": shown(item), "custodian": orgs.carrier}
    reclaim = lambda: pp.reclaim_custody(item, sender=orgs.producer)  # noqa: E731

    # While the carrier stands (even suspended: that is not the end), the goods stay with it.
    assert_refused(chain, reclaim, "PassportCustodianInForce", **in_force)
    registry.suspend(orgs.carrier, "under_review", sender=bureau)
    assert_refused(chain, reclaim, "PassportCustodianInForce", **in_force)
    registry.revoke(orgs.carrier, sender=bureau)
    # Only the owner reclaims.
    assert_refused(
        chain,
        lambda: pp.reclaim_custody(item, sender=orgs.retailer),
        "PassportNotOwnerNorApproved",
        account=orgs.retailer,
        id=shown(item),
    )
    assert custody(pp, item) == (orgs.carrier, 1)

    receipt = reclaim()

    assert logs(pp, "CustodyReassigned", receipt) == [{"id": item, "by": orgs.producer, "reason": bytes(32)}]
    assert logs(pp, "CustodyTransferred", receipt) == [{"id": item, "from": orgs.carrier, "to": orgs.producer}]
    assert custody(pp, item) == (orgs.producer, 2)
    assert pp.custodian_of(item) == orgs.producer
    # Nothing froze: the owner hands the goods on, and ships them itself.
    hand_over(pp, item, orgs.producer, orgs.retailer)
    assert custody(pp, item) == (orgs.retailer, 3)
    trace = [(e.event, e.actor) for e in pp.trace(item) if e.event.startswith("Custody")]
    assert trace[-3:] == [
        ("CustodyReassigned", orgs.producer),
        ("CustodyTransferred", orgs.producer),
        ("CustodyTransferred", orgs.retailer),
    ]


def test_the_governor_repairs_custody_and_says_why(chain: Chain, pp: ProductPassports, orgs: Orgs, item: int) -> None:
    hand_over(pp, item, orgs.producer, orgs.carrier)
    pending = offer(pp, item, orgs.carrier, orgs.customs)  # an offer the carrier signed before
    reason = "Decision 2026-17: the carrier's signing key was destroyed; goods at the retailer's depot."

    for outsider in (orgs.producer, orgs.carrier, orgs.retailer):
        assert_refused(
            chain,
            lambda outsider=outsider: pp.repair_custody(item, orgs.retailer, reason=reason, sender=outsider),  # type: ignore[misc]
            "PassportNotGovernor",
            account=outsider,
        )
    refused_by_client(
        chain, lambda: pp.repair_custody(item, orgs.retailer, reason="  ", sender=orgs.governor), InvalidInput, "reason"
    )
    assert_refused(
        chain,
        lambda: pp.repair_custody(item, orgs.carrier, reason=reason, sender=orgs.governor),
        "PassportAlreadyCustodian",
        account=orgs.carrier,
    )
    assert custody(pp, item) == (orgs.carrier, 1)

    receipt = pp.repair_custody(item, orgs.retailer, reason=reason, sender=orgs.governor)

    assert logs(pp, "CustodyReassigned", receipt) == [{"id": item, "by": orgs.governor, "reason": keccak(text=reason)}]
    assert logs(pp, "CustodyTransferred", receipt) == [{"id": item, "from": orgs.carrier, "to": orgs.retailer}]
    assert custody(pp, item) == (orgs.retailer, 2)
    assert pp.custodian_of(item) == orgs.retailer
    assert owner_of(pp, item) == orgs.producer  # the title does not move
    # The carrier's earlier offer is void: the custody nonce moved on.
    revert = assert_refused(chain, lambda: pp.accept_custody(pending, sender=orgs.customs), "PassportInvalidOffer")
    assert revert.error_args["custodian"] == orgs.retailer


def test_the_trace_names_who_repaired_custody(pp: ProductPassports, orgs: Orgs, item: int) -> None:
    hand_over(pp, item, orgs.producer, orgs.carrier)
    reason = "Decision 2026-18: the carrier's wallet was lost."
    pp.repair_custody(item, orgs.retailer, reason=reason, sender=orgs.governor)

    (repair,) = [e for e in pp.trace(item) if e.event == "CustodyReassigned"]

    assert (repair.actor, repair.details) == (orgs.governor, {"reason": "0x" + keccak(text=reason).hex()})


def test_a_transfer_to_an_organisations_old_wallet_is_refused_naming_the_new_one(
    chain: Chain, world: World, pp: ProductPassports, orgs: Orgs, item: int
) -> None:
    """Title given to a wallet an organisation was followed away from would land where nobody
    acts any more (and its balance with it): the transfer is refused, naming the new wallet;
    sent to the new wallet, ownerOf and balanceOf agree."""
    new = new_account()
    fund(chain, new.address)
    world.registry.rotate(new.address, sender=orgs.carrier)
    pp.follow_member(orgs.carrier, sender=orgs.stranger)
    balance = pp.contract.functions.balanceOf

    assert_refused(
        chain,
        lambda: pp.transfer(item, orgs.carrier, sender=orgs.producer),
        "PassportMemberMoved",
        account=orgs.carrier,
        successor=new.address,
    )
    pp.transfer(item, new.address, sender=orgs.producer)
    assert owner_of(pp, item) == new.address
    counted = (balance(orgs.carrier).call(), balance(new.address).call())
    pp.transfer(item, orgs.retailer, sender=new)

    assert counted == (0, 1)
    assert (balance(orgs.carrier).call(), balance(new.address).call(), balance(orgs.retailer).call()) == (0, 0, 1)


# ------------------------------------------------------------- contract wallets


#: A TestWallet (ERC-1271: it accepts signatures by its owner's key) that can also make calls
#: for its owner, so that it can accept custody itself. Test-only, compiled here.
def wallet_holding(chain: Chain, world: World, pp: ProductPassports, orgs: Orgs, item: int) -> tuple[str, LocalAccount]:
    """A CallingWallet, verified and a carrier, that took ``item``'s goods from the producer;
    and its owner's key (funded, to have the wallet make calls)."""
    key = new_account()
    fund(chain, key.address)
    receipt = chain.deploy(compile_test_contract("CallingWallet"), [key.address], orgs.governor)
    assert receipt["contractAddress"] is not None
    wallet = chain.contract(compile_test_contract("CallingWallet"), receipt["contractAddress"])
    address: str = wallet.address
    world.registry.verify(credential_for(address), Level.HIGH, deadline(chain, YEAR), sender=world.roles.bureau)
    pp.set_roles(address, Role.CARRIER, sender=orgs.governor)
    to_wallet = offer(pp, item, orgs.producer, address)
    data = pp.contract.encode_abi("acceptCustody", args=[item, to_wallet.offer.deadline, to_wallet.signature])
    taken = chain.transact(wallet.functions.execute(pp.address, data), key)  # the wallet sends acceptCustody
    assert logs(pp, "CustodyTransferred", taken) == [{"id": item, "from": orgs.producer, "to": address}]
    assert taken["to"] == address and wallet.functions.owner().call() == key.address
    return address, key


def test_a_contract_wallet_hands_over_goods_by_its_owners_signature(
    chain: Chain, world: World, pp: ProductPassports, orgs: Orgs, item: int
) -> None:
    address, key = wallet_holding(chain, world, pp, orgs, item)
    assert (pp.custodian_of(item), custody(pp, item)) == (address, (address, 1))
    typed = pp.custody_offer(item, orgs.retailer, deadline=deadline(chain))
    refused_by_client(chain, lambda: pp.sign_offer(typed, signer=key), InvalidInput, "to sign")
    forger = new_account()
    forged = sign_as(chain, forger, typed)
    revert = assert_refused(chain, lambda: pp.accept_custody(forged, sender=orgs.retailer), "PassportInvalidOffer")
    assert revert.error_args == {"custodian": address, "signer": forger.address}

    signed = sign_as(chain, key, typed)  # the owner's key signs the offer that names the wallet
    handed = pp.accept_custody(signed, sender=orgs.retailer)

    assert typed.holder == address
    assert typed.signer(signed.signature) == key.address != address  # only ERC-1271 makes it the wallet's
    assert logs(pp, "CustodyTransferred", handed) == [{"id": item, "from": address, "to": orgs.retailer}]
    assert custody(pp, item) == (orgs.retailer, 2)


def test_a_contract_wallet_needs_an_identity_in_force_to_hand_over(
    chain: Chain, world: World, pp: ProductPassports, orgs: Orgs, item: int
) -> None:
    address, key = wallet_holding(chain, world, pp, orgs, item)
    signed = sign_as(chain, key, pp.custody_offer(item, orgs.retailer, deadline=deadline(chain)))
    world.registry.suspend(address, "lost_document", sender=world.roles.bureau)

    assert_refused(
        chain,
        lambda: pp.accept_custody(signed, sender=orgs.retailer),
        "PassportActorNotVerified",
        account=address,
        standing="suspended",
    )
    assert custody(pp, item) == (address, 1)


# ------------------------------------------------------------------------ trace


def test_the_trace_shows_every_handover(pp: ProductPassports, orgs: Orgs, item: int) -> None:
    hand_over(pp, item, orgs.producer, orgs.carrier)
    pp.cancel_custody_offers(item, sender=orgs.carrier)
    hand_over(pp, item, orgs.carrier, orgs.retailer)

    trace = pp.trace(item)
    custody_entries = [e for e in trace if e.event.startswith("Custody")]

    assert [(e.event, e.actor, e.details) for e in custody_entries] == [
        ("CustodyTransferred", orgs.carrier, {"from": orgs.producer}),
        ("CustodyOffersCancelled", orgs.carrier, {}),
        ("CustodyTransferred", orgs.retailer, {"from": orgs.carrier}),
    ]
    assert all(e.passport == item for e in custody_entries)
    assert trace[0].event == "PassportCommissioned"
    assert custody_entries[-1].to_json()["from"] == orgs.carrier
