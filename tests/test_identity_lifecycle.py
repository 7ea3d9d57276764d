"""Stateful property test: the registry's lifecycle against a Python model of it.

Hypothesis drives random sequences of verify / reverify / suspend / reinstate / revoke,
checks, clock moves, authority removals, (re-)appointments, key rotations, hand-overs and
compromise declarations (and restores of what a compromised key did), recoveries (requested,
objected to, withdrawn, completed), and the holders' own gasless actions: granting and
withdrawing consent, cancelling signatures and rotating to a new wallet (each signed by the
holder's key and relayed). Among the actors are a thief holding a holder's old key (the
holder's own key, used after the bureau suspended her and started a recovery), a griefer
who rotates into another's recovery target, and an authority's retired key.

The model predicts for each step either success or the exact custom error. After every step
every wallet's stored verification, nonces, consent and standing on chain must equal the
model's, and so must what a relying party learns from a check; every pending recovery's
target is reserved and its holder still holds the identity. Whenever a recovery the bureau
started is ready, its completion by that bureau goes through and the identity lands in the
new wallet (unless the holder objected, which ends it): a stolen key never beats the bureau.

Runs on an Anvil of its own (deployed once, reverted to a snapshot after each example):
some five times as fast as on the embedded EVM, which interprets the EVM in Python.
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
from chainpass.deployment import DEFAULT_RECOVERY_DELAY, deploy
from chainpass.enums import Level, Sector, Standing, Status, SuspensionReason
from chainpass.errors import ContractRevert
from chainpass.identity import IdentityRegistry
from chainpass.node import AnvilNode, free_port
from chainpass.signatures import ACTIONS, SignedAction, TypedAction

HOUR = 60 * 60
DAY = 24 * HOUR
#: Initial authorities and the highest level each may grant.
AUTHORITY_LEVELS = {"bureau": Level.HIGH, "clinic": Level.LOW}
HOLDER_COUNT = 2

holders = st.integers(0, HOLDER_COUNT - 1)
#: Act on the holder's current wallet (False) or on the one it last moved away from (True).
olds = st.booleans()
#: Where a rotation or recovery goes: a fresh wallet, the other holder's wallet, a wallet
#: moved away from, or the target of a pending recovery (the griefer's move).
targets = st.sampled_from(["fresh", "fresh", "other", "retired", "reserved"])
#: Who acts: a named authority's key, the key of whichever authority issued the holder's
#: verification (steers runs towards actions that go through), or that authority's retired key.
authority_names = st.sampled_from(sorted(AUTHORITY_LEVELS))
actors = st.one_of(st.just("issuer"), st.just("issuer"), st.just("retired"), authority_names)
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
reasons = st.sampled_from(list(SuspensionReason))
#: How far before the key stopped acting a compromise window starts (negative: after, refused).
windows = st.sampled_from([0, HOUR, 10 * DAY, 1000 * DAY, -HOUR])


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
    #: Funded dev accounts the governor hands out as new authority keys.
    spare_keys: tuple[ChecksumAddress, ...]
    holders: tuple[LocalAccount, ...]


@cache
def anvil() -> AnvilNode:
    """The module's own Anvil (stopped by the test class when it is done)."""
    return AnvilNode(port=free_port(), history_on_disk=False).start()


@cache
def deployed() -> Deployed:
    """One chain (on the module's Anvil) with a registry, the authorities and a relying party appointed."""
    chain = Chain.connect(anvil().url)
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
    return Deployed(chain, registry, governor, relying_party, accounts[4], named, tuple(accounts[5:]), holder_accounts)


@dataclass
class Held:
    """The model of one wallet's stored record."""

    status: Status = Status.NONE
    #: The issuing authority's id; for a reserved wallet, the holder it is reserved for.
    issuer: str | None = None
    level: Level = Level.NONE
    expires_at: int = 0
    commitment: bytes = field(default=bytes(32))
    #: Unix time of the last change of status.
    changed_at: int = 0
    #: The key nonce (rotation, cancellation) and the consent nonce for the relying party.
    nonce: int = 0
    consent_nonce: int = 0


@dataclass
class Authority:
    """The model of one authority (known by its id)."""

    key: str
    level: Level | None  # None: removed
    serial: int
    retired_key: str | None = None
    retired_at: int | None = None
    successor: str | None = None
    window: tuple[int, int] | None = None


@dataclass(frozen=True)
class Pending:
    new_holder: str
    ready_at: int
    authority: str
    serial: int


class IdentityLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = deployed()
        self.registry = self.world.registry
        self.snapshot = self.world.chain.snapshot()
        self.serials = 0
        self.authorities: dict[str, Authority] = {}
        for name, level in AUTHORITY_LEVELS.items():
            self.serials += 1
            address = self.world.authorities[name]
            self.authorities[address] = Authority(address, level, self.serials)
        self.spares = list(self.world.spare_keys)
        #: Every wallet seen so far (holders' current ones, fresh ones, moved-away ones), by address.
        self.keys: dict[str, LocalAccount] = {h.address: h for h in self.world.holders}
        self.held: dict[str, Held] = {h.address: Held() for h in self.world.holders}
        #: Each holder's current wallet, and the last one it moved away from.
        self.current: list[str] = [h.address for h in self.world.holders]
        self.retired: dict[int, str] = {}
        #: Until when each wallet consents to checks by the relying party (0: no consent).
        self.consents: dict[str, int] = {}
        #: Pending recoveries, by the wallet being recovered.
        self.pending: dict[str, Pending] = {}
        #: The `readyAt` of each wallet's last recovery request.
        self.last_ready: dict[str, int] = {}
        self.serial = 0

    def teardown(self) -> None:
        self.world.chain.revert(self.snapshot)

    # ------------------------------------------------------------------ model

    def now(self) -> int:
        return self.world.chain.latest_timestamp()

    def active(self, authority: str | None) -> bool:
        return authority is not None and authority in self.authorities and self.authorities[authority].level is not None

    def acts_for(self, issuer: str | None, authority: str) -> bool:
        if issuer == authority:
            return True
        record = self.authorities.get(issuer or "")
        return record is not None and record.level is None and record.successor == authority

    def authority_of_key(self, key: str) -> str | None:
        for address, record in self.authorities.items():
            if record.key == key and record.level is not None:
                return address
        return None

    def standing(self, held: Held, now: int) -> Standing:
        if held.status in (Status.NONE, Status.RESERVED):
            return Standing.NEVER_VERIFIED
        if held.status is Status.REVOKED:
            return Standing.REVOKED
        if held.status is Status.MOVED:
            return Standing.MOVED
        if held.status is Status.SUSPENDED:
            return Standing.SUSPENDED
        if not self.active(held.issuer):
            successor = self.authorities[held.issuer].successor if held.issuer in self.authorities else None
            if not self.active(successor):
                return Standing.ISSUER_REMOVED
        if held.expires_at <= now:
            return Standing.EXPIRED
        return Standing.VALID

    def checked_standing(self, wallet: str, now: int) -> Standing:
        """What the relying party learns from a check of ``wallet`` at time ``now``."""
        if self.consents.get(wallet, 0) <= now:
            return Standing.NO_CONSENT
        return self.standing(self.held[wallet], now)

    def grant_error(self, key: str, level: Level, expires_at: int) -> str | None:
        authority = self.authority_of_key(key)
        if authority is None:
            return "IdentityNotAuthority"
        maximum = self.authorities[authority].level
        assert maximum is not None
        if level > maximum:
            return "IdentityLevelAboveAuthority"
        if expires_at <= self.now():
            return "IdentityExpiryNotInFuture"
        return None

    def issuer_error(self, key: str, held: Held) -> str | None:
        """The contract's `_actingIssuer` refusal for ``key`` acting on ``held``, if any."""
        authority = self.authority_of_key(key)
        if authority is None:
            return "IdentityNotAuthority"
        if held.status in (Status.NONE, Status.RESERVED):
            return "IdentityNotVerified"
        if held.status is Status.MOVED:
            return "IdentityHolderMoved"
        if not self.acts_for(held.issuer, authority):
            return "IdentityNotIssuer"
        return None

    def take_over(self, holder: str, authority: str) -> None:
        """A successor (or new issuer) acts: it becomes the issuer; the old request ends."""
        if self.held[holder].issuer != authority:
            self.held[holder].issuer = authority
            self.drop(holder)

    def drop(self, holder: str) -> None:
        pending = self.pending.pop(holder, None)
        if pending is not None:
            self.held[pending.new_holder] = Held(
                nonce=self.held[pending.new_holder].nonce,
                consent_nonce=self.held[pending.new_holder].consent_nonce,
            )

    @staticmethod
    def taken_error(held: Held) -> str:
        if held.status is Status.REVOKED:
            return "IdentityHolderRevoked"
        if held.status is Status.MOVED:
            return "IdentityHolderMoved"
        if held.status is Status.RESERVED:
            return "IdentityWalletReserved"
        return "IdentityAlreadyVerified"

    @staticmethod
    def holder_error(held: Held, *, bound: bool) -> str | None:
        """Whether the wallet may sign at all: it must hold an identity (and, if ``bound``, not a revoked one)."""
        if held.status in (Status.NONE, Status.RESERVED):
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

    def target(self, index: int, onto: str) -> str:
        if onto == "other":
            return self.current[1 - index]
        if onto == "retired" and self.retired:
            return self.retired[min(self.retired)]
        if onto == "reserved" and self.pending:
            return next(iter(self.pending.values())).new_holder
        return self.fresh_wallet()

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
        """The key that acts: a named authority's, the holder's issuer's, or the issuer's retired key."""
        issuer = self.held[holder].issuer
        record = self.authorities.get(issuer or "") or self.authorities[self.world.authorities["bureau"]]
        if actor == "issuer":
            return record.key
        if actor == "retired":
            return record.retired_key or record.key
        return self.authorities[self.world.authorities[actor]].key

    def grant_level(self, key: str, level: Level | None) -> Level:
        authority = self.authority_of_key(key)
        maximum = self.authorities[authority].level if authority else None
        return level if level is not None else (maximum or Level.LOW)

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
        key = self.actor(holder, actor)
        grant = self.grant_level(key, level)
        held, credential, expires_at = self.held[holder], self.credential(holder), self.now() + lifetime
        expected = self.grant_error(key, grant, expires_at)
        if expected is None and held.status is not Status.NONE:
            expected = self.taken_error(held)
        if self.attempt(expected, lambda: self.registry.verify(credential, grant, expires_at, sender=key)):
            authority = self.authority_of_key(key)
            self.held[holder] = Held(
                Status.ACTIVE, authority, grant, expires_at, credential.commitment, self.now(), held.nonce,
                held.consent_nonce,
            )  # fmt: skip

    @rule(index=holders, actor=actors, level=grant_levels, lifetime=lifetimes, old=olds)
    def reverify(self, index: int, actor: str, level: Level | None, lifetime: int, old: bool) -> None:
        holder = self.wallet(index, old)
        key = self.actor(holder, actor)
        grant = self.grant_level(key, level)
        held, credential, expires_at = self.held[holder], self.credential(holder), self.now() + lifetime
        expected = self.grant_error(key, grant, expires_at)
        authority = self.authority_of_key(key)
        if expected is None and held.status in (Status.NONE, Status.RESERVED):
            expected = "IdentityNotVerified"
        elif expected is None and held.status is Status.REVOKED:
            expected = "IdentityHolderRevoked"
        elif expected is None and held.status is Status.MOVED:
            expected = "IdentityHolderMoved"
        elif expected is None and held.issuer != authority and self.active(held.issuer):
            expected = "IdentityNotIssuer"
        if self.attempt(expected, lambda: self.registry.reverify(credential, grant, expires_at, sender=key)):
            assert authority is not None
            self.take_over(holder, authority)
            held.level, held.expires_at, held.commitment = grant, expires_at, credential.commitment

    @rule(index=holders, actor=actors, suspend=st.booleans(), reason=reasons, old=olds)
    def suspend_or_reinstate(self, index: int, actor: str, suspend: bool, reason: SuspensionReason, old: bool) -> None:
        holder = self.wallet(index, old)
        key, held = self.actor(holder, actor), self.held[holder]
        expected = self.issuer_error(key, held)
        if suspend:
            if expected is None and held.status is not Status.ACTIVE:
                expected = "IdentityNotActive"
            call: Callable[[], object] = lambda: self.registry.suspend(holder, reason, sender=key)  # noqa: E731
            new_status = Status.SUSPENDED
        else:
            if expected is None and held.status is not Status.SUSPENDED:
                expected = "IdentityNotSuspended"
            call = lambda: self.registry.reinstate(holder, sender=key)  # noqa: E731
            new_status = Status.ACTIVE
        if self.attempt(expected, call):
            self.take_over(holder, self.authority_of_key(key) or "")
            held.status, held.changed_at = new_status, self.now()

    @rule(index=holders, actor=actors, old=olds)
    def revoke(self, index: int, actor: str, old: bool) -> None:
        holder = self.wallet(index, old)
        key, held = self.actor(holder, actor), self.held[holder]
        expected = self.issuer_error(key, held)
        if expected is None and held.status is Status.REVOKED:
            expected = "IdentityHolderRevoked"
        if self.attempt(expected, lambda: self.registry.revoke(holder, sender=key)):
            self.take_over(holder, self.authority_of_key(key) or "")
            held.status, held.changed_at = Status.REVOKED, self.now()

    @rule(index=holders, actor=actors, old=olds)
    def restore(self, index: int, actor: str, old: bool) -> None:
        """Undo what a compromised key did, within the window the governor declared."""
        holder = self.wallet(index, old)
        key, held = self.actor(holder, actor), self.held[holder]
        expected = self.issuer_error(key, held)
        window = self.authorities[held.issuer].window if held.issuer in self.authorities else None
        if expected is None and (
            held.status not in (Status.SUSPENDED, Status.REVOKED)
            or window is None
            or not window[0] <= held.changed_at <= window[1]
        ):
            expected = "IdentityNotCompromised"
        if self.attempt(expected, lambda: self.registry.restore(holder, sender=key)):
            self.take_over(holder, self.authority_of_key(key) or "")
            held.status, held.changed_at = Status.ACTIVE, self.now()

    @rule(seconds=advances)
    def advance_time(self, seconds: int) -> None:
        before = self.now()
        self.world.chain.advance_time(seconds)
        assert self.now() >= before + seconds

    @rule(name=authority_names, level=appointments)
    def appoint_or_remove_authority(self, name: str, level: Level | None) -> None:
        authority, governor = self.world.authorities[name], self.world.governor
        record = self.authorities[authority]
        if level is not None:
            self.registry.appoint_authority(authority, level, sender=governor)
            if record.level is None:  # back again: its key acts again, under a new serial
                self.serials += 1
                record.serial, record.successor = self.serials, None
            record.level = level
            return
        expected = None if record.level is not None else "IdentityNotAuthority"
        if self.attempt(expected, lambda: self.registry.remove_authority(authority, sender=governor)):
            record.level, record.retired_at = None, self.now()

    @rule(name=authority_names)
    def rotate_authority_key(self, name: str) -> None:
        """The governor gives the authority a new key (a stolen laptop, or routine)."""
        authority = self.world.authorities[name]
        record = self.authorities[authority]
        if not self.spares:
            return
        new_key = self.spares[0]
        expected = None if record.level is not None else "IdentityNotAuthority"
        call = lambda: self.registry.rotate_authority_key(authority, new_key, sender=self.world.governor)  # noqa: E731
        if self.attempt(expected, call):
            self.spares.pop(0)
            self.serials += 1
            record.retired_key, record.key, record.serial = record.key, new_key, self.serials
            record.retired_at = self.now()

    @rule(name=authority_names, back=windows)
    def declare_compromise(self, name: str, back: int) -> None:
        authority = self.world.authorities[name]
        record = self.authorities[authority]
        until = record.retired_at
        since = max((until or self.now()) - back, 0)
        if until is None:
            expected: str | None = "IdentityAuthorityActive"
        elif since > until:
            expected = "IdentityInvalidCompromise"
        else:
            expected = None
        call = lambda: self.registry.declare_compromise(authority, since, sender=self.world.governor)  # noqa: E731
        if self.attempt(expected, call):
            assert until is not None
            record.window = (since, until)

    @rule(name=authority_names)
    def hand_over(self, name: str) -> None:
        """The governor hands a removed authority's holders to the other one."""
        removed = self.world.authorities[name]
        successor = next(a for n, a in self.world.authorities.items() if n != name)
        if self.active(removed):
            expected: str | None = "IdentityAuthorityActive"
        elif not self.active(successor):
            expected = "IdentityInvalidSuccessor"
        else:
            expected = None
        call = lambda: self.registry.hand_over_authority(removed, successor, sender=self.world.governor)  # noqa: E731
        if self.attempt(expected, call):
            self.authorities[removed].successor = successor

    @rule(index=holders, old=olds)
    def check(self, index: int, old: bool) -> None:
        holder = self.wallet(index, old)
        result = self.registry.check(holder, sender=self.world.relying_party)
        assert result.standing is self.checked_standing(holder, self.now())
        if result.standing is Standing.NO_CONSENT:
            assert (result.level, result.issuer, result.expires_at) == (Level.NONE, None, 0)

    # --------------------------------------------------------------- recovery

    @rule(index=holders, actor=actors, onto=targets, old=olds)
    def request_recovery(self, index: int, actor: str, onto: str, old: bool) -> None:
        holder = self.wallet(index, old)
        key, held = self.actor(holder, actor), self.held[holder]
        new_holder = self.target(index, onto)
        expected = self.issuer_error(key, held)
        authority = self.authority_of_key(key)
        pending = self.pending.get(holder)
        taking_over = expected is None and held.issuer != authority
        if expected is None and held.status is Status.REVOKED:
            expected = "IdentityHolderRevoked"
        fresh = pending is not None and authority is not None and pending.serial == self.authorities[authority].serial
        if expected is None and fresh and not taking_over:
            expected = "IdentityRecoveryPending"
        # A stale (or taken-over) request is dropped first, which may free the very target.
        freed = pending.new_holder if expected is None and pending is not None else None
        target = self.held[new_holder]
        if expected is None and new_holder != freed and target.status is not Status.NONE:
            expected = self.taken_error(target)
        call = lambda: self.registry.request_recovery(holder, new_holder, sender=key)  # noqa: E731
        if self.attempt(expected, call):
            assert authority is not None
            self.take_over(holder, authority)
            self.drop(holder)
            # Each request of a holder is ready strictly later than its last one.
            ready_at = max(self.now() + DEFAULT_RECOVERY_DELAY, self.last_ready.get(holder, 0) + 1)
            self.last_ready[holder] = ready_at
            self.pending[holder] = Pending(new_holder, ready_at, authority, self.authorities[authority].serial)
            self.held[new_holder] = replace(self.held[new_holder], status=Status.RESERVED, issuer=holder)

    @rule(index=holders, actor=actors, old=olds)
    def complete_recovery(self, index: int, actor: str, old: bool) -> None:
        holder = self.wallet(index, old)
        key, held = self.actor(holder, actor), self.held[holder]
        expected = self.issuer_error(key, held)
        authority = self.authority_of_key(key)
        taking_over = expected is None and held.issuer != authority
        pending = None if taking_over else self.pending.get(holder)
        if expected is None and held.status is Status.REVOKED:
            expected = "IdentityHolderRevoked"
        elif expected is None and pending is None:
            expected = "IdentityNoRecovery"
        elif expected is None and pending is not None and authority is not None:
            if pending.serial != self.authorities[authority].serial:
                expected = "IdentityRecoveryStale"
            elif self.now() + 1 < pending.ready_at:  # the next block is a second or more later
                expected = "IdentityRecoveryNotReady"
            elif self.now() < pending.ready_at:
                return  # the next block's time decides: not a case the model predicts
        if self.attempt(expected, lambda: self.registry.complete_recovery(holder, sender=key)):
            assert pending is not None
            del self.pending[holder]
            self.move(holder, pending.new_holder)

    @rule(index=holders, by_holder=st.booleans(), actor=actors, old=olds)
    def cancel_recovery(self, index: int, by_holder: bool, actor: str, old: bool) -> None:
        """The holder objects (a signed message), or whoever acts for its issuer withdraws."""
        holder = self.wallet(index, old)
        held, pending = self.held[holder], self.pending.get(holder)
        if by_holder:
            expected = self.holder_error(held, bound=False)
            if expected is None and held.status is Status.SUSPENDED:
                expected = "IdentityHolderSuspended"
            if expected is None and pending is None:
                expected = "IdentityNoRecovery"
            # Built by hand: the client only writes objections to a pending recovery.
            named = pending or Pending(self.world.relayer, 1, "", 0)
            message = {
                "holder": holder,
                "newHolder": named.new_holder,
                "readyAt": named.ready_at,
                "deadline": self.deadline(),
            }
            action = TypedAction(self.registry.domain(), "CancelRecovery", message)
            call = self.relay(action)
        else:
            key = self.actor(holder, actor)
            authority = self.authority_of_key(key)
            expected = None if authority and self.acts_for(held.issuer, authority) else "IdentityNotHolderOrIssuer"
            if expected is None and pending is None:
                expected = "IdentityNoRecovery"
            call = lambda: self.registry.cancel_recovery(holder, sender=key)  # noqa: E731
        if self.attempt(expected, call):
            self.drop(holder)

    @rule(index=holders, reason=reasons)
    def theft_reported(self, index: int, reason: SuspensionReason) -> None:
        """The incident procedure: the resident reports her phone stolen at the bureau, which
        suspends her identity and starts recovering it to her new phone's wallet."""
        self.suspend_or_reinstate(index, "issuer", True, reason, False)
        self.request_recovery(index, "issuer", "fresh", False)

    @rule(index=holders)
    def thief_strikes(self, index: int) -> None:
        """A thief with the old key of a holder the bureau is recovering tries to move it away."""
        holder = self.current[index]
        if holder not in self.pending or self.held[holder].status is not Status.SUSPENDED:
            return
        action = self.registry.typed_rotate(holder, self.fresh_wallet(), deadline=self.deadline())
        self.attempt("IdentityHolderSuspended", self.relay(action))
        objection = self.registry.typed_cancel_recovery(holder, deadline=self.deadline())
        self.attempt("IdentityHolderSuspended", self.relay(objection))

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
            "nonce": held.consent_nonce,
            "deadline": self.deadline(),
        }
        action = TypedAction(self.registry.domain(), "GrantConsent", message)
        if self.attempt(expected, self.relay(action)):
            self.consents[holder] = until
            held.consent_nonce += 1
        assert self.registry.consent_until(holder, self.world.relying_party) == self.consents.get(holder, 0)

    @rule(index=holders, old=olds)
    def withdraw_consent(self, index: int, old: bool) -> None:
        holder = self.wallet(index, old)
        held = self.held[holder]
        action = self.registry.typed_withdraw_consent(holder, self.world.relying_party, deadline=self.deadline())
        if self.attempt(self.holder_error(held, bound=False), self.relay(action)):
            self.consents[holder] = 0
            held.consent_nonce += 1
        assert self.registry.consent_until(holder, self.world.relying_party) == self.consents.get(holder, 0)

    @rule(index=holders, old=olds)
    def cancel_signatures(self, index: int, old: bool) -> None:
        holder = self.wallet(index, old)
        held = self.held[holder]
        # Signed before the cancellation, with the same key nonce, and never submitted.
        unused = self.registry.typed_rotate(holder, self.fresh_wallet(), deadline=self.deadline())
        unused_signed = unused.sign(self.keys[holder])
        action = self.registry.typed_cancel_signatures(holder, deadline=self.deadline())
        if self.attempt(self.holder_error(held, bound=False), self.relay(action)):
            held.nonce += 1
            # Straight to the contract (relay() would refuse the stale nonce itself); a rotation
            # is refused for what forbids it first, else for its spent nonce.
            self.attempt(self.rotation_error(holder) or "IdentityInvalidNonce", lambda: self.submit_raw(unused_signed))

    def rotation_error(self, holder: str) -> str | None:
        held = self.held[holder]
        expected = self.holder_error(held, bound=True)
        if expected is None and held.status is Status.SUSPENDED:
            expected = "IdentityHolderSuspended"
        if expected is None and holder in self.pending:
            expected = "IdentityRecoveryPending"
        return expected

    @rule(index=holders, old=olds, onto=targets)
    def rotate(self, index: int, old: bool, onto: str) -> None:
        holder = self.wallet(index, old)
        new_holder = self.target(index, onto)
        expected = self.rotation_error(holder)
        if expected is None and self.held[new_holder].status is not Status.NONE:
            expected = self.taken_error(self.held[new_holder])
        action = self.registry.typed_rotate(holder, new_holder, deadline=self.deadline())
        if self.attempt(expected, self.relay(action)):
            self.move(holder, new_holder)
            # Consents stay with the old wallet (where they no longer matter).
            assert self.registry.consent_until(new_holder, self.world.relying_party) == 0
            assert self.registry.consent_until(holder, self.world.relying_party) == self.consents.get(holder, 0)

    def move(self, holder: str, new_holder: str) -> None:
        """The identity moves: the new wallet gets the record (with its own nonces), the old a tombstone."""
        held, target = self.held[holder], self.held[new_holder]
        self.held[new_holder] = replace(held, nonce=target.nonce, consent_nonce=target.consent_nonce)
        held.status, held.commitment, held.issuer = Status.MOVED, bytes(32), None
        self.assert_wallet_matches(holder, self.now())
        assert self.registry.successor_of(holder) == new_holder
        for slot, wallet in enumerate(self.current):
            if wallet == holder:
                self.current[slot], self.retired[slot] = new_holder, holder

    # ------------------------------------------------------------- invariant

    def assert_wallet_matches(self, holder: str, now: int) -> None:
        """The wallet's stored record, and what the relying party would learn from a check now."""
        held, functions = self.held[holder], self.registry.contract.functions
        commitment, issuer, expires_at, level, status, changed_at = functions.identityOf(holder).call()
        shown_issuer = None if held.status in (Status.MOVED, Status.RESERVED) else held.issuer
        assert (Status(status), _address_or_none(issuer), Level(level)) == (held.status, shown_issuer, held.level)
        assert (expires_at, bytes(commitment), changed_at) == (held.expires_at, held.commitment, held.changed_at)
        assert functions.nonceOf(holder).call() == held.nonce
        assert functions.consentNonceOf(holder, self.world.relying_party).call() == held.consent_nonce
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

    @invariant()
    def recoveries_win(self) -> None:
        """Every pending recovery's target is reserved for it, its holder still holds the
        identity, and once ready the bureau that asked (with the same key) can complete it."""
        for holder, pending in self.pending.items():
            recovery = self.registry.recovery(holder)
            assert (recovery.new_holder, recovery.ready_at) == (pending.new_holder, pending.ready_at)
            assert self.held[pending.new_holder].status is Status.RESERVED
            assert self.registry.status(pending.new_holder).status is Status.RESERVED
            assert self.held[holder].status in (Status.ACTIVE, Status.SUSPENDED, Status.REVOKED)
            record = self.authorities[pending.authority]
            fresh = record.level is not None and record.serial == pending.serial
            if fresh and self.held[holder].status is not Status.REVOKED and self.now() >= pending.ready_at:
                # As a call: nothing is mined, the model stays as it is.
                self.registry.contract.functions.completeRecovery(holder).call({"from": record.key})


def _address_or_none(value: str) -> str | None:
    return None if int(value, 16) == 0 else value


class TestIdentityLifecycle(IdentityLifecycle.TestCase):  # type: ignore[valid-type,misc]
    settings = hypothesis_settings(
        IdentityLifecycle.TestCase.settings, max_examples=15, stateful_step_count=15, deadline=None
    )

    @classmethod
    def setUpClass(cls) -> None:
        deployed()

    @classmethod
    def tearDownClass(cls) -> None:
        anvil().stop()
        anvil.cache_clear()
        deployed.cache_clear()
