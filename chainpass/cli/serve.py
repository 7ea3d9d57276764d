"""`chainpass serve`: the web service (docs/web.md): a GS1-Conformant Resolver for every
passport's Digital Link, the passport page, and the passports' EPCIS events, over the
deployment the other commands use, reading journeys through the local trace index."""

from __future__ import annotations

import contextlib

import click
import uvicorn

from chainpass.cli.common import settings
from chainpass.passport import ProductPassports
from chainpass.web.app import create_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


@click.command("serve")
@click.option("--host", default=DEFAULT_HOST, show_default=True,
              help="The address to listen on; 0.0.0.0 exposes the service to the network.")  # fmt: skip
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option("--resolver-url", help="Where the public reaches the service, e.g. https://id.example.org: the links "
              "it gives point there [default: http://HOST:PORT].")  # fmt: skip
def serve(host: str, port: int, resolver_url: str | None) -> None:
    """Serve the resolver and the passport pages until Ctrl-C. Journeys are read through the
    trace index in HOME/index (created and brought up to date at start, and before each read)."""
    options = settings()
    passports = options.client(ProductPassports)
    root = resolver_url or f"http://{host}:{port}"
    app = create_app(passports, resolver_url=root, index_location=options.index_location(passports))
    click.echo(
        f"Serving the passports of {passports.address} on http://{host}:{port}; links point at {root}. "
        f"Try {root}/.well-known/gs1resolver; Ctrl-C stops it."
    )
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    # uvicorn stops gracefully on Ctrl-C (or SIGTERM), then raises the signal again: Ctrl-C
    # ends here, as asked; SIGTERM ends the process as its default does.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    click.echo("Stopped.")
