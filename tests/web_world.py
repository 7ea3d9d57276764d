"""The web service for the web tests (tests/test_web_resolver.py, tests/test_web_pages.py,
tests/test_web_browser.py): a uvicorn server on 127.0.0.1 in a thread of the test process,
over a deployment on the test's chain, with its own trace index; and a client of it that
does not follow redirects."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import uvicorn
from accounts import World
from passport_world import Orgs

from chainpass.chain import Chain
from chainpass.deployment import Deployment
from chainpass.node import free_port
from chainpass.passport import ProductPassports
from chainpass.web.app import create_app


class Served:
    """The service on 127.0.0.1: its base URL, and GETs that do not follow redirects."""

    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str, **options: object) -> requests.Response:
        return requests.get(self.base + path, allow_redirects=False, timeout=60, **options)  # type: ignore[arg-type]


@contextmanager
def serving(
    chain: Chain, deployment: Deployment, folder: Path, *, index_location: Path | str | None = None
) -> Iterator[str]:
    """The web service over ``deployment`` on ``chain``, served by uvicorn on 127.0.0.1 (a free
    port) in a thread until the block ends, with its index in ``folder`` (or at
    ``index_location``: a PostgreSQL server's URL): its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    passports = ProductPassports.from_deployment(chain, deployment)
    app = create_app(passports, resolver_url=base, index_location=index_location or folder / "index.sqlite")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:  # its start-up: the index synced, the socket bound
        assert thread.is_alive() and time.monotonic() < deadline, "the web service did not start"
        time.sleep(0.01)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    assert not thread.is_alive()


@pytest.fixture(scope="module", name="served")
def served_fixture(
    world_session: World, orgs_setup: Orgs, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The service over the module's chain, for the module: ``served`` (a module imports
    ``served_fixture`` and ``web_fixture`` to have them)."""
    with serving(world_session.chain, world_session.deployment, tmp_path_factory.mktemp("web")) as base:
        yield Served(base)


@pytest.fixture(name="web")
def web_fixture(served: Served, world: World) -> Served:
    """The service, for a test isolated by the world's snapshot: ``web``."""
    return served
