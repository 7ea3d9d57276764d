"""The web service for the web tests (tests/test_web_resolver.py, tests/test_web_pages.py,
tests/test_web_browser.py, tests/test_passport_metadata.py): a uvicorn server on 127.0.0.1 in
a thread of the test process, over a deployment on the test's chain, with its own trace index
(``serving``, and the module fixture ``served`` with its per-test view ``web``, through
conftest's ``pytest_plugins``); and a client of it that does not follow redirects."""

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
def serving(chain: Chain, deployment: Deployment, folder: Path) -> Iterator[str]:
    """The web service over ``deployment`` on ``chain``, served by uvicorn on 127.0.0.1 (a free
    port) in a thread until the block ends, with its index in ``folder``: its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    passports = ProductPassports.from_deployment(chain, deployment)
    app = create_app(passports, resolver_url=base, index_path=folder / "index.sqlite")
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


@pytest.fixture(scope="module")
def served(world_session: World, orgs_setup: Orgs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The service over the module's world, with the passport organisations (one a module:
    tests take it as :func:`web`)."""
    with serving(world_session.chain, world_session.deployment, tmp_path_factory.mktemp("web")) as base:
        yield Served(base)


@pytest.fixture
def web(served: Served, world: World) -> Served:
    """The service, for a test isolated by the world's snapshot."""
    return served
