"""chainpass's own signature code against OpenZeppelin's, the independent implementation.

The contracts recover ECDSA signatures with OpenZeppelin's `ECDSA`, but keep their own
EIP-712 digest and ERC-1271 call (`contracts/libraries/SignatureCheck.sol`):
OpenZeppelin 5.7's `SignatureChecker` and `MessageHashUtils` need `mcopy`, a Cancun opcode
the contracts' Shanghai build lacks, and `SignatureChecker` gives a contract wallet all
the gas left (docs/how-it-works.md, "Building blocks"). A harness compiled for Cancun puts
both side by side on the embedded EVM (Prague), and every case below must get the same
answer from both, except the differences chainpass chose, each asserted as one: ours
refuses, never accepts, what OpenZeppelin's accepts.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from accounts import malleated, new_account
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from solidity import compile_conformance_contract, compile_test_contract
from web3.contract import Contract

from chainpass.artifacts import Artifact
from chainpass.chain import Chain

DIGEST = keccak(b"chainpass conformance")


class Harness:
    """Both checks, deployed on one embedded chain with the wallets the cases need."""

    def __init__(self) -> None:
        self.chain = Chain.embedded()
        self.deployer = self.chain.dev_accounts()[0]
        self.contract = self.deploy(compile_conformance_contract("SignatureHarness"))
        self.owner: LocalAccount = new_account()
        wallet_artifact = compile_test_contract("TestWallet")
        self.wallet = self.deploy(wallet_artifact, self.owner.address).address
        hostile = compile_test_contract("HostileWallet")
        self.lenient = self.deploy(hostile, 0).address  # accepts any signature
        self.burner = self.deploy(hostile, 1).address  # burns all the gas it gets
        self.shouter = self.deploy(hostile, 2).address  # the magic value, then 10 KB more

    def deploy(self, artifact: Artifact, *args: object) -> Contract:
        address = self.chain.deploy(artifact, list(args), self.deployer)["contractAddress"]
        assert address is not None
        return self.chain.contract(artifact, address)

    def answers(self, signer: str, signature: bytes, digest: bytes = DIGEST) -> tuple[bool, bool]:
        """(chainpass's answer, OpenZeppelin's answer)."""
        functions = self.contract.functions
        ours = functions.ours(signer, digest, signature).call({"gas": 3_000_000})
        theirs = functions.openZeppelin(signer, digest, signature).call({"gas": 3_000_000})
        return bool(ours), bool(theirs)


@pytest.fixture(scope="module")
def harness() -> Harness:
    return Harness()


def signed(account: LocalAccount, digest: bytes = DIGEST) -> bytes:
    return bytes(Account.unsafe_sign_hash(digest, account.key).signature)


def with_v(signature: bytes, v: int) -> bytes:
    return signature[:64] + bytes([v])


#: (case, who signs for whom, the signature): (signer address, signature) from the harness.
AGREEING: dict[str, Callable[[Harness], tuple[str, bytes]]] = {
    "an account's own signature": lambda h: (h.owner.address, signed(h.owner)),
    "another account's signature": lambda h: (h.owner.address, signed(new_account())),
    "a signature over another message": lambda h: (h.owner.address, signed(h.owner, keccak(b"other"))),
    "the malleated copy (high s)": lambda h: (h.owner.address, malleated(signed(h.owner))),
    "v as 0 or 1": lambda h: (h.owner.address, with_v(signed(h.owner), signed(h.owner)[64] - 27)),
    "v 29": lambda h: (h.owner.address, with_v(signed(h.owner), 29)),
    "a 64-byte (ERC-2098) signature": lambda h: (h.owner.address, signed(h.owner)[:64]),
    "a 66-byte signature": lambda h: (h.owner.address, signed(h.owner) + b"\0"),
    "an empty signature for an account": lambda h: (h.owner.address, b""),
    "65 zero bytes": lambda h: (h.owner.address, bytes(64) + b"\x1b"),
    "the zero address with a garbage signature": lambda h: ("0x" + "00" * 20, bytes(64) + b"\x1b"),
    "a wallet, its owner's signature": lambda h: (h.wallet, signed(h.owner)),
    "a wallet, a stranger's signature": lambda h: (h.wallet, signed(new_account())),
    "a wallet that accepts anything, a 65-byte signature": lambda h: (h.lenient, signed(new_account())),
    "a wallet that answers 10 KB": lambda h: (h.shouter, signed(new_account())),
}


@pytest.mark.parametrize("case", AGREEING)
def test_chainpass_and_openzeppelin_agree(harness: Harness, case: str) -> None:
    signer, signature = AGREEING[case](harness)
    ours, theirs = harness.answers(signer, signature)
    assert ours == theirs, f"{case}: chainpass {ours}, OpenZeppelin {theirs}"


def test_both_accept_what_they_should_and_refuse_the_rest(harness: Harness) -> None:
    """The table is not vacuous: both sides accept the genuine cases and refuse the others."""
    accepted = {case for case, make in AGREEING.items() if harness.answers(*make(harness))[1]}
    assert accepted == {
        "an account's own signature",
        "a wallet, its owner's signature",
        "a wallet that accepts anything, a 65-byte signature",
        "a wallet that answers 10 KB",
    }


def test_where_chainpass_is_stricter_than_openzeppelin(harness: Harness) -> None:
    """The chosen differences: an empty or malformed signature, or a malleated one, never
    reaches a wallet (a lenient wallet took an empty one as its owner's: finding 6), and a
    wallet gets at most 50,000 gas (OpenZeppelin's gives it all, so one that burns gas
    burns the relayer's)."""
    assert harness.answers(harness.lenient, b"") == (False, True)
    assert harness.answers(harness.lenient, with_v(signed(new_account()), 5)) == (False, True)
    # The test wallet does not check s itself: OpenZeppelin's passes the malleated copy on.
    assert harness.answers(harness.wallet, malleated(signed(harness.owner))) == (False, True)
    signature = signed(new_account())
    assert harness.answers(harness.burner, signature) == (False, False)
    # Neither accepts; sent with a million gas, OpenZeppelin's lets the wallet burn all
    # but 1/64 of it, and ours stops the wallet at 50,000.
    used: dict[str, int] = {}
    for check in ("ours", "openZeppelin"):
        call = getattr(harness.contract.functions, check)(harness.burner, DIGEST, signature)
        tx_hash = call.transact({"from": harness.deployer, "gas": 1_000_000})
        used[check] = harness.chain.w3.eth.wait_for_transaction_receipt(tx_hash)["gasUsed"]
    assert used["ours"] < 100_000 < 950_000 < used["openZeppelin"]


@settings(max_examples=40, deadline=None)
@given(
    key=st.integers(min_value=1, max_value=2**255),
    digest=st.binary(min_size=32, max_size=32),
    flip=st.integers(0, 64 * 8 - 1),
)
def test_random_keys_and_damaged_signatures_get_the_same_answer(
    harness: Harness, key: int, digest: bytes, flip: int
) -> None:
    account: LocalAccount = Account.from_key(key.to_bytes(32, "big"))
    signature = signed(account, digest)
    damaged = bytearray(signature)
    damaged[flip // 8] ^= 1 << (flip % 8)
    assert harness.answers(account.address, signature, digest) == (True, True)
    ours, theirs = harness.answers(account.address, bytes(damaged), digest)
    assert ours == theirs
    assert not ours


@settings(max_examples=20, deadline=None)
@given(domain=st.binary(min_size=32, max_size=32), struct=st.binary(min_size=32, max_size=32))
def test_the_eip712_digest_is_openzeppelins(harness: Harness, domain: bytes, struct: bytes) -> None:
    functions = harness.contract.functions
    ours = functions.ourTypedDataHash(domain, struct).call()
    assert ours == functions.openZeppelinTypedDataHash(domain, struct).call()
    assert ours == keccak(b"\x19\x01" + domain + struct)
