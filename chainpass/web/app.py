"""The web service: a GS1-Conformant Resolver for every passport's Digital Link, the passport
page a shopper sees after scanning a code, and the passport's EPCIS 2.0 events (docs/web.md).

:func:`create_app` makes the Starlette (ASGI) application over a :class:`ProductPassports`
client; ``chainpass serve`` runs it with uvicorn. Reads are single calls to the contract
(``passportOf``, ``verdictOf``); journeys come from the local :class:`TraceIndex`, which the
service opens (creating it if need be) and brings up to date with the chain before every read
of logs, so no request scans the chain's logs. The chain and the index are used from one
worker thread (neither is made for threads); the event loop only parses and renders. An
answer is given again, without the index or a template, while the chain's head stays the block
it was made at (:mod:`chainpass.web.cache`): a crowd of requests costs one read of the head.

The pages are in the reader's language (:mod:`chainpass.web.wording`): ``?lang=`` (the
switcher's links, remembered in a cookie), else that cookie, else ``Accept-Language``; the
choice holds for the whole request (a context variable, carried into the worker thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import aiohttp
import jinja2
import requests
from hexbytes import HexBytes
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from web3.exceptions import TransactionNotFound
from web3.logs import DISCARD

from chainpass.anchor import EventAnchors
from chainpass.backend import NoAnswer, NodeBackend, as_int
from chainpass.enums import BizStep
from chainpass.epcis_export import export
from chainpass.errors import ChainpassError, InvalidInput
from chainpass.evidence import AnchoredEvent, evidence_of
from chainpass.index import TraceIndex
from chainpass.passport import ProductPassports
from chainpass.standards.gs1 import ProductKey, check_resolver
from chainpass.trace import TRACED_EVENTS, TraceEntry
from chainpass.web import drawing, resolver
from chainpass.web.cache import CachedAnswers, Head
from chainpass.web.desk import Desk
from chainpass.web.metadata import metadata, read_id
from chainpass.web.product import LAST_PAGE, Product, product, read_page
from chainpass.web.resolver import LINK_TYPES, LINKSET_TYPE, PIP, PRIMARY_KEYS, Level
from chainpass.web.wording import (
    LANGUAGES,
    Language,
    _,
    event_words,
    evidence_words,
    iso,
    language_of,
    load_catalogues,
    moment,
    negotiate,
    preferences,
    speak,
    speaking,
    step_words,
    translations,
    verdict_words,
)

#: The methods every resolver path answers (GS1-Conformant Resolver Standard: GET, HEAD, OPTIONS).
ALLOW = "GET, HEAD, OPTIONS"
#: CORS: any web page may read the resolver's answers, and the headers that carry its facts.
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": ALLOW,
    "Access-Control-Allow-Headers": "Accept, Accept-Language",
    "Access-Control-Expose-Headers": "Link, Location",
}
#: A transaction hash, as the passport page links it.
_TX_HASH = re.compile(r"0x[0-9a-f]{64}")
#: The media type of the EPCIS export (JSON-LD).
EPCIS_TYPE = "application/ld+json"
#: The cookie that keeps a reader's choice of language (the switcher's ``?lang=``) for a year.
LANGUAGE_COOKIE = "chainpass_lang"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
log = logging.getLogger("chainpass.web")
T = TypeVar("T")
#: The request being answered, as the switcher's links repeat it: its path (percent-encoded as
#: it came) and its query string.
_ASKED: ContextVar[tuple[str, str]] = ContextVar("chainpass_web_asked", default=("/", ""))
#: The reader's languages, best first (BCP 47 tags): the one chosen on a page (``?lang=`` or its
#: cookie) if any, then ``Accept-Language``'s; the resolver picks a link by them.
_WANTED: ContextVar[tuple[str, ...]] = ContextVar("chainpass_web_wanted", default=())
#: What a resolver's answer depends on besides its address: the media type asked for, and the
#: reader's language (the linkset's titles; the link a redirect picks), chosen as the pages do.
RESOLVER_VARY = ("Accept", "Accept-Language", "Cookie")


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("chainpass.web", "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    # The reader's language is chosen per request: the callables look it up when called.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_,
        ngettext=lambda singular, plural, n: translations(speaking()).ngettext(singular, plural, n),
        newstyle=True,
    )
    return env


def _titles() -> dict[str, str]:
    """The titles of a passport's links in the reader's language, by link type: the linkset's
    and the passport page's."""
    return {
        "pip": _("Passport: is it genuine, and its journey"),
        "traceability": _("Its events, as EPCIS 2.0"),
        "certificationInfo": _("Its inspections, with their certificates' hashes"),
    }


def _product_title() -> str:
    """The title of a product's link (the product level of the linkset), in the reader's language."""
    return _("The product: its brand, and its passports")


class _HttpMiddleware:
    """An ASGI middleware that sees HTTP requests (:meth:`http`) and passes anything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class _Cors(_HttpMiddleware):
    """Adds the CORS headers to every answer."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in CORS_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, with_cors)


class _Languages(_HttpMiddleware):
    """Chooses the language of the answer: ``?lang=`` (a code or a tag, kept in a cookie for the
    next pages), else the cookie, else ``Accept-Language``; says it in ``Content-Language`` and
    ``Vary`` on the pages and the linkset (the answers in words)."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        http = Request(scope)
        asked = http.query_params.get("lang")
        chosen = language_of(asked) if asked else None
        kept = http.cookies.get(LANGUAGE_COOKIE)
        picked = chosen or (language_of(kept) if kept else None)
        ranked = preferences(http.headers.get("accept-language", ""))
        language = picked or negotiate(ranked)
        # Set for the rest of this request's task, not reset on the way out: the 500 page is
        # rendered outside this middleware (Starlette's ServerErrorMiddleware), in the same task.
        speak(language)
        _WANTED.set(((picked.tag,) if picked else ()) + tuple(ranked))
        _ASKED.set((_raw_path(http, ""), scope.get("query_string", b"").decode("latin-1")))

        async def with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith(("text/html", LINKSET_TYPE)):
                    headers["Content-Language"] = language.tag
                    _vary(headers, "Accept-Language", "Cookie")
                if chosen is not None:
                    cookie = f"{LANGUAGE_COOKIE}={chosen.code}; Max-Age={LANGUAGE_COOKIE_AGE}"
                    headers.append("Set-Cookie", cookie + "; Path=/; SameSite=Lax; HttpOnly")
            await send(message)

        await self.app(scope, receive, with_language)


def _vary(headers: MutableHeaders, *names: str) -> None:
    """``names`` added to the answer's ``Vary``, each once."""
    present = {name.strip().lower() for name in headers.get("vary", "").split(",")}
    for name in names:
        if name.lower() not in present:
            headers.add_vary_header(name)
            present.add(name.lower())


def _switch(language: Language) -> list[tuple[Language, str | None]]:
    """The switcher's entries: each language with the link to this page in it (``None`` for
    the one it is in): the same path and query, ``lang`` replaced."""
    path, query = _ASKED.get()
    path = "/" + path.lstrip("/")  # never a link to another host (``//host/…``)
    pairs = [(name, value) for name, value in parse_qsl(query, keep_blank_values=True) if name != "lang"]
    return [
        (other, None if other == language else path + "?" + urlencode([*pairs, ("lang", other.code)]))
        for other in LANGUAGES
    ]


class Service:
    """What the routes share: the passports client, the public root of the links, the trace
    index, and the one worker thread that touches the chain and the index."""

    def __init__(
        self, passports: ProductPassports, root: str, index_location: Path | str, anchors: EventAnchors | None
    ) -> None:
        self.passports = passports
        self.root = root
        self.index_location = index_location
        #: The deployment's anchors, whose logs the index follows too (anchored events: chainpass.evidence).
        self.anchors = anchors
        self.index: TraceIndex | None = None
        #: The read of the chain's head under way, and the one that will start after it
        #: (:meth:`fresh_head`): answers are kept under the head (chainpass.web.cache).
        self._head_read: asyncio.Future[Head] | None = None
        self._next_head: asyncio.Future[Head] | None = None
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chainpass-web")
        backend = passports.chain.backend
        #: Where the head is read: on a node, over HTTP from the event loop itself (no thread,
        #: whose every step took the interpreter's lock from the loop, and less than half the
        #: CPU a read: docs/web.md "Under load"); on the embedded chain, in the worker.
        self.node_url = backend.endpoint if isinstance(backend, NodeBackend) else None
        self.node_timeout = backend.timeout if isinstance(backend, NodeBackend) else 0.0
        self.head_session: aiohttp.ClientSession | None = None
        self.head_rpc = backend.rpc()
        self.templates = _templates()

    async def run(self, work: Callable[[], T]) -> T:
        """``work`` done in the worker thread; the chain or the index out of reach is a 503."""
        context = contextvars.copy_context()  # the reader's language goes along
        try:
            return await asyncio.get_running_loop().run_in_executor(self.worker, context.run, work)
        except (ChainpassError, requests.exceptions.RequestException, OSError) as exc:
            log.warning("the chain could not be read: %s", exc)
            raise HTTPException(503) from None

    def open(self) -> None:
        """Open (or create) the trace index and bring it up to date: in the worker."""
        self.index = TraceIndex.for_client(self.passports, self.index_location, anchors=self.anchors)
        self.passports.log_source = self.index
        self.index.sync()

    def close(self) -> None:
        if self.index is not None:
            self.passports.log_source = None
            self.index.close()
            self.index = None

    def read_head(self) -> Head:
        """The chain's head block now (in the worker: the embedded chain)."""
        return _head(self.head_rpc.call("eth_getBlockByNumber", ["latest", False]))

    def open_head_session(self) -> None:
        """The HTTP session the head is read on, on a node (in the event loop, at start)."""
        if self.node_url is not None:
            timeout = aiohttp.ClientTimeout(total=self.node_timeout)
            # trust_env: the proxy settings of the environment, as the service's other reads.
            self.head_session = aiohttp.ClientSession(timeout=timeout, trust_env=True)

    async def run_head(self) -> Head:
        if self.head_session is None or self.node_url is None:
            return await self.run(self.read_head)
        asked = {"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber", "params": ["latest", False]}
        try:
            async with self.head_session.post(self.node_url, json=asked) as reply:
                if reply.status >= 500 or reply.status == 429:
                    raise NoAnswer(f"HTTP {reply.status}")
                answer = await reply.json(content_type=None)
            return _head(answer["result"])
        except (aiohttp.ClientError, TimeoutError, NoAnswer, ValueError, KeyError, TypeError) as exc:
            log.warning("the chain could not be read: %s", type(exc).__name__ + (f": {exc}" if str(exc) else ""))
            raise HTTPException(503) from None

    async def fresh_head(self) -> Head:
        """The chain's head, read after this call (so an answer kept under it is as fresh as
        the request): callers that come while a read is under way share the next one, so a
        crowd of requests costs one read of the head, not one each."""
        if self._next_head is None:
            self._next_head = asyncio.ensure_future(self._read_head_after(self._head_read))
        return await asyncio.shield(self._next_head)

    async def _read_head_after(self, previous: asyncio.Future[Head] | None) -> Head:
        if previous is not None:
            with contextlib.suppress(Exception):
                await previous  # it started before our callers came: read again after it
        self._head_read, self._next_head = self._next_head, None
        return await self.run_head()

    def synced(self) -> None:
        """The index up to date with the chain (new blocks, or a reorg), before logs are read."""
        assert self.index is not None
        self.index.sync()

    # ---------------------------------------------------------------- answers

    def linkset_link(self, request: resolver.Request) -> str:
        """The ``Link`` header that points at the linkset of ``request``'s Digital Link."""
        uri = self.root + request.uri_path
        target = uri + ("&" if "?" in uri else "?") + "linkType=linkset"
        return f'<{target}>; rel="linkset"; type="{LINKSET_TYPE}"'

    def page(self, template: str, http_status: int, headers: dict[str, str] | None = None, **values: Any) -> Response:
        language = speaking()
        html = self.templates.get_template(template).render(language=language, switch=_switch(language), **values)
        return HTMLResponse(html, status_code=http_status, headers=headers)

    def error(self, status: int, sentence: str, headline: str | None = None) -> Response:
        """An error as one sentence (no ``Link`` header: there is no linkset to point at)."""
        return self.page("error.html", status, status=status, sentence=sentence, headline=headline)

    def unknown_product(self, request: resolver.Request) -> Response:
        """A GTIN no brand registered the company prefix of: no product of this service."""
        return self.error(
            404,
            _(
                "No brand registered the GS1 company prefix of %(code)s here: the product is unknown, "
                "and may be counterfeit."
            )
            % {"code": self.root + request.uri_path},
            _("Unknown product"),
        )

    def unknown(self, request: resolver.Request) -> Response:
        """A code with no passport: what a shopper who scanned a counterfeit reads."""
        return self.error(
            404,
            _("No passport was ever registered under %(code)s: the product may be counterfeit.")
            % {"code": self.root + request.uri_path},
            _("Unknown code: possibly counterfeit"),
        )


def create_app(
    passports: ProductPassports,
    *,
    resolver_url: str,
    index_location: Path | str,
    desk: Desk | None = None,
    anchors: EventAnchors | None = None,
) -> Starlette:
    """The web service over ``passports``; its links point at ``resolver_url`` (where the
    public reaches it: ``https://`` and a domain, no path), and it keeps its trace index at
    ``index_location``, a SQLite file or a PostgreSQL URL (created if missing). With ``desk``,
    the verification desk is served under ``/desk`` (chainpass.web.desk); without, there is none.
    With ``anchors`` (the deployment's ``EventAnchor``), the passport page shows the anchored
    events the index was told (``chainpass index add-anchored``) beside the journey, as evidence."""
    root = check_resolver(resolver_url)
    if urlsplit(root).path:
        raise InvalidInput(f"The resolver URL {resolver_url!r} must be a domain with no path (https://id.example.org).")
    load_catalogues()
    service = Service(passports, root, index_location, anchors)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await service.run(service.open)
        service.open_head_session()
        try:
            yield
        finally:
            if service.head_session is not None:
                await service.head_session.close()
            await service.run(service.close)
            service.worker.shutdown()

    async def description(http: Request) -> Response:
        if http.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": ALLOW})
        body = {
            "name": _("chainpass product passports"),
            "resolverRoot": root,
            "supportedPrimaryKeys": list(PRIMARY_KEYS),
            "supportedLinkType": [{"namespace": resolver.GS1_VOC, "prefix": "gs1:"}],
            "linkTypeDefaultCanBeLinkset": False,
            "supportedContextValuesEnumerated": [],
        }
        headers = {"Vary": "Accept-Language, Cookie"}  # its name is in the reader's language
        return Response(json.dumps(body, indent=2), media_type="application/json", headers=headers)

    async def resolve(http: Request) -> Response:
        if http.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": ALLOW})
        try:
            request = resolver.read_request(root, _raw_path(http, ""), http.url.query)
        except InvalidInput as exc:
            return service.error(400, str(exc))
        response = await answer(http, request)
        same_as = request.same_as(root)  # a compressed request: which uncompressed URI it is
        if same_as is not None:
            response.headers.append("Link", same_as)
        return response

    async def answer(http: Request, request: resolver.Request) -> Response:
        """The resolver's answer to ``request``, compressed or not."""
        product = request.product

        def read() -> tuple[list[bool], bool]:
            found = [_exists(passports, level) for level in request.levels]
            return found, product is not None and passports.brand_of(product.gtin) is not None

        found, branded = await service.run(read)
        if request.levels and not found[0]:
            return service.unknown(request)
        if not request.levels and not branded:
            return service.unknown_product(request)
        titles = _titles()
        anchors = [
            (root + level.path, resolver.links_of(root, level, titles))
            for level, exists in zip(request.levels, found, strict=True)
            if exists
        ]
        if product is not None and branded:
            anchors.append((root + product.path, resolver.product_links(root, product, _product_title())))
        headers = {"Link": service.linkset_link(request), "Vary": ", ".join(RESOLVER_VARY)}
        links = anchors[0][1]
        if resolver.wants_linkset(request.link_type, http.headers.get("accept", "")):
            anchors[0] = (root + request.uri_path, links)  # the subject: the URI asked (with its data)
            body = json.dumps(resolver.linkset(anchors), indent=2, ensure_ascii=False)
            return Response(body, media_type=LINKSET_TYPE, headers=headers)
        link = resolver.chosen(links, request.link_type, _WANTED.get())
        target = resolver.redirect_target(link, request.passed_on)
        return RedirectResponse(target, status_code=307, headers=headers)

    async def passport_page(http: Request) -> Response:
        try:
            request = resolver.read_request(root, _raw_path(http, "/passport"), "")
        except InvalidInput as exc:
            return service.error(400, str(exc))
        if not request.levels:
            return await product_page(http, request)
        level = request.levels[0]

        def read() -> tuple[Any, list[drawing.Mark], str | None, drawing.Node | None, drawing.Facts | None]:
            service.synced()
            assert service.index is not None
            verdict = passports.verify(level.key)
            evidence = evidence_of(service.index, verdict.journey, verdict.id) if verdict.journey else []
            # In the chain's order; an anchored event after the steps at its anchor's position.
            journey: list[TraceEntry | AnchoredEvent] = sorted([*verdict.journey, *evidence], key=lambda e: e.position)
            keys = _keys(passports, journey, verdict.recall_source, verdict.id)
            names = _names(keys)
            times: dict[int, int] = {}
            for entry in journey:
                if entry.block_number not in times:
                    times[entry.block_number] = int(passports.chain.w3.eth.get_block(entry.block_number)["timestamp"])
            steps = [
                evidence_words(e, times[e.block_number], names)
                if isinstance(e, AnchoredEvent)
                else step_words(e, times[e.block_number], names)
                for e in journey
            ]
            marks = drawing.timeline(journey, steps)
            source = verdict.recall_source
            if verdict.producer is None:
                return verdict, marks, None, None, None
            tree = drawing.lineage(passports, verdict, root, keys)
            return (
                verdict,
                marks,
                names.get(source) if source not in (None, verdict.id) else None,
                tree,
                drawing.facts(passports, verdict),
            )

        verdict, marks, recall_source, tree, facts = await service.run(read)
        said = verdict_words(verdict, recall_source)
        status = 404 if verdict.producer is None else 200
        # The page is the default link: it lists the others.
        links = [] if status == 404 else list(resolver.links_of(root, level, _titles())[1:])
        return service.page(
            "passport.html",
            status,
            {"Link": service.linkset_link(request)} if status == 200 else None,
            code=str(level.key),
            digital_link=root + request.uri_path,
            said=said,
            verdict=verdict,
            marks=marks,
            tree=tree,
            facts=facts,
            product_href=(PIP.prefix + request.product.path) if request.product is not None and verdict.brand else None,
            links=links,
        )

    async def product_page(http: Request, request: resolver.Request) -> Response:
        """The page of a GTIN alone: its brand and its passports, a page at a time (``?page=``)."""
        top = request.product
        assert top is not None  # a request with no passport level names a GTIN
        try:
            page = read_page(http.query_params.get("page"))
        except ValueError:
            return service.error(400, _("The page must be a whole number from 1 to %(last)s.") % {"last": LAST_PAGE})

        def read() -> Product | None:
            service.synced()
            assert service.index is not None
            return product(passports, service.index, top.gtin, root, page)

        found = await service.run(read)
        if found is None:
            return service.unknown_product(request)
        if page > found.pages:
            return service.error(404, _("This product's list has %(pages)s pages.") % {"pages": found.pages})
        return service.page(
            "product.html",
            200,
            {"Link": service.linkset_link(request)},
            product=found,
            digital_link=root + request.uri_path,
            path=PIP.prefix + top.path,
        )

    async def epcis(http: Request) -> Response:
        try:
            request = resolver.read_request(root, _raw_path(http, "/epcis"), "")
        except InvalidInput as exc:
            return service.error(400, str(exc))
        if not request.levels:
            return service.unknown(request)
        id_ = ProductPassports.passport_id(request.levels[0].key)

        def read() -> dict[str, Any] | None:
            if not passports.exists(id_):
                return None
            service.synced()
            return export(passports, id_, evidence=service.index)

        document = await service.run(read)
        if document is None:
            return service.unknown(request)
        headers = {"Link": service.linkset_link(request)}
        return Response(json.dumps(document, indent=2), media_type=EPCIS_TYPE, headers=headers)

    async def certification(http: Request) -> Response:
        try:
            request = resolver.read_request(root, _raw_path(http, "/certification"), "")
        except InvalidInput as exc:
            return service.error(400, str(exc))
        if not request.levels:
            return service.unknown(request)
        key = request.levels[0].key
        id_ = ProductPassports.passport_id(key)

        def read() -> list[dict[str, Any]] | None:
            if not passports.exists(id_):
                return None
            service.synced()
            journey = passports.trace(id_)
            names = _codes(passports, journey, None, id_)
            return [_inspection(entry, names) for entry in journey if entry.details.get("biz_step") == "inspecting"]

        inspections = await service.run(read)
        if inspections is None:
            return service.unknown(request)
        body = {"code": str(key), "digital_link": root + request.uri_path, "inspections": inspections}
        headers = {"Link": service.linkset_link(request)}
        return Response(json.dumps(body, indent=2), media_type="application/json", headers=headers)

    async def token_metadata(http: Request) -> Response:
        """A passport's ERC-721 metadata JSON, where ``tokenURI`` points (chainpass.web.metadata)."""
        if http.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": ALLOW})
        try:
            id_ = read_id(http.path_params["id"])
        except InvalidInput as exc:
            return service.error(400, str(exc))

        def read() -> dict[str, Any] | None:
            service.synced()
            return metadata(passports, id_, root)

        body = await service.run(read)
        if body is None:
            return service.error(404, _("No passport has the id %(id)s.") % {"id": hex(id_)})
        return Response(json.dumps(body, indent=2), media_type="application/json")

    async def transaction(http: Request) -> Response:
        tx_hash = http.path_params["tx_hash"].lower()
        if not _TX_HASH.fullmatch(tx_hash):
            return service.error(
                400, _("%(hash)s is not a transaction hash: 0x and 64 hex digits.") % {"hash": tx_hash}
            )

        def read() -> dict[str, Any] | None:
            try:
                receipt = passports.chain.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                return None
            block = passports.chain.w3.eth.get_block(receipt["blockNumber"])
            events: list[tuple[str, str]] = []
            logged = [
                (log["logIndex"], name, log["args"])
                for name in TRACED_EVENTS
                for log in getattr(passports.contract.events, name)().process_receipt(receipt, errors=DISCARD)
            ]
            codes: dict[int, str] = {}
            for _index, name, args in sorted(logged, key=lambda each: each[0]):
                id_ = int(args["id"])
                if id_ not in codes:
                    key = passports.key_of(id_)
                    codes[id_] = str(key) if key is not None else hex(id_)
                step = BizStep(args["bizStep"]).label if "bizStep" in args else None
                events.append((event_words(name, step), codes[id_]))
            return {
                "tx_hash": tx_hash,
                "block": int(receipt["blockNumber"]),
                "when": moment(int(block["timestamp"])),
                "at": iso(int(block["timestamp"])),
                "sender": receipt["from"],
                "succeeded": receipt["status"] == 1,
                "events": events,
            }

        facts = await service.run(read)
        if facts is None:
            return service.error(404, _("This chain has no transaction %(hash)s.") % {"hash": tx_hash})
        return service.page("tx.html", 200, **facts)

    async def http_error(_request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        sentence = {
            404: _("There is nothing at this address: a product's address starts with /01/ and its GTIN."),
            405: _("This address answers GET, HEAD and OPTIONS only."),
            503: _("The chain cannot be read right now: try again in a moment."),
        }.get(status, _("This request cannot be answered."))
        return service.error(status, sentence)

    async def failure(_request: Request, _exc: Exception) -> Response:
        # Starlette logs the exception (never the request's body: the service reads none).
        return service.error(500, _("Something went wrong on this service: try again later."))

    routes = [
        Route("/.well-known/gs1resolver", description, methods=["GET", "HEAD", "OPTIONS"]),
        Route("/passport/{path:path}", passport_page, methods=["GET", "HEAD"]),
        Route("/epcis/{path:path}", epcis, methods=["GET", "HEAD"]),
        Route("/certification/{path:path}", certification, methods=["GET", "HEAD"]),
        Route("/tx/{tx_hash}", transaction, methods=["GET", "HEAD"]),
        Route("/metadata/{id}", token_metadata, methods=["GET", "HEAD", "OPTIONS"]),
        Route("/{path:path}", resolve, methods=["GET", "HEAD", "OPTIONS"]),
    ]
    if desk is not None:
        routes = desk.routes(service) + routes
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: failure},
    )
    app.add_middleware(_Languages)
    app.add_middleware(_Cors)
    app.add_middleware(CachedAnswers, head=service.fresh_head)  # outermost: answers kept whole
    return app


def _head(block: dict[str, Any]) -> Head:
    """A block as ``eth_getBlockByNumber`` gives it, as the head answers are kept under."""
    return Head(as_int(block["number"]), bytes(HexBytes(block["hash"])))


def _raw_path(http: Request, prefix: str) -> str:
    """The request's path as it came (percent-encoded: ``BAG%2F1`` stays one segment), less ``prefix``."""
    raw = http.scope.get("raw_path")
    path = raw.decode("ascii", "replace") if isinstance(raw, bytes) else http.url.path
    return path[len(prefix) :] if path.startswith(prefix) else path


def _exists(passports: ProductPassports, level: Level) -> bool:
    return passports.exists(ProductPassports.passport_id(level.key))


def _inspection(entry: TraceEntry, names: dict[int, str]) -> dict[str, Any]:
    """An inspecting event as the inspection record shows it: the result (its disposition),
    when, by whom, the certificate's hash (the document stays off chain), the transaction, and
    the passport it was recorded on when another (an input it was made from, or a container)."""
    on = entry.via_input or entry.via_container
    return {
        "result": entry.details.get("disposition"),
        "event_time": entry.details.get("event_time"),
        "inspector": entry.actor,
        "certificate_hash": entry.details.get("document_hash"),
        "tx_hash": entry.tx_hash,
        "block_number": entry.block_number,
        "recorded_on": names.get(on) if on is not None else None,
    }


def _keys(
    passports: ProductPassports, journey: Any, recall_source: int | None, own: int
) -> dict[int, ProductKey | None]:
    """The GS1 keys of the passports a journey reaches this one through (inputs, containers)."""
    ids = {e.via_input for e in journey} | {e.via_container for e in journey} | {recall_source}
    return {id_: passports.key_of(id_) for id_ in ids - {None, own} if id_ is not None}


def _codes(passports: ProductPassports, journey: Any, recall_source: int | None, own: int) -> dict[int, str]:
    """The GS1 codes of the passports a journey reaches this one through (inputs, containers)."""
    return _names(_keys(passports, journey, recall_source, own))


def _names(keys: dict[int, ProductKey | None]) -> dict[int, str]:
    return {id_: str(key) if key is not None else hex(id_) for id_, key in keys.items()}


__all__ = ["LINK_TYPES", "create_app"]
