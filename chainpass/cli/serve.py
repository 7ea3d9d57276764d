"""`chainpass serve`: the web service (docs/web.md): a GS1-Conformant Resolver for every
passport's Digital Link, the passport page, and the passports' EPCIS events, over the
deployment the other commands use, reading journeys through the local trace index."""

from __future__ import annotations

import contextlib

import click
import uvicorn

from chainpass.cli.common import settings
from chainpass.deployment import load_deployment
from chainpass.errors import InvalidInput
from chainpass.identity import IdentityRegistry
from chainpass.passport import ProductPassports
from chainpass.web.app import create_app
from chainpass.web.desk import Desk
from chainpass.web.operators import Operators, operators_path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


@click.command("serve")
@click.option("--host", default=DEFAULT_HOST, show_default=True,
              help="The address to listen on; 0.0.0.0 exposes the service to the network.")  # fmt: skip
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option("--resolver-url", help="Where the public reaches the service, e.g. https://id.example.org: the links "
              "it gives point there [default: http://HOST:PORT].")  # fmt: skip
@click.option("--desk-as", "desk_as", metavar="ACCOUNT", help="Serve the verification desk at /desk for the relying "
              "party ACCOUNT (a keystore account or a dev account, as --account), whose audited checks it sends; "
              "its operators are those of `chainpass desk add-operator`. Off without it.")  # fmt: skip
def serve(host: str, port: int, resolver_url: str | None, desk_as: str | None) -> None:
    """Serve the resolver and the passport pages until Ctrl-C. Journeys are read through the
    trace index in HOME/index (created and brought up to date at start, and before each read)."""
    options = settings()
    passports = options.client(ProductPassports)
    root = resolver_url or f"http://{host}:{port}"
    desk = None
    if desk_as is not None:
        chain = passports.chain
        registry = IdentityRegistry.from_deployment(chain, load_deployment(chain, options.store))
        desk = Desk(registry, options.sender(chain, desk_as), Operators(operators_path(options.home)))
        if not registry.relying_party(desk.address).active:
            raise InvalidInput(f"{desk.address} is not an appointed relying party: the desk's checks would be refused.")
        if not desk.operators.all():
            raise InvalidInput("The desk has no operator yet: add one with `chainpass desk add-operator NAME`.")
    app = create_app(
        passports,
        resolver_url=root,
        index_location=options.index_location(passports),
        desk=desk,
        anchors=options.anchors(passports.chain),
    )
    click.echo(
        f"Serving the passports of {passports.address} on http://{host}:{port}; links point at {root}. "
        f"Try {root}/.well-known/gs1resolver; Ctrl-C stops it."
    )
    if desk is not None:
        click.echo(f"The verification desk is at {root}/desk, checking as relying party {desk.address}.")
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    # uvicorn stops gracefully on Ctrl-C (or SIGTERM), then raises the signal again: Ctrl-C
    # ends here, as asked; SIGTERM ends the process as its default does.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    click.echo("Stopped.")
