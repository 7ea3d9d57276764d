"""`chainpass brand`: a brand's codes are its own.

A registrar (a GS1 member organisation, role ``registrar``) registers a GS1 company prefix
(4 to 12 digits) to the verified organisation GS1 licensed it to, the brand; only the brand
and the manufacturers it licenses (for the whole prefix or single GTINs) commission codes
under it. ``brand show`` answers who owns a code's prefix, and whether an organisation may
commission it.
"""

from __future__ import annotations

from typing import Any

import click
from biip.checksums import gs1_standard_check_digit

from chainpass.cli.common import (
    AddressType,
    account_option,
    acting_on,
    emit,
    json_option,
    report,
    settings,
    unchanged,
)
from chainpass.passport import Brand, ProductPassports
from chainpass.standards.gs1 import ProductKey, parse_code

#: Where a brand's licence is granted, for the hint of `brand show`.
_LICENSE_HINT = "the brand licenses it with `chainpass brand license {prefix} {org}`"


def _is_prefix(text: str) -> bool:
    """Whether ``text`` reads as a GS1 company prefix (4 to 12 digits), not as a code."""
    value = text.strip()
    return value.isascii() and value.isdigit() and 4 <= len(value) <= 12


def _probe(prefix: str) -> ProductKey:
    """The first item code under ``prefix`` (indicator 0, zeros, its check digit): the
    brand of a prefix is the brand of any code under it, as prefixes never nest."""
    body = "0" + prefix.strip().ljust(12, "0")
    return ProductKey.item(body + str(gs1_standard_check_digit(body)), "0")


@click.group()
def brand() -> None:
    """Brands own their codes: GS1 company prefixes, their brands and licences."""


@brand.command("register")
@click.argument("prefix")
@click.argument("licensee", type=AddressType("licensee"))
@account_option
@json_option
def register(prefix: str, licensee: str, account: str, as_json: bool) -> None:
    """Register GS1 company PREFIX to LICENSEE, the brand GS1 licensed it to (a registrar's
    act; the brand is an organisation with its passport roles). From then on only the brand
    and the manufacturers it licenses commission codes under PREFIX."""
    passports, sender = acting_on(ProductPassports, account)
    receipt = passports.register_prefix(prefix, licensee, sender=sender)
    report(f"GS1 company prefix {prefix} is registered to {licensee}: only it, and whom it licenses, commission "
           "codes under it", receipt, as_json, prefix=prefix, licensee=licensee)  # fmt: skip


@brand.command("revoke")
@click.argument("prefix")
@account_option
@json_option
def revoke(prefix: str, account: str, as_json: bool) -> None:
    """Revoke the registration of GS1 company PREFIX (a registrar's act): nothing more is
    commissioned under it; the passports commissioned under it stay genuine."""
    passports, sender = acting_on(ProductPassports, account)
    receipt = passports.revoke_prefix(prefix, sender=sender)
    report(f"GS1 company prefix {prefix} is revoked: nothing more is commissioned under it (what was stays genuine)",
           receipt, as_json, prefix=prefix, registered=False)  # fmt: skip


@brand.command("license")
@click.argument("prefix")
@click.argument("manufacturer", type=AddressType("manufacturer"))
@click.option("--gtin", help="License this GTIN under PREFIX only [default: the whole prefix].")
@click.option("--revoke", "revoked", is_flag=True, help="Revoke the licence instead of granting it.")
@account_option
@json_option
def license_(prefix: str, manufacturer: str, gtin: str | None, revoked: bool, account: str, as_json: bool) -> None:
    """License MANUFACTURER to commission codes under GS1 company PREFIX, or under one
    --gtin of it (the brand's act); --revoke takes the licence back (what it made stays
    genuine)."""
    passports, sender = acting_on(ProductPassports, account)
    _refuse_unchanged_licence(passports, prefix, manufacturer, gtin, revoked)
    receipt = passports.set_licence(prefix, manufacturer, gtin=gtin, granted=not revoked, sender=sender)
    scope = f"GTIN {gtin} of prefix {prefix}" if gtin else f"GS1 company prefix {prefix}"
    what = (f"{manufacturer} may no longer commission under {scope}" if revoked
            else f"{manufacturer} may now commission under {scope}")  # fmt: skip
    report(what, receipt, as_json, prefix=prefix, manufacturer=manufacturer, gtin=gtin, granted=not revoked)


def _refuse_unchanged_licence(
    passports: ProductPassports, prefix: str, manufacturer: str, gtin: str | None, revoked: bool
) -> None:
    """Refuse a licence grant or revocation that would change nothing. The contract answers
    whether a manufacturer may commission a GTIN by its prefix licence *or* its GTIN licence:
    a GTIN licence is known to exist when the GTIN is licensed but the prefix is not, and
    known not to exist when neither is; otherwise the transaction is sent (and a prefix that
    is not registered, or a GTIN not under it, is left to the contract's own refusal)."""
    if revoked:
        registered = passports.brand_of(_probe(prefix)) if _is_prefix(prefix) else None
        if registered is None or registered.prefix != prefix.strip():
            return
    whole = passports.is_licensed(prefix, manufacturer)
    if gtin is None:
        if whole and not revoked:
            unchanged(f"{manufacturer} may commission under GS1 company prefix {prefix} already")
        if not whole and revoked:
            unchanged(f"{manufacturer} holds no licence for GS1 company prefix {prefix}")
        return
    one = passports.is_licensed(prefix, manufacturer, gtin=gtin)
    if one and not whole and not revoked:
        unchanged(f"{manufacturer} holds a licence for GTIN {gtin} of prefix {prefix} already")
    if not one and revoked:
        unchanged(f"{manufacturer} holds no licence for GTIN {gtin} of prefix {prefix}")


@brand.command("show")
@click.argument("code_or_prefix")
@click.option("--tier", type=click.IntRange(0, 3), default=0, show_default=True,
              help="Read a code as a container's: 1 case, 2 pallet, 3 shipping container.")  # fmt: skip
@click.option("--org", type=AddressType("organisation"), help="Also say whether this organisation may commission it.")
@click.option("--gtin", help="With a PREFIX and --org: ask about this GTIN under it.")
@json_option
def show(code_or_prefix: str, tier: int, org: str | None, gtin: str | None, as_json: bool) -> None:
    """Who owns CODE_OR_PREFIX: the brand its GS1 company prefix is registered to (give a
    code, or a prefix of 4 to 12 digits), and with --org whether that organisation may
    commission it (as the brand, or by its licence)."""
    passports = settings().client(ProductPassports)
    asked_prefix = _is_prefix(code_or_prefix)
    key = _probe(code_or_prefix) if asked_prefix else parse_code(code_or_prefix, container_tier=tier)
    found = passports.brand_of(key)
    prefix = code_or_prefix.strip() if asked_prefix else None
    if found is not None and prefix is not None and len(found.prefix) > len(prefix):
        found = None  # a longer prefix inside the one asked about is registered, not this one
    what = f"GS1 company prefix {prefix}" if prefix else str(key)
    data: dict[str, Any] = {"asked": code_or_prefix, "brand": found.to_json() if found else None}
    if prefix is None:
        data["code"] = str(key)
    licensed = None
    if org is not None and found is not None:
        if gtin is None and prefix is None and key.gtin:
            gtin = key.gtin14
        licensed = passports.is_licensed(found.prefix, org, gtin=gtin)
        data.update(org=org, licensed=licensed, gtin=gtin)
    elif org is not None:
        data.update(org=org, licensed=False, gtin=gtin)
    emit(data, lambda: _human(what, prefix, found, org, licensed), as_json)


def _human(what: str, prefix: str | None, found: Brand | None, org: str | None, licensed: bool | None) -> str:
    if found is None:
        return (f"{what}: no brand is registered for it, so nothing can be commissioned under it until a registrar "
                "registers the prefix (`chainpass brand register PREFIX LICENSEE`).")  # fmt: skip
    if prefix == found.prefix:
        line = f"{what}: registered to the brand {found.licensee}"
    else:
        line = (
            f"{what}: {'inside ' if prefix else ''}GS1 company prefix {found.prefix}, registered to the brand "
            f"{found.licensee}"
        )
    if org is None:
        return line + "."
    if org == found.licensee:
        return line + f"; {org} is the brand itself and may commission under it."
    if licensed:
        return line + f"; {org} holds the brand's licence for it."
    return line + f"; {org} is not licensed for it: " + _LICENSE_HINT.format(prefix=found.prefix, org=org) + "."
