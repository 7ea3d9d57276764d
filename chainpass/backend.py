"""Where a :class:`~chainpass.chain.Chain`'s requests go: the embedded EVM or a node.

The two differ in a handful of things, and only here: how a JSON-RPC request reaches them
(:class:`Rpc`: in-process calls, or HTTP with batches), which dev-account keys are known
locally (:meth:`Backend.dev_key`), how a dev account signs typed data, and the dev methods
(snapshots, time travel, mining on demand). Everything above this module (sending,
reading, the clients) is the same code for both.
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from contextlib import suppress
from typing import Any, Protocol, cast

import requests
from eth.estimators.gas import binary_gas_search_intrinsic_tolerance
from eth.exceptions import BlockNotFound as EthBlockNotFound
from eth.exceptions import TransactionNotFound as EthTransactionNotFound
from eth.vm.spoof import SpoofTransaction
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester.backends.pyevm import main as eth_tester_pyevm
from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3 import EthereumTesterProvider, HTTPProvider, Web3
from web3.datastructures import AttributeDict
from web3.exceptions import TransactionNotFound
from web3.providers.rpc.utils import REQUEST_RETRY_ALLOWLIST, ExceptionRetryConfiguration
from web3.types import RPCEndpoint, TxReceipt

from chainpass.errors import ChainpassError, InvalidInput
from chainpass.node import ANVIL_CHAIN_ID
from chainpass.reverts import revert_data_from_exception


class DevMethodUnsupported(ChainpassError):
    """The node refused a dev method (snapshots, time travel, mining on demand)."""


# ------------------------------------------------------------------------ JSON-RPC


class RpcError(Exception):
    """A JSON-RPC error reply (the node answered, and said no); ``data`` carries revert data."""

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.data = data


class NoAnswer(Exception):
    """No answer from the node (connection refused, reset, timed out); ``timed_out`` when it
    was reached but did not answer in time (a node may be working on a request too large)."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class Rpc(Protocol):
    """JSON-RPC requests, one at a time or in batches. ``call`` raises :class:`RpcError` for an
    error reply and :class:`NoAnswer` when nothing answers; ``batch`` returns each reply's
    result or its :class:`RpcError`, in order."""

    def call(self, method: str, params: list[Any]) -> Any: ...
    def batch(self, requests_: list[tuple[str, list[Any]]]) -> list[Any]: ...


def _unwrap(reply: Any) -> Any:
    if not isinstance(reply, dict):
        return RpcError(f"malformed reply {reply!r}")
    if "error" in reply and reply["error"] is not None:
        error = reply["error"]
        if isinstance(error, dict):
            return RpcError(str(error.get("message", error)), error.get("data"))
        return RpcError(str(error))
    return reply.get("result")


#: Times a request is sent again when the connection fails before any answer, and the first
#: pause between tries (doubled each time): a node may close a kept-alive connection just as
#: it is reused (Ganache does, after a pause), having read nothing.
CONNECTION_RETRIES = 3
RETRY_BACKOFF = 0.05


class HttpRpc:
    """JSON-RPC over HTTP, with batches (one round trip for many requests); one connection per
    thread. A request whose connection failed before it was sent goes again
    (:data:`CONNECTION_RETRIES`); one that timed out does not (it may have been carried out)."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            # Read the proxy settings once, not at every request (requests reads the whole
            # environment each time, which costs more than the rest of a broadcast).
            session.proxies = dict(requests.utils.get_environ_proxies(self.url))
            session.trust_env = False
            self._local.session = session
        return session

    def _post(self, payload: Any) -> Any:
        pause = RETRY_BACKOFF
        for attempt in range(CONNECTION_RETRIES + 1):
            try:
                reply = self._session().post(self.url, json=payload, timeout=self.timeout)
                break
            except requests.exceptions.ConnectionError as exc:
                if attempt == CONNECTION_RETRIES:
                    raise NoAnswer(type(exc).__name__) from None
                time.sleep(pause)
                pause *= 2
            except (requests.exceptions.RequestException, OSError) as exc:
                raise NoAnswer(type(exc).__name__, timed_out=isinstance(exc, requests.exceptions.Timeout)) from None
        if reply.status_code >= 500 or reply.status_code == 429:
            raise NoAnswer(f"HTTP {reply.status_code}")
        try:
            return reply.json()
        except ValueError:
            raise NoAnswer(f"HTTP {reply.status_code}, not JSON") from None

    def call(self, method: str, params: list[Any]) -> Any:
        result = _unwrap(self._post({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        if isinstance(result, RpcError):
            raise result
        return result

    def batch(self, requests_: list[tuple[str, list[Any]]]) -> list[Any]:
        if not requests_:
            return []
        payload = [{"jsonrpc": "2.0", "id": n, "method": m, "params": p} for n, (m, p) in enumerate(requests_)]
        replies = self._post(payload)
        if not isinstance(replies, list):  # a node without batch support answers with one error
            return [_unwrap(self._post({**one, "id": 1})) for one in payload]
        by_id = {reply.get("id"): reply for reply in replies if isinstance(reply, dict)}
        return [_unwrap(by_id.get(n, {"error": {"message": "no reply"}})) for n in range(len(requests_))]


def as_int(value: Any) -> int:
    """A JSON-RPC quantity (hex text) or an int as an int."""
    return int(value, 16) if isinstance(value, str) else int(value)


class EmbeddedRpc:
    """The embedded EVM through web3, one request at a time (eth-tester is not thread-safe),
    with results as web3 shapes them."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self._lock = threading.Lock()

    def call(self, method: str, params: list[Any]) -> Any:
        eth = self.w3.eth
        with self._lock:
            try:
                if method == "eth_sendRawTransaction":
                    return "0x" + bytes(eth.send_raw_transaction(params[0])).hex()
                if method in ("eth_getTransactionReceipt", "eth_getTransactionByHash"):
                    try:
                        if method == "eth_getTransactionReceipt":
                            return eth.get_transaction_receipt(params[0])
                        return eth.get_transaction(params[0])
                    except TransactionNotFound:
                        return None
                if method == "eth_estimateGas":
                    return eth.estimate_gas(params[0])
                if method == "eth_call":
                    block = params[1]
                    at = as_int(block) if isinstance(block, str) and block.startswith("0x") else block
                    return "0x" + bytes(eth.call(params[0], at)).hex()
                if method == "eth_getTransactionCount":
                    return eth.get_transaction_count(params[0], params[1])
                if method == "eth_getBlockByNumber":
                    return eth.get_block(params[0])
                if method == "eth_getLogs":  # eth-tester reads its filter only as web3 passes it
                    query = dict(params[0])
                    for bound in ("fromBlock", "toBlock"):
                        if isinstance(query.get(bound), str) and query[bound].startswith("0x"):
                            query[bound] = as_int(query[bound])
                    return eth.get_logs(cast(Any, query))
                if method == "eth_maxPriorityFeePerGas":
                    return eth.max_priority_fee
                if method == "eth_blockNumber":
                    return eth.block_number
                if method == "eth_chainId":
                    return eth.chain_id
                response = self.w3.provider.make_request(cast(Any, method), params)
            except (requests.exceptions.RequestException, ConnectionError) as exc:
                raise NoAnswer(type(exc).__name__) from None
            except Exception as exc:
                raise RpcError(str(exc), revert_data_from_exception(exc)) from None
        result = _unwrap(response)
        if isinstance(result, RpcError):
            raise result
        return result

    def batch(self, requests_: list[tuple[str, list[Any]]]) -> list[Any]:
        results: list[Any] = []
        for method, params in requests_:
            try:
                results.append(self.call(method, params))
            except RpcError as exc:
                results.append(exc)
        return results


_INTS = frozenset(
    {"blockNumber", "transactionIndex", "cumulativeGasUsed", "status", "gasUsed", "effectiveGasPrice", "type"}
    | {"blobGasPrice", "blobGasUsed", "blockTimestamp"}
)
#: web3 formats fewer fields in a log (a log's blockTimestamp stays hex).
_LOG_INTS = frozenset({"blockNumber", "transactionIndex", "logIndex"})
_BYTES = frozenset({"blockHash", "transactionHash", "logsBloom", "data", "root"})
_ADDRESSES = frozenset({"from", "to", "contractAddress", "address"})


def shape_receipt(value: Any) -> TxReceipt:
    """A JSON-RPC receipt shaped as web3 shapes it (ints, HexBytes, checksummed addresses),
    without web3's generic formatters, which cost more than the rest of a bulk send for a
    receipt with hundreds of logs. One web3 has shaped already is returned as it is."""
    if isinstance(value, AttributeDict):
        return cast(TxReceipt, value)
    checksums: dict[str, str] = {}

    def shape(raw: dict[str, Any], ints: frozenset[str] = _INTS) -> AttributeDict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in raw.items():
            if item is None:
                out[key] = None
            elif key in ints:
                out[key] = int(item, 16) if isinstance(item, str) else item
            elif key in _BYTES:
                out[key] = HexBytes(item)
            elif key in _ADDRESSES:
                address = checksums.get(item)
                if address is None:
                    address = checksums[item] = to_checksum_address(item)
                out[key] = address
            elif key == "topics":
                out[key] = [HexBytes(topic) for topic in item]
            elif key == "logs":
                out[key] = [shape(log, _LOG_INTS) for log in item]
            else:
                out[key] = item
        return AttributeDict(out)

    return cast(TxReceipt, shape(value))


# ------------------------------------------------------------------------ backends


class Backend(ABC):
    """The embedded EVM or a node: its web3 connection, its JSON-RPC, and what differs."""

    #: "embedded" for the in-process EVM, else the endpoint URL.
    endpoint: str
    w3: Web3
    embedded: bool
    #: Whether a connection from :meth:`rpc` may be used from another thread while ``w3`` is
    #: in use (a node's HTTP: yes; the embedded EVM, one interpreter-wide state: no).
    concurrent: bool

    @abstractmethod
    def rpc(self, timeout: float | None = None) -> Rpc:
        """A JSON-RPC connection (with batches where the backend has them); ``timeout`` seconds
        per request (by default the backend's own)."""

    @abstractmethod
    def dev_key(self, address: ChecksumAddress, chain_id: int) -> LocalAccount | None:
        """The key of dev account ``address`` if it is known here (the embedded chain's ten,
        Anvil's public dev keys), so that its transactions can be signed locally."""

    @abstractmethod
    def sign_typed_data(self, address: ChecksumAddress, typed_data: dict[str, Any]) -> bytes:
        """EIP-712 ``typed_data`` signed by dev account ``address``, where its key lives."""

    @abstractmethod
    def snapshot(self) -> Any:
        """Save the chain state, to return to with :meth:`revert`."""

    @abstractmethod
    def revert(self, snapshot: Any) -> None:
        """Return to a state saved by :meth:`snapshot`."""

    @abstractmethod
    def advance_time(self, seconds: int, latest_timestamp: int) -> None:
        """Move the chain's clock ``seconds`` past ``latest_timestamp`` and mine a block there."""

    @abstractmethod
    def set_automine(self, enabled: bool) -> None:
        """Mine each transaction as it arrives, or hold them in the pool until :meth:`mine`."""

    @abstractmethod
    def mine(self) -> None:
        """Mine one block now, with the transactions waiting in the pool."""


def _keyed(keys: list[str], address: ChecksumAddress) -> LocalAccount | None:
    for key in keys:
        account: LocalAccount = Account.from_key(key)
        if account.address == address:
            return account
    return None


class EmbeddedBackend(Backend):
    """A fresh in-process EVM (eth-tester + py-evm) with ten funded, unlocked dev accounts;
    it estimates gas with :func:`_quick_gas_estimate` and finds transactions by their hash
    index (:func:`_find_transaction`)."""

    endpoint = "embedded"
    embedded = True
    concurrent = False

    def __init__(self) -> None:
        eth_tester_pyevm._get_transaction_by_hash = _find_transaction
        provider = EthereumTesterProvider()
        #: eth-tester, for its dev methods (snapshots, time travel, mining).
        self.tester: Any = cast(Any, provider).ethereum_tester
        self.tester.backend.chain.gas_estimator = _quick_gas_estimate
        self.w3 = Web3(provider)
        self._rpc = EmbeddedRpc(self.w3)

    def rpc(self, timeout: float | None = None) -> Rpc:
        return self._rpc  # one for all: it holds the lock eth-tester needs

    def dev_key(self, address: ChecksumAddress, chain_id: int) -> LocalAccount | None:
        return _keyed([k.to_hex() for k in self.tester.backend.account_keys], address)

    def sign_typed_data(self, address: ChecksumAddress, typed_data: dict[str, Any]) -> bytes:
        account = self.dev_key(address, 0)
        if account is None:
            raise InvalidInput(f"{address} is not a dev account of the embedded chain.")
        return bytes(Account.sign_typed_data(account.key, full_message=typed_data).signature)

    def snapshot(self) -> Any:
        return self.tester.take_snapshot()

    def revert(self, snapshot: Any) -> None:
        self.tester.revert_to_snapshot(snapshot)

    def advance_time(self, seconds: int, latest_timestamp: int) -> None:
        # The pending block may already be ahead (its time is taken from the wall clock,
        # e.g. after a revert), and eth-tester mines one second before the time travelled to.
        pending = int(self.tester.get_block_by_number("pending")["timestamp"])
        self.tester.time_travel(max(latest_timestamp + seconds, pending) + 1)

    def set_automine(self, enabled: bool) -> None:
        if enabled:
            self.tester.enable_auto_mine_transactions()
        else:
            self.tester.disable_auto_mine_transactions()

    def mine(self) -> None:
        self.tester.mine_blocks(1)


#: Requests web3 sends again when the connection fails before an answer, as :class:`HttpRpc`
#: does. Only connection failures: a request that timed out may have been carried out.
#: Node-signed sends (eth_sendTransaction) are among them: keys a node holds are for local
#: dev nodes; keystore transactions go as eth_sendRawTransaction, which is safe to resend.
_RETRY = ExceptionRetryConfiguration(
    errors=(requests.exceptions.ConnectionError,),
    retries=CONNECTION_RETRIES,
    backoff_factor=RETRY_BACKOFF,
    method_allowlist=[*REQUEST_RETRY_ALLOWLIST, "eth_sendTransaction", "anvil", "miner"],
)

#: The keys of the dev accounts of every Anvil (of its public test mnemonic,
#: :data:`~chainpass.node.DEV_MNEMONIC`), chain id 31337. Public knowledge: for local nodes
#: only, never for value. They let transactions of `--account 0..9` on Anvil be signed here;
#: an address they do not match is simply not used.
ANVIL_DEV_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
)


class NodeBackend(Backend):
    """A node at an HTTP(S) JSON-RPC URL: Anvil, Ganache, or any EVM endpoint. The dev
    methods work on Anvil and Ganache; a public node refuses them (:class:`DevMethodUnsupported`)."""

    embedded = False
    concurrent = True

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.endpoint = url
        #: Seconds per request.
        self.timeout = timeout
        # The chain id is cached (web3's validation asks for it before every call it checks:
        # 2 of a contract call's 3 requests); a node never changes its chain id.
        provider = HTTPProvider(
            url,
            request_kwargs={"timeout": timeout},
            exception_retry_configuration=_RETRY,
            cache_allowed_requests=True,
            cacheable_requests={RPCEndpoint("eth_chainId")},
            request_cache_validation_threshold=None,  # nothing block-bound is cached: no threshold to ask for
        )
        self.w3 = Web3(provider)

    def rpc(self, timeout: float | None = None) -> Rpc:
        return HttpRpc(self.endpoint, self.timeout if timeout is None else timeout)

    def dev_key(self, address: ChecksumAddress, chain_id: int) -> LocalAccount | None:
        return _keyed(list(ANVIL_DEV_KEYS), address) if chain_id == ANVIL_CHAIN_ID else None

    def sign_typed_data(self, address: ChecksumAddress, typed_data: dict[str, Any]) -> bytes:
        make_request = self.w3.provider.make_request
        response = make_request(cast(Any, "eth_signTypedData_v4"), [address, json.dumps(typed_data)])
        if "error" in response and "expected object" in str(response["error"].get("message")):
            # Ganache 7 takes the typed data as a JSON object only (MetaMask and Anvil: a string).
            response = make_request(cast(Any, "eth_signTypedData_v4"), [address, typed_data])
        if "error" in response:
            raise InvalidInput(f"The node would not sign for {address}: {response['error'].get('message')}")
        return bytes.fromhex(str(response["result"]).removeprefix("0x"))

    def snapshot(self) -> Any:
        return self._dev_request("evm_snapshot", [])

    def revert(self, snapshot: Any) -> None:
        if self._dev_request("evm_revert", [snapshot]) is False:
            raise DevMethodUnsupported(f"The node at {self.endpoint} has no snapshot {snapshot!r} to revert to.")

    def advance_time(self, seconds: int, latest_timestamp: int) -> None:
        self._dev_request("evm_increaseTime", [seconds])
        self._dev_request("evm_mine", [])

    def set_automine(self, enabled: bool) -> None:
        try:
            self._dev_request("evm_setAutomine", [enabled])
        except DevMethodUnsupported:  # Ganache 7: the geth-style miner switch instead
            self._dev_request("miner_start" if enabled else "miner_stop", [])

    def mine(self) -> None:
        self._dev_request("evm_mine", [])

    def _dev_request(self, method: str, params: list[Any]) -> Any:
        """Call a local node's dev method; a node without it raises :class:`DevMethodUnsupported`."""
        response = self.w3.provider.make_request(cast(Any, method), params)
        if "error" in response:
            error = response["error"]
            detail = error.get("message") if isinstance(error, dict) else error
            raise DevMethodUnsupported(
                f"The node at {self.endpoint} refused {method} ({detail}): it works on the embedded chain, "
                "Anvil or Ganache, not on a public node."
            )
        return response["result"]


# --------------------------------------------------------------- embedded speed-ups


def _quick_gas_estimate(state: Any, transaction: Any) -> int:
    """The embedded EVM's gas estimate, in two runs where py-evm's own binary search takes
    some 25 (most of the cost of a transaction on the embedded EVM): one at the block gas
    limit to learn the gas used, one at that plus a quarter and 5,000 to check it suffices
    (calls inside get 63/64 of what is left). If it does not, py-evm's search decides."""

    def run(gas: int) -> int | None:
        snapshot = state.snapshot()
        try:
            computation = state.apply_transaction(SpoofTransaction(transaction, gas=gas, gas_price=0))
            if computation.is_error:
                if gas == state.gas_limit:
                    raise computation.error  # the revert, as py-evm's estimator raises it
                return None
            return int(gas - computation.get_gas_remaining())
        finally:
            state.revert(snapshot)

    used = run(state.gas_limit)
    assert used is not None
    candidate = int(min(state.gas_limit, used + used // 4 + 5_000))
    if run(candidate) is not None:
        return candidate
    return int(binary_gas_search_intrinsic_tolerance(state, transaction))


def _find_transaction(chain: Any, transaction_hash: bytes) -> tuple[Any, Any, int]:
    """eth-tester's lookup of a transaction by hash (block, transaction, index), through
    py-evm's hash index. eth-tester walks back from the head block by block, decoding each,
    so every receipt cost time in proportion to the chain's length, and ``eth_getLogs`` (a
    receipt per transaction in range) grew with its square: most of ``chainpass demo``'s
    time. The pending block is looked at first and an index entry is checked against the
    canonical block, as before; the walk stays the fallback."""
    pending = chain.get_block()
    for index, transaction in enumerate(pending.transactions):
        if transaction.hash == transaction_hash:
            return pending, transaction, index
    with suppress(EthTransactionNotFound, EthBlockNotFound, IndexError):
        number, index = chain.chaindb.get_transaction_index(transaction_hash)
        block = chain.get_canonical_block_by_number(number)
        if block.transactions[index].hash == transaction_hash:
            return block, block.transactions[index], index
    found: tuple[Any, Any, int] = _walk_to_transaction(chain, transaction_hash)
    return found


_walk_to_transaction = eth_tester_pyevm._get_transaction_by_hash
