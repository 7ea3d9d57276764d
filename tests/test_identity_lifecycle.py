"""Stateful property test: the registry's lifecycle against a Python model of it.

Hypothesis drives random sequences of verify / reverify / suspend / reinstate / revoke,
checks, clock moves, authority removals and (re-)appointments, and the holders' own
gasless actions: granting and withdrawing consent, cancelling signatures and rotating
to a new wallet (each signed by the holder's key and relayed). The model predicts for
each step either success or the exact custom error; after every step every wallet's
stored verification, nonce, consent and standing on chain must equal the model's, and
so must what a relying party learns from a check.

Runs on the embedded EVM only (its own chain, deployed once, reverted to a snapshot
after each example) to stay fast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import keccak
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from chainpass.attributes import Credential
from chainpass.chain import Chain
from chainpass.deployment import deploy
from chainpass.errors import ContractRevert
from chainpass.identity import IdentityRegistry, Level, Sector, Standing, Status
from chainpass.signatures import ACTIONS, SignedAction, TypedAction

HOUR = 60 * 60
DAY = 24 * HOUR
#: Initial authorities and the highest level each may grant.
AUTHORITY_LEVELS = {"bureau": Level.HIGH, "clinic": Level.LOW}
HOLDER_COUNT = 2

holders = st.integers(0, HOLDER_COUNT - 1)
#: Act on the holder's current wallet (False) or on the one it last moved away from (True).
olds = st.booleans()
#: Where a rotation goes: a fresh wallet, the other holder's wallet, or a wallet moved away from.
rotation_targets = st.sampled_from(["fresh", "fresh", "other", "retired"])
#: Who acts: a named authority, or whichever authority issued the holder's verification
#: (steers runs towards actions that go through, not only refusals).
authority_names = st.sampled_from(sorted(AUTHORITY_LEVELS))
actors = st.one_of(st.just("issuer"), authority_names)
levels = st.sampled_from([Level.LOW, Level.SUBSTANTIAL, Level.HIGH])
#: A level to grant: the actor's own maximum, or any level.
grant_levels = st.one_of(st.none(), levels)
#: A new maximum level for an authority, or None to remove it.
appointments = st.one_of(st.none(), levels)
# Far from zero on purpose: a grant's block may be a few seconds after the latest block.
future_lifetimes = st.sampled_from([DAY, 30 * DAY, 365 * DAY])
#: Mostly in the future; sometimes in the past, which the contract refuses.
lifetimes = st.one_of(future_lifetimes, st.just(-DAY))
advances = st.sampled_from([HOUR, DAY, 10 * DAY, 40 * DAY])
reasons = st.integers(1, 255)


def wallet_key(label: str) -> LocalAccount:
    """A deterministic key (Hypothesis replays examples), never funded: holders act gaslessly."""
    account: LocalAccount = Account.from_key(keccak(text=f"chainpass lifecycle {label}"))
    return account


@dataclass(frozen=True)
class Deployed:
    chain: Chain
    registry: IdentityRegistry
    governor: ChecksumAddress
    relying_party: ChecksumAddress
    relayer: ChecksumAddress
    authorities: dict[str, ChecksumAddress]
    holders: tuple[LocalAccount, ...]


@cache
def deployed() -> Deployed:
    """One embedded chain with a registry, the authorities and a relying party appointed."""
    chain = Chain.embedded()
    accounts = chain.dev_accounts()
    governor, relying_party = accounts[0], accounts[1]
    # Reads then name their sender, which spares web3 listing the accounts on every call.
    chain.w3.eth.default_account = governor
    named = dict(zip(sorted(AUTHORITY_LEVELS), accounts[2:4], strict=True))
    deployment, _ = deploy(chain, governor)
    registry = IdentityRegistry.from_deployment(chain, deployment)
    for name, address in named.items():
        registry.appoint_authority(address, AUTHORITY_LEVELS[name], sender=governor)
    registry.appoint_relying_party(relying_party, Sector.BANK, sender=governor)
    holder_accounts = tuple(wallet_key(f"holder {i}") for i in range(HOLDER_COUNT))
    return Deployed(chain, registry, governor, relying_party, accounts[4], named, holder_accounts)


@dataclass
class Held:
    """The model of one holder's stored verification."""

    status: Status = Status.NONE
    issuer: str | None = None
    level: Level = Level.NONE
    expires_at: int = 0
    commitment: bytes = field(default=bytes(32))
    reason: int = 0
    #: The nonce the wallet's next signed message must carry.
    nonce: int = 0


class IdentityLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = deployed()
        self.registry = self.world.registry
        self.snapshot = self.world.chain.snapshot()
        #: Active authorities (by address) and the highest level each may grant.
        self.active: dict[str, Level] = {self.world.authorities[n]: lv for n, lv in AUTHORITY_LEVELS.items()}
        #: Every wallet seen so far (holders' current ones, fresh ones, moved-away ones), by address.
        self.keys: dict[str, LocalAccount] = {h.address: h for h in self.world.holders}
        self.held: dict[str, Held] = {h.address: Held() for h in self.world.holders}
        #: Each holder's current wallet, and the last one it moved away from.
        self.current: list[str] = [h.address for h in self.world.holders]
        self.retired: dict[int, str] = {}
        #: Until when each wallet consents to checks by the relying party (0: no consent).
        self.consents: dict[str, int] = {}
        self.serial = 0

    def teardown(self) -> None:
        self.world.chain.revert(self.snapshot)

    # ------------------------------------------------------------------ model

    def now(self) -> int:
        return self.world.chain.latest_timestamp()

    def standing(self, held: Held, now: int) -> Standing:
        if held.status is Status.NONE:
            return Standing.NEVER_VERIFIED
        if held.status is Status.REVOKED:
            return Standing.REVOKED
        if held.status is Status.MOVED:
            return Standing.MOVED
        if held.status is Status.SUSPENDED:
            return Standing.SUSPENDED
        if held.issuer not in self.active:
            return Standing.ISSUER_REMOVED
        if held.expires_at <= now:
            return Standing.EXPIRED
        return Standing.VALID

    def checked_standing(self, wallet: str, now: int) -> Standing:
        """What the relying party learns from a check of ``wallet`` at time ``now``."""
        if self.consents.get(wallet, 0) <= now:
            return Standing.NO_CONSENT
        return self.standing(self.held[wallet], now)

    def grant_error(self, authority: str, level: Level, expires_at: int) -> str | None:
        if authority not in self.active:
            return "IdentityNotAuthority"
        if level > self.active[authority]:
            return "IdentityLevelAboveAuthority"
        if expires_at <= self.now():
            return "IdentityExpiryNotInFuture"
        return None

    def issuer_error(self, authority: str, held: Held) -> str | None:
        if authority not in self.active:
            return "IdentityNotAuthority"
        if held.status is Status.NONE:
            return "IdentityNotVerified"
        if held.status is Status.MOVED:
            return "IdentityHolderMoved"
        if held.issuer != authority:
            return "IdentityNotIssuer"
        return None

    @staticmethod
    def holder_error(held: Held, *, bound: bool) -> str | None:
        """Whether the wallet may sign at all: it must hold an identity (and, if ``bound``, not a revoked one)."""
        if held.status is Status.NONE:
            return "IdentityNotVerified"
        if held.status is Status.MOVED:
            return "IdentityHolderMoved"
        if bound and held.status is Status.REVOKED:
            return "IdentityHolderRevoked"
        return None

    def wallet(self, index: int, old: bool) -> str:
        """Holder ``index``'s current wallet, or with ``old`` the one it last moved away from (if any)."""
        return self.retired.get(index, self.current[index]) if old else self.current[index]

    def fresh_wallet(self) -> str:
        self.serial += 1
        account = wallet_key(f"wallet {self.serial}")
        self.keys[account.address] = account
        self.held.setdefault(account.address, Held())
        return account.address

    def relay(self, action: TypedAction) -> Callable[[], object]:
        """Sign ``action`` with its holder's key; the returned call has the relayer submit it."""
        signed = action.sign(self.keys[action.holder])
        return lambda: self.registry.relay(signed, sender=self.world.relayer)

    def submit_raw(self, signed: SignedAction) -> object:
        """Send a signed action to the contract without the client's checks."""
        action = signed.action
        by_sig = getattr(
            self.registry.contract.functions, action.primary_type[0].lower() + action.primary_type[1:] + "BySig"
        )
        fields = [action.message[f["name"]] for f in ACTIONS[action.primary_type]]
        return self.world.chain.transact(by_sig(*fields, signed.signature), self.world.relayer)

    def deadline(self) -> int:
        return self.now() + HOUR

    def credential(self, holder: str) -> Credential:
        self.serial += 1
        person = {
            "name": f"Holder {self.serial}",
            "date_of_birth": "1990-01-01",
            "national_id": f"ID-{self.serial}",
            "address": "1 Main Street",
        }
        return Credential.issue(holder, person, on=dt.date(2025, 1, 1))

    @staticmethod
    def attempt(expected_error: str | None, call: Callable[[], object]) -> bool:
        """Run ``call``; True if it went through, as the model predicted, else the predicted refusal."""
        if expected_error is None:
            call()
            return True
        with pytest.raises(ContractRevert) as info:
            call()
        assert info.value.error == expected_error, str(info.value)
        return False

    def actor(self, holder: str, actor: str) -> str:
        issuer = self.held[holder].issuer
        if actor == "issuer":
            return issuer if issuer is not None else self.world.authorities["bureau"]
        return self.world.authorities[actor]

    def grant_level(self, authority: str, level: Level | None) -> Level:
        return level if level is not None else self.active.get(authority, Level.LOW)

    # ------------------------------------------------------------------ rules

    @initialize(name=authority_names, lifetime=future_lifetimes)
    def verify_first_holder(self, name: str, lifetime: int) -> None:
        self.verify(0, name, None, lifetime)

    @initialize(name=authority_names, lifetime=future_lifetimes, skip=st.booleans())
    def maybe_verify_second_holder(self, name: str, lifetime: int, skip: bool) -> None:
        if not skip:
            self.verify(1, name, None, lifetime)

    @initialize(lifetime=future_lifetimes)
    def first_holder_consents(self, lifetime: int) -> None:
        # So that most runs check with consent in force (refused if it runs before the verification).
        self.grant_consent(0, False, lifetime)

    @rule(index=holders, actor=actors, level=grant_levels, lifetime=lifetimes, old=olds)
    def verify(self, index: int, actor: str, level: Level | None, lifetime: int, old: bool = False) -> None:
        holder = self.wallet(index, old)
        authority = self.actor(holder, actor)
        grant = self.grant_level(authority, level)
        held, credential, expires_at = self.held[holder], self.credential(holder), self.now() + lifetime
        expected = self.grant_error(authority, grant, expires_at)
        if expected is None and held.status is Status.REVOKED:
            expected = "IdentityHolderRevoked"
        elif expected is None and held.status is Status.MOVED:
            expected = "IdentityHolderMoved"
        elif expected is None and held.status is not Status.NONE:
            expected = "IdentityAlreadyVerified"
        if self.attempt(expected, lambda: self.registry.verify(credential, grant, expires_at, sender=authority)):
            self.held[holder] = Held(Status.ACTIVE, authority, grant, expires_at, credential.commitment, 0, held.nonce)

    @rule(index=holders, actor=actors, level=grant_levels, lifetime=lifetimes, old=olds)
    def reverify(self, index: int, actor: str, level: Level | None, lifetime: int, old: bool) -> None:
        holder = self.wallet(index, old)
        authority = self.actor(holder, actor)
        grant = self.grant_level(authority, level)
        held, credential, expires_at = self.held[holder], self.credential(holder), self.now() + lifetime
        expected = self.grant_error(authority, grant, expires_at)
        if expected is None and held.status is Status.NONE:
            expected = "IdentityNotVerified"
        elif expected is None and held.status is Status.REVOKED:
            expected = "IdentityHolderRevoked"
        elif expected is None and held.status is Status.MOVED:
            expected = "IdentityHolderMoved"
        elif expected is None and held.issuer != authority and held.issuer in self.active:
            expected = "IdentityNotIssuer"
        if self.attempt(expected, lambda: self.registry.reverify(credential, grant, expires_at, sender=authority)):
            held.issuer, held.level, held.expires_at = authority, grant, expires_at
            held.commitment = credential.commitment

    @rule(index=holders, actor=actors, suspend=st.booleans(), reason=reasons, old=olds)
    def suspend_or_reinstate(self, index: int, actor: str, suspend: bool, reason: int, old: bool) -> None:
        holder = self.wallet(index, old)
        authority, held = self.actor(holder, actor), self.held[holder]
        expected = self.issuer_error(authority, held)
        if suspend:
            if expected is None and held.status is not Status.ACTIVE:
                expected = "IdentityNotActive"
            if self.attempt(expected, lambda: self.registry.suspend(holder, reason, sender=authority)):
                held.status, held.reason = Status.SUSPENDED, reason
        else:
            if expected is None and held.status is not Status.SUSPENDED:
                expected = "IdentityNotSuspended"
            if self.attempt(expected, lambda: self.registry.reinstate(holder, sender=authority)):
                held.status, held.reason = Status.ACTIVE, 0

    @rule(index=holders, actor=actors, old=olds)
    def revoke(self, index: int, actor: str, old: bool) -> None:
        holder = self.wallet(index, old)
        authority, held = self.actor(holder, actor), self.held[holder]
        expected = self.issuer_error(authority, held)
        if expected is None and held.status is Status.REVOKED:
            expected = "IdentityHolderRevoked"
        if self.attempt(expected, lambda: self.registry.revoke(holder, sender=authority)):
            held.status, held.reason = Status.REVOKED, 0

    @rule(seconds=advances)
    def advance_time(self, seconds: int) -> None:
        before = self.now()
        self.world.chain.advance_time(seconds)
        assert self.now() >= before + seconds

    @rule(name=authority_names, level=appointments)
    def appoint_or_remove_authority(self, name: str, level: Level | None) -> None:
        authority, governor = self.world.authorities[name], self.world.governor
        if level is not None:
            self.registry.appoint_authority(authority, level, sender=governor)
            self.active[authority] = level
            return
        expected = None if authority in self.active else "IdentityNotAuthority"
        if self.attempt(expected, lambda: self.registry.remove_authority(authority, sender=governor)):
            del self.active[authority]

    @rule(index=holders, old=olds)
    def check(self, index: int, old: bool) -> None:
        holder = self.wallet(index, old)
        result = self.registry.check(holder, sender=self.world.relying_party)
        assert result.standing is self.checked_standing(holder, self.now())
        if result.standing is Standing.NO_CONSENT:
            assert (result.level, result.issuer, result.expires_at) == (Level.NONE, None, 0)

    # -------------------------------------------------- the holder's own actions

    @rule(index=holders, old=olds, lifetime=lifetimes)
    def grant_consent(self, index: int, old: bool, lifetime: int) -> None:
        holder = self.wallet(index, old)
        held, until = self.held[holder], self.now() + lifetime
        expected = self.holder_error(held, bound=True)
        if expected is None and lifetime < 0:
            expected = "IdentityConsentNotInFuture"
        # Built by hand: `typed_grant_consent` itself refuses a past `until` before signing.
        message = {
            "holder": holder,
            "relyingParty": self.world.relying_party,
            "until": until,
            "nonce": held.nonce,
            "deadline": self.deadline(),
        }
        action = TypedAction(self.registry.domain(), "GrantConsent", message)
        if self.attempt(expected, self.relay(action)):
            self.consents[holder] = until
            held.nonce += 1
        assert self.registry.consent_until(holder, self.world.relying_party) == self.consents.get(holder, 0)

    @rule(index=holders, old=olds)
    def withdraw_consent(self, index: int, old: bool) -> None:
        holder = self.wallet(index, old)
        held = self.held[holder]
        action = self.registry.typed_withdraw_consent(holder, self.world.relying_party, deadline=self.deadline())
        if self.attempt(self.holder_error(held, bound=False), self.relay(action)):
            self.consents[holder] = 0
            held.nonce += 1
        assert self.registry.consent_until(holder, self.world.relying_party) == self.consents.get(holder, 0)

    @rule(index=holders, old=olds)
    def cancel_signatures(self, index: int, old: bool) -> None:
        holder = self.wallet(index, old)
        held = self.held[holder]
        # Signed before the cancellation, with the same nonce, and never submitted.
        unused = self.registry.typed_withdraw_consent(holder, self.world.relying_party, deadline=self.deadline())
        unused_signed = unused.sign(self.keys[holder])
        action = self.registry.typed_cancel_signatures(holder, deadline=self.deadline())
        if self.attempt(self.holder_error(held, bound=False), self.relay(action)):
            held.nonce += 1
            # Straight to the contract (relay() would refuse the stale nonce itself).
            self.attempt("IdentityInvalidNonce", lambda: self.submit_raw(unused_signed))

    @rule(index=holders, old=olds, onto=rotation_targets)
    def rotate(self, index: int, old: bool, onto: str) -> None:
        holder = self.wallet(index, old)
        held = self.held[holder]
        if onto == "other":
            new_holder = self.current[1 - index]
        elif onto == "retired" and self.retired:
            new_holder = self.retired[min(self.retired)]
        else:
            new_holder = self.fresh_wallet()
        expected = self.holder_error(held, bound=True)
        if expected is None and self.held[new_holder].status is Status.MOVED:
            expected = "IdentityHolderMoved"
        elif expected is None and self.held[new_holder].status is not Status.NONE:
            expected = "IdentityAlreadyVerified"
        action = self.registry.typed_rotate(holder, new_holder, deadline=self.deadline())
        if self.attempt(expected, self.relay(action)):
            held.nonce += 1
            self.held[new_holder] = replace(held)
            held.status, held.commitment, held.reason = Status.MOVED, bytes(32), 0
            self.assert_wallet_matches(holder, self.now())
            # Consents stay with the old wallet (where they no longer matter).
            assert self.registry.consent_until(new_holder, self.world.relying_party) == 0
            assert self.registry.consent_until(holder, self.world.relying_party) == self.consents.get(holder, 0)
            for slot, wallet in enumerate(self.current):
                if wallet == holder:
                    self.current[slot], self.retired[slot] = new_holder, holder

    # ------------------------------------------------------------- invariant

    def assert_wallet_matches(self, holder: str, now: int) -> None:
        """The wallet's stored record, and what the relying party would learn from a check now."""
        held, functions = self.held[holder], self.registry.contract.functions
        commitment, issuer, expires_at, level, status, reason, nonce = functions.identityOf(holder).call()
        assert (Status(status), _address_or_none(issuer), Level(level), reason) == (
            held.status,
            held.issuer,
            held.level,
            held.reason,
        )
        assert (expires_at, bytes(commitment), nonce) == (held.expires_at, held.commitment, held.nonce)
        # A call, not a transaction: no block is mined, so the clock stands still.
        learnt = Standing(functions.check(holder).call({"from": self.world.relying_party}))
        assert learnt is self.checked_standing(holder, now), (holder, held, self.consents.get(holder))
        if learnt is Standing.NO_CONSENT:  # the check hides the standing: read it directly
            assert Standing(functions.standingOf(holder).call()) is self.standing(held, now), (holder, held)

    @invariant()
    def chain_matches_model(self) -> None:
        # The holders' current wallets. A wallet moved away from is checked when it moves, and
        # whenever a rule acts on it; every rule that could change it expects a refusal.
        now = self.now()
        for holder in dict.fromkeys(self.current):
            self.assert_wallet_matches(holder, now)


def _address_or_none(value: str) -> str | None:
    return None if int(value, 16) == 0 else value


class TestIdentityLifecycle(IdentityLifecycle.TestCase):  # type: ignore[valid-type,misc]
    settings = hypothesis_settings(
        IdentityLifecycle.TestCase.settings, max_examples=25, stateful_step_count=15, deadline=None
    )

    @classmethod
    def setUpClass(cls) -> None:
        # Build the chain before Hypothesis runs: py-evm raises the recursion limit on import.
        deployed()
