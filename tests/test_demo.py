"""The demo plays the whole story, and leaves no personal data on chain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from chainpass.chain import Chain
from chainpass.demo import RESIDENT, DemoResult, run_demo
from chainpass.demo.finance import BAG_PRICE
from chainpass.demo.passports import RICE_GTIN, RICE_PREFIX
from chainpass.enums import LineState, Role, Standing
from chainpass.finance import TradeFinance
from chainpass.identity import IdentityRegistry
from chainpass.passport import ProductPassports
from chainpass.standards.gs1 import ProductKey


@pytest.fixture(scope="module")
def demo_run(backend_chain: Chain) -> tuple[Chain, DemoResult, list[str], int]:
    chain = backend_chain
    first_block = chain.w3.eth.block_number + 1
    lines: list[str] = []
    result = run_demo(chain, say=lines.append)
    return chain, result, lines, first_block


def test_demo_tells_the_story(demo_run: tuple[Chain, DemoResult, list[str], int]) -> None:
    chain, result, lines, _ = demo_run
    registry = IdentityRegistry.from_deployment(chain, result.deployment)
    cast = result.cast
    old, new = cast.resident.address, cast.new_phone.address

    checks = registry.checks_of(new)

    # The old wallet's history comes along up to the recovery; the check of the lost wallet after it stays there.
    assert [(e.holder, e.actor, e.details["standing"]) for e in checks] == [
        (old, cast.bank, "no_consent"),
        (old, cast.bank, "valid"),
        (old, cast.hospital, "valid"),
        (old, cast.courier, "valid"),
        (old, cast.hotel, "valid"),
        (old, cast.bank, "suspended"),
        (old, cast.bank, "valid"),
        (new, cast.bank, "no_consent"),
        (new, cast.bank, "valid"),
    ]
    assert [e.details["standing"] for e in registry.checks_of(old)][-1] == "moved"
    assert registry.status(old).standing is Standing.MOVED
    assert registry.status(new).standing is Standing.VALID
    assert registry.status(new).commitment == result.credential.commitment
    assert chain.w3.eth.get_balance(old) == chain.w3.eth.get_balance(new) == 0  # she never paid gas
    assert result.hotel_disclosure.values() == {"name": RESIDENT["name"], "age_over_18": "true"}
    assert any("suspended" in line and "bank" in line for line in lines)
    assert any(line.startswith("Done: one verification, 9 checks by 4 parties") for line in lines)


def test_demo_part_two_flags_exactly_the_recalled_lot(demo_run: tuple[Chain, DemoResult, list[str], int]) -> None:
    _, result, lines, _ = demo_run

    # Paddy lot P2 went into milled lot M1 (with P1), and M1 into three bags: exactly those are flagged,
    # including the one sold before the recall; the bags of M2 (from P3) are not.
    assert result.recalled_codes == tuple(f"(01)09506000134352(21)LK2026-M1-00{n}" for n in (1, 2, 3))
    assert any("P2 fails and is quarantined, then passes a re-inspection: active" in line for line in lines)
    assert any("the carrier accepts it" in line for line in lines)
    assert any("a bag stands in_transit" in line for line in lines)
    assert any("the bags are now held by the shop" in line for line in lines)
    assert any("state sold: the clone shows up" in line for line in lines)


def test_demo_part_two_the_brand_owns_its_codes(demo_run: tuple[Chain, DemoResult, list[str], int]) -> None:
    chain, result, lines, _ = demo_run
    passports = ProductPassports.from_deployment(chain, result.deployment)
    bag = passports.verify(ProductKey.item(RICE_GTIN, "LK2026-M1-001"))
    squatted = ProductKey.item(RICE_GTIN, "LK2026-M2-004")
    text = "\n".join(lines)

    # The registrar registered the cooperative's prefix before it commissioned: the brand of
    # its codes is the cooperative, which made them.
    assert bag.brand is not None and bag.brand.prefix == RICE_PREFIX == "9506000"
    assert bag.brand.licensee == bag.producer
    assert passports.roles_of(bag.producer) == Role.PRODUCER
    registered = text.index("GS1 China registers the cooperative's GS1 company prefix 9506000 to it")
    assert registered < text.index("The cooperative commissions 3 paddy lots")
    assert "genuine=True, brand the cooperative (prefix 9506000)" in text

    # The counterfeiter was refused in a sentence naming the brand, and nothing was commissioned.
    assert passports.exists(passports.passport_id(squatted)) is False
    refusal = " ".join(line.strip() for line in text[text.index("19. A counterfeiter") :].splitlines())
    assert f"the cooperative's next bag code {squatted} to sell its rice as Lankao's. It is refused:" in refusal
    assert f"holds no licence from {bag.brand.licensee}, the brand that owns the GS1 company prefix" in refusal
    assert "this must not happen" not in refusal


def _secrets() -> dict[str, bytes]:
    """Every attribute value, and the unsalted hashes someone might be tempted to store."""
    found: dict[str, bytes] = {}
    values = {**{k: str(v) for k, v in RESIDENT.items()}, "age_over_18": "true"}
    for key, value in values.items():
        if key == "age_over_18":
            continue  # "true" is too short to search for meaningfully; its hashes are checked below
        found[f"{key} value"] = value.encode()
    for key, value in values.items():
        raw = value.encode()
        found[f"keccak({key})"] = keccak(raw)
        found[f"keccak(key,{key})"] = keccak(key.encode() + raw)
        found[f"keccak(abi(key,{key}))"] = keccak(abi_encode(["string", "string"], [key, value]))
        found[f"keccak(abi({key}))"] = keccak(abi_encode(["string"], [value]))
        found[f"sha256({key})"] = __import__("hashlib").sha256(raw).digest()
    born = dt.date.fromisoformat(RESIDENT["date_of_birth"])
    midnight = int(dt.datetime.combine(born, dt.time(), dt.UTC).timestamp())
    found["date_of_birth as unix time"] = midnight.to_bytes(32, "big", signed=True)
    found["date_of_birth as yyyymmdd"] = int(born.strftime("%Y%m%d")).to_bytes(32, "big")
    return found


def _chain_data(chain: Chain, first_block: int) -> Iterator[tuple[str, bytes]]:
    """Every transaction's calldata and every log's topics and data since ``first_block``."""
    for number in range(first_block, chain.w3.eth.block_number + 1):
        for raw_hash in chain.w3.eth.get_block(number)["transactions"]:
            tx_hash = "0x" + bytes(raw_hash).hex()  # type: ignore[arg-type]
            yield f"calldata of {tx_hash}", bytes(chain.w3.eth.get_transaction(tx_hash)["input"])
            for log in chain.w3.eth.get_transaction_receipt(tx_hash)["logs"]:
                blob = b"".join(bytes(t) for t in log["topics"]) + bytes(log["data"])
                yield f"log {log['logIndex']} of {tx_hash}", blob


def test_demo_part_three_pays_the_bank_on_delivery_and_refunds_the_recalled_order(
    demo_run: tuple[Chain, DemoResult, list[str], int],
) -> None:
    chain, result, lines, _ = demo_run
    fin = TradeFinance.from_deployment(chain, result.deployment)
    paid, refunded = fin.order(result.finance.paid_order), fin.order(result.finance.refunded_order)
    (part,) = paid.receivable.parts if paid.receivable else ()

    assert [line.state for line in paid.lines] == [LineState.SETTLED] * 3
    assert [line.state for line in refunded.lines] == [LineState.REFUNDED] * 2
    assert (paid.escrowed, refunded.escrowed) == (0, 0)
    assert part.holder == result.cast.bank and part.claimed == 3 * BAG_PRICE
    assert (result.finance.bank_paid, result.finance.bank_collected) == (3 * BAG_PRICE * 98 // 100, 3 * BAG_PRICE)
    text = "\n".join(lines)
    assert "pays 36.75 at once" in text and "pays the bank 37.50" in text and "gets its 25.00 back" in text


def test_no_personal_data_on_chain(demo_run: tuple[Chain, DemoResult, list[str], int]) -> None:
    chain, result, _, first_block = demo_run
    blobs = list(_chain_data(chain, first_block))
    # The scan really sees calldata and logs: the commitment is on chain in both.
    assert sum(result.credential.commitment in blob for _, blob in blobs) >= 2

    leaks = [(what, where) for what, secret in _secrets().items() for where, blob in blobs if secret in blob]

    assert leaks == []
