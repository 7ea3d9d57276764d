"""The web service for the web tests (tests/test_web_resolver.py, tests/test_web_pages.py,
tests/test_web_browser.py): a uvicorn server on 127.0.0.1 in a thread of the test process,
over a deployment on the test's chain, with its own trace index; and a client of it that
does not follow redirects."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import uvicorn
from accounts import World
from passport_world import Orgs

from chainpass.anchor import EventAnchors
from chainpass.chain import Chain
from chainpass.deployment import Deployment
from chainpass.node import free_port
from chainpass.passport import ProductPassports
from chainpass.web.app import create_app
from chainpass.web.desk import Desk


class Served:
    """The service on 127.0.0.1: its base URL, and GETs that do not follow redirects."""

    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str, **options: object) -> requests.Response:
        return requests.get(self.base + path, allow_redirects=False, timeout=60, **options)  # type: ignore[arg-type]


@contextmanager
def serving(
    chain: Chain,
    deployment: Deployment,
    folder: Path,
    desk: Desk | None = None,
    *,
    index_location: Path | str | None = None,
) -> Iterator[str]:
    """The web service over ``deployment`` on ``chain`` (its passports and anchors), served by
    uvicorn on 127.0.0.1 (a free port) in a thread until the block ends, with its index in ``folder`` (or at
    ``index_location``: a PostgreSQL server's URL), and the verification desk ``desk`` if
    given: its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    passports = ProductPassports.from_deployment(chain, deployment)
    location = index_location or folder / "index.sqlite"
    anchors = EventAnchors.from_deployment(chain, deployment)
    app = create_app(passports, resolver_url=base, index_location=location, desk=desk, anchors=anchors)
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


@dataclass
class Process:
    """``chainpass serve`` run as a process: its base URL, the first answer it gave (to a GET
    of the probe path), and once it stopped its exit code and output."""

    base: str
    first: requests.Response
    returncode: int | None = None
    out: bytes = b""
    err: bytes = b""


@contextmanager
def serve_process(*args: str, probe: str) -> Iterator[Process]:
    """``chainpass ARGS serve --port P`` (P free) as a process until the block ends, then
    interrupted (Ctrl-C); it is ready once a GET of ``probe`` answers (its start-up syncs the index)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-c", "from chainpass.cli import main; main()", *args, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "chainpass serve did not answer"
            try:
                served = Process(base, requests.get(base + probe, timeout=5))
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        yield served
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    served.returncode, served.out, served.err = process.returncode, out, err
