"""HTTP for remote engines: JSON requests, streamed answers (SSE or NDJSON) that a cancellation or
a deadline cuts within a few tens of milliseconds by closing the connection, errors a user can
act on, and back-off while a server is down. The API key is sent, never logged or shown."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import socket
import ssl
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Generator, Iterator, Optional
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

from server.engines.base import Cancelled, EngineUnavailable, ModelLoadError, OutOfTime

API_KEY_VARIABLE = "DEEPFIM_API_KEY"
CONNECT_TIMEOUT_S = 3.0
REQUEST_TIMEOUT_S = 10.0
MIN_WAIT_S = 0.5  # the least a request waits for an answer, even past its deadline (a healthy server answers in ms)
WATCH_INTERVAL_S = 0.02
MAX_BACKOFF_S = 30.0
# While backing off from a server that refused connections or was starting (HTTP 503), its port is
# knocked on at most this often, and the back-off ends once it takes connections again.
KNOCK_INTERVAL_S = 1.0
KNOCK_TIMEOUT_S = 0.2
# Statuses of a server that is there but not ready (llama-server loading its model, a proxy whose
# backend is down): an outage to back off from, never taken for "not this API" while probing.
UNAVAILABLE = (502, 503, 504)
# Statuses of a redirect: one to the same path under another base URL (a proxy from http:// to https://)
# says the engine URL is to change; others (a login page) are an answer like any error.
REDIRECTS = (301, 302, 303, 307, 308)


class _Health:
    """What the clients of one server share: its failures, back-off and outage, and the deadline of
    the completion being answered."""

    def __init__(self) -> None:
        self.failures = 0
        self.down_until = 0.0
        self.knock = False  # the outage is one a knock on the port can see end
        self.knocked = 0.0
        # Failures and kept connections the server dropped so far: after one, the server may have been
        # restarted with another model (the engine compares what it serves).
        self.troubles = 0
        self.deadline: Optional[float] = None
        self.cancelled: Optional[Callable[[], bool]] = None  # what cuts requests made meanwhile (`cancelled_by`)
        self.patience = REQUEST_TIMEOUT_S  # the longest a request waits for its answer
        self.outage: Optional[str] = None
        self.fixable = False  # the outage is the user's to fix (EngineUnavailable.fixable)


class HttpClient:
    """Requests to one server, below one base URL (`http://host:8080`, `https://host/v1`)."""

    def __init__(self, base_url: str, api_key: Optional[str] = None, health: Optional[_Health] = None) -> None:
        parts = urlsplit(base_url.strip().rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"engine URL {shown_url(base_url)!r} is not an http:// or https:// URL")
        self._https = parts.scheme == "https"
        self._tls = ssl.create_default_context() if self._https else None  # the CA store, loaded once
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path
        self._netloc = parts.netloc.rpartition("@")[2]
        self.url = shown_url(base_url)
        self.engine_url = self.url  # the URL the user set, which `root` clients name too where the host failed
        self._api_key = api_key if api_key is not None else _api_key()
        self._basic = _basic_auth(parts.username, parts.password)
        self._kept: Optional[http.client.HTTPConnection] = None
        # The model every request names (llama-server's router, --models-dir: `model` in a body, `?model=` in a GET).
        self.model: Optional[str] = None
        self._lock = threading.Lock()
        self._health = health or _Health()

    @property
    def troubles(self) -> int:
        """Failures and dropped kept connections so far, on any client of this server."""
        return self._health.troubles

    @property
    def outage(self) -> Optional[str]:
        """Why the server is unreachable now, None while it answers."""
        return self._health.outage

    @property
    def deadline(self) -> Optional[float]:
        """The monotonic time by which requests must be answered (see `until`)."""
        return self._health.deadline

    def root(self) -> "HttpClient":
        """A client for the server's own paths (`/props`, `/tokenize`): the base URL less a final
        `/v1`, sharing this client's health."""
        prefix = self._prefix[:-3] if self._prefix.endswith("/v1") else self._prefix
        client = HttpClient(f"{'https' if self._https else 'http'}://{self._netloc}{prefix}", self._api_key,
                            self._health)
        client._basic, client._tls, client.engine_url = self._basic, self._tls, self.engine_url
        return client

    # ------------------------------------------------------------------ plumbing
    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        connection = http.client.HTTPSConnection(self._host, self._port, timeout=timeout, context=self._tls) \
            if self._https else http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        connection._create_connection = connect_in_time  # type: ignore[attr-defined]
        return connection

    def _headers(self, stream: bool = False) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "User-Agent": "deepfim"}
        if stream:
            headers["Accept"] = "text/event-stream, application/x-ndjson"
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        elif self._basic:
            headers["Authorization"] = self._basic
        return headers

    def _check_backoff(self) -> None:
        health = self._health
        now = time.monotonic()
        wait = health.down_until - now
        if wait <= 0 or not health.outage:
            return
        if health.knock and now - health.knocked >= KNOCK_INTERVAL_S:
            health.knocked = now
            try:
                connect_in_time((self._host, self._port or (443 if self._https else 80)), KNOCK_TIMEOUT_S,
                                lookup_s=MIN_WAIT_S).close()
                health.down_until = 0.0  # it takes connections again: try now
                return
            except OSError:
                pass
        raise EngineUnavailable(f"{health.outage} (trying again in {wait:.0f} s)", health.fixable, health.knock)

    def failed(self, message: str, knock: bool = False, fixable: bool = False) -> EngineUnavailable:
        """Record a failure: back off 1, 2, 4, ... up to 30 s before the next try (with `knock`, only
        until the server's port takes connections again). `fixable`: see EngineUnavailable."""
        health = self._health
        health.failures += 1
        health.troubles += 1
        health.down_until = time.monotonic() + min(MAX_BACKOFF_S, 2.0 ** (health.failures - 1))
        health.knock = knock
        health.knocked = time.monotonic()
        health.outage, health.fixable = message, fixable
        return EngineUnavailable(message, fixable, knock)

    def _succeeded(self) -> None:
        health = self._health
        health.failures = 0
        health.down_until = 0.0
        health.outage = None

    def describe(self, error: BaseException) -> str:
        """`error` in the user's terms, naming the engine URL as set."""
        if isinstance(error, socket.gaierror):
            return f"cannot find the engine host {self._host!r} ({self.engine_url}): set engine to a URL with the " \
                "right host"
        if isinstance(error, LookupTimeout):
            return f"looking up the engine host {self._host!r} ({self.engine_url}) took too long: check the network " \
                "(a VPN that is down?), or set engine to a URL with the host's IP address"
        if isinstance(error, ConnectionRefusedError):
            return f"the engine at {self.engine_url} refused the connection: start the server there, or set engine " \
                "to the URL of one that runs"
        if isinstance(error, (socket.timeout, TimeoutError)):
            hint = " (if it serves plain HTTP, the URL should start with http://)" if self._https else ""
            return f"the engine at {self.engine_url} did not answer in time{hint}"
        if isinstance(error, ssl.SSLError):
            return f"TLS with the engine at {self.engine_url} failed ({error.reason or error})"
        if not self._https and isinstance(error, (ConnectionResetError, http.client.BadStatusLine)):
            # A TLS server resets (or answers with a TLS alert) a plain-HTTP request; a crashed server also closes.
            return f"the engine at {self.engine_url} closed the connection without an HTTP answer: if it serves " \
                f"HTTPS, set engine to {self._https_url()}"
        return f"the engine at {self.engine_url} could not be reached ({error.__class__.__name__}: {error})"

    def _https_url(self) -> str:
        """The engine URL (shown form) with https:// for http://."""
        return "https://" + self.engine_url.partition("://")[2]

    def _wants_tls(self, status: int, body: bytes) -> bool:
        """Whether an answer is that of an HTTPS port to plain HTTP (nginx: 400 "The plain HTTP request was
        sent to HTTPS port"; Go servers, Caddy: 400 "Client sent an HTTP request to an HTTPS server.")."""
        return not self._https and status == 400 and b"HTTP request" in body[:2000] and b"HTTPS" in body[:2000]

    def _moved_to(self, status: int, path: str, location: Optional[str]) -> Optional[str]:
        """The base URL a redirect to the same `path` under another one names (shown form), else None."""
        if status not in REDIRECTS or not location:
            return None
        target = shown_url(urljoin(f"{'https' if self._https else 'http'}://{self._netloc}{self._prefix}{path}",
                                   location))
        return target[:-len(path)].rstrip("/") if target.endswith(path) else None

    def _status_error(self, status: int, path: str, body: bytes, location: Optional[str] = None) -> EngineUnavailable:
        excerpt = _error_text(body)
        if self._wants_tls(status, body):
            return self.failed(f"the engine at {self.engine_url} serves HTTPS (HTTP 400 to plain HTTP): set engine "
                               f"to {self._https_url()}", fixable=True)
        moved = self._moved_to(status, path, location)
        if moved:
            return self.failed(f"the engine at {self.url} redirects to {moved} (HTTP {status}): set engine to that "
                               f"URL", fixable=True)
        if status in (401, 403):
            hint = "it refused the API key in DEEPFIM_API_KEY" if self._api_key else \
                "it refused the user and password in the engine URL" if self._basic else \
                "it wants an API key: set DEEPFIM_API_KEY"
            return self.failed(f"the engine at {self.engine_url} answered HTTP {status}: {hint}", fixable=True)
        if status == 404:  # no such path, or no such model (Ollama, vLLM say which in an error object)
            said = _message_of(_json_of(body))
            if said:
                return self.failed(f"the engine at {self.url} answered HTTP 404 to {self._prefix}{path} ({said}): "
                                   f"check the engine URL, engineApi and engineModel", fixable=True)
            return self.failed(f"the engine at {self.url} has no {self._prefix}{path} (HTTP 404): check the engine "
                                f"URL and engineApi", fixable=True)
        return self.failed(f"the engine at {self.url} answered HTTP {status} to {self._prefix}{path}: {excerpt}",
                           knock=status == 503)  # llama-server answers 503 while it loads its model

    @contextmanager
    def until(self, deadline: float) -> Iterator[None]:
        """Requests made meanwhile wait for the server until the monotonic `deadline` (that of the
        completion they are for; MIN_WAIT_S at least), instead of REQUEST_TIMEOUT_S each."""
        health = self._health
        previous = health.deadline
        health.deadline = deadline if previous is None else min(previous, deadline)
        try:
            yield
        finally:
            health.deadline = previous

    @contextmanager
    def cancelled_by(self, cancelled: Callable[[], bool]) -> Iterator[None]:
        """Requests made meanwhile are cut as soon as `cancelled()` says so, raising Cancelled (a
        background read's requests, which a keystroke must not wait behind)."""
        health = self._health
        previous, health.cancelled = health.cancelled, cancelled
        try:
            yield
        finally:
            health.cancelled = previous

    @property
    def cancelled(self) -> Callable[[], bool]:
        """What cuts requests made now (`cancelled_by`); never, outside one."""
        return self._health.cancelled or _never

    @contextmanager
    def waiting_at_most(self, seconds: float) -> Iterator[None]:
        """Requests made meanwhile wait at most `seconds` each for their answer."""
        health = self._health
        previous, health.patience = health.patience, min(health.patience, seconds)
        try:
            yield
        finally:
            health.patience = previous

    def _named(self, body: Any) -> Any:
        """`body` naming `model` where requests name one."""
        return {**body, "model": self.model} if self.model is not None and isinstance(body, dict) else body

    def _query(self, data: Optional[bytes]) -> str:
        """The query naming `model` of a request without a body, where requests name one."""
        return f"?model={quote(self.model, safe='')}" if self.model is not None and data is None else ""

    # ------------------------------------------------------------------ requests
    def probe(self, path: str) -> Any:
        """GET `path` to learn what the server is: its JSON answer, or None where it answers with an
        error status or with something that is not JSON. Raises EngineUnavailable when it cannot be
        reached at all, refuses the credentials, or is not ready (UNAVAILABLE)."""
        return self.request("GET", path, timeout=CONNECT_TIMEOUT_S, probing=True)

    def request(self, method: str, path: str, body: Any = None, timeout: float = REQUEST_TIMEOUT_S,
                probing: bool = False) -> Any:
        """A JSON request on a kept-alive connection; the decoded JSON answer. Raises EngineUnavailable,
        OutOfTime when the completion it is for (`until`) has no time left, or Cancelled when what it is
        for was (`cancelled_by`)."""
        self._check_backoff()
        data = json.dumps(self._named(body)).encode() if body is not None else None
        timeout = min(timeout, self._health.patience)
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:  # a server answering each request in less than MIN_WAIT_S, but slowly
                raise OutOfTime(f"the engine at {self.url} did not answer {path} within the completion's time")
            timeout = max(MIN_WAIT_S, min(timeout, left))
        cancelled = self._health.cancelled
        with self._lock:
            for attempt in (0, 1):  # a kept connection the server closed meanwhile: once more, fresh
                if cancelled is not None and cancelled():
                    raise Cancelled()
                connection = self._kept or self._connection(timeout)
                self._kept = None
                watchdog = _Watchdog(connection, cancelled) if cancelled is not None else None
                try:
                    connection.timeout = timeout
                    if connection.sock is not None:  # a kept connection: its socket has the old timeout
                        connection.sock.settimeout(timeout)
                    connection.request(method, self._prefix + path + self._query(data), body=data,
                                       headers=self._headers())
                    if watchdog is not None:
                        watchdog.hold()
                    answer = connection.getresponse()
                    payload = answer.read()
                except (OSError, http.client.HTTPException) as error:
                    connection.close()
                    if watchdog is not None and watchdog.stop():
                        raise Cancelled() from None
                    if attempt == 0 and isinstance(error, (http.client.RemoteDisconnected, BrokenPipeError,
                                                           ConnectionResetError)):
                        self._health.troubles += 1
                        continue
                    raise self.failed(self.describe(error), knock=isinstance(error, ConnectionRefusedError)) from None
                if watchdog is not None and watchdog.stop():  # cut as the answer came: the connection is spent
                    connection.close()
                    raise Cancelled()
                if answer.status != 200:
                    connection.close()
                    location = answer.getheader("Location")
                    if probing and answer.status not in (401, 403) + UNAVAILABLE \
                            and not self._moved_to(answer.status, path, location) \
                            and not self._wants_tls(answer.status, payload):
                        return None  # not this API (a server still loading its model is tried again)
                    raise self._status_error(answer.status, path, payload, location)
                self._kept = connection
                try:
                    result = json.loads(payload)
                except ValueError:  # not JSON, or not UTF-8
                    result = None
                if not isinstance(result, (dict, list)):
                    if probing:
                        return None
                    raise self.failed(f"the engine at {self.url} answered {path} with something that is not a JSON "
                                      f"object: is the engine URL or API right?")
                self._succeeded()
                return result
        raise AssertionError("unreachable")

    def stream(self, path: str, body: Any, cancelled: Callable[[], bool],
               deadline: float) -> Generator[dict, None, None]:
        """POST `body` and yield each streamed JSON event (SSE `data:` lines or NDJSON lines).

        A watchdog closes the connection as soon as `cancelled()` or the monotonic `deadline` says
        so, which stops the server's decoding; the iteration then just ends. A stream that ends
        without either is the caller's to judge (a server's final event says it finished).
        """
        self._check_backoff()
        connection = self._connection(min(CONNECT_TIMEOUT_S, max(0.1, deadline - time.monotonic())))
        watchdog = _Watchdog(connection, cancelled, deadline)
        try:
            try:
                connection.request("POST", self._prefix + path, body=json.dumps(self._named(body)).encode(),
                                   headers=self._headers(stream=True))
                watchdog.hold()
                connection.sock.settimeout(None)  # the watchdog bounds the wait, not the socket
                if cancelled() or time.monotonic() >= deadline:  # while connecting
                    return
                answer = connection.getresponse()
            except (OSError, http.client.HTTPException) as error:
                if cancelled() or time.monotonic() >= deadline:
                    return
                raise self.failed(self.describe(error), knock=isinstance(error, ConnectionRefusedError)) from None
            if answer.status != 200:
                try:
                    detail = answer.read()
                except http.client.IncompleteRead as error:  # the body broke off or stalled (watchdog)
                    detail = error.partial
                except (OSError, http.client.HTTPException):
                    detail = b""
                raise self._status_error(answer.status, path, detail, answer.getheader("Location"))
            self._succeeded()
            try:
                for raw in answer:
                    line = raw.strip()
                    if line.startswith(b"data:"):
                        line = line[5:].strip()
                    elif line.startswith((b"event:", b"id:", b"retry:", b":")):
                        continue
                    if not line:
                        continue
                    if line == b"[DONE]":
                        return
                    try:
                        event = json.loads(line)
                    except ValueError:  # not JSON, or not UTF-8
                        event = None
                    if not isinstance(event, dict):
                        raise self.failed(f"the engine at {self.url} sent a garbled stream (not JSON objects): "
                                           f"{line[:80].decode('utf-8', 'replace')!r}") from None
                    if "error" in event:
                        raise self.failed(f"the engine at {self.url} reported an error: "
                                          f"{_message_of(event) or json.dumps(event)[:200]}")
                    yield event
            except (OSError, http.client.HTTPException, ValueError) as error:
                if cancelled() or time.monotonic() >= deadline:
                    return
                raise self.failed(f"the stream from {self.url} broke off ({error.__class__.__name__})") from None
        finally:
            watchdog.stop()
            connection.close()

    def close(self) -> None:
        with self._lock:
            if self._kept is not None:
                self._kept.close()
                self._kept = None


def _never() -> bool:
    return False


class _Watchdog:
    """Shuts a connection's socket down as soon as `cancelled()` or the monotonic `deadline` says so,
    from a thread of its own: a blocked read returns at once, and the server stops decoding."""

    def __init__(self, connection: http.client.HTTPConnection, cancelled: Callable[[], bool],
                 deadline: float = float("inf")) -> None:
        self._connection, self._cancelled, self._deadline = connection, cancelled, deadline
        self._held: list[socket.socket] = []  # http.client lets go of the socket once a response says it will close
        self._lock = threading.Lock()
        self._done = False
        self._fired = False
        threading.Thread(target=self._watch, name="deepfim-engine-watch", daemon=True).start()

    def hold(self) -> None:
        """Keep hold of the connection's socket (sent a request, it is there)."""
        self._held.append(self._connection.sock)

    def _watch(self) -> None:
        while True:
            time.sleep(WATCH_INTERVAL_S)
            with self._lock:
                if self._done:
                    return
                if not (self._cancelled() or time.monotonic() >= self._deadline):
                    continue
                sock = self._held[0] if self._held else self._connection.sock
                if sock is None:  # still connecting: cut it once it is there
                    continue
                self._fired = True
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return

    def stop(self) -> bool:
        """Stop watching; whether the connection was cut."""
        with self._lock:
            self._done = True
            return self._fired


def _api_key() -> Optional[str]:
    """The key in DEEPFIM_API_KEY, without the blanks and line break a key file or a CRLF .env leaves
    around it (http.client refused such a header, quoting the key in its error)."""
    key = os.environ.get(API_KEY_VARIABLE, "").strip()
    if any(not " " <= char <= "~" for char in key):
        raise ModelLoadError(f"{API_KEY_VARIABLE} holds a line break or a character other than printable ASCII, "
                             f"which an HTTP header cannot carry: set it to the key alone")
    return key or None


class LookupTimeout(TimeoutError):
    """The host name lookup of a connection gave up."""


def connect_in_time(address: tuple[str, int], timeout: Optional[float] = None,
                    source_address: Optional[tuple[str, int]] = None,
                    lookup_s: Optional[float] = None) -> socket.socket:
    """socket.create_connection whose host name lookup also gives up (LookupTimeout) after `timeout` (a
    resolver whose DNS server is gone, a VPN down, waits 10 s and more), or after `lookup_s`, the
    connection then having `timeout` of its own."""
    found: list = []

    def look_up() -> None:
        try:
            found.append(socket.getaddrinfo(address[0], address[1], 0, socket.SOCK_STREAM))
        except OSError as error:
            found.append(error)

    started = time.monotonic()
    lookup = threading.Thread(target=look_up, name="deepfim-engine-lookup", daemon=True)
    lookup.start()
    lookup.join(timeout if lookup_s is None else lookup_s)
    if not found:
        raise LookupTimeout(f"looking up {address[0]!r} took too long")
    if isinstance(found[0], OSError):
        raise found[0]
    error: OSError = OSError(f"{address[0]!r} has no address")
    left = timeout if timeout is None or lookup_s is not None else max(0.05, timeout - (time.monotonic() - started))
    for _, _, _, _, where in found[0]:
        try:
            return socket.create_connection((where[0], where[1]), left, source_address)
        except OSError as failure:
            error = failure
    raise error


_CREDENTIALS = re.compile(r"[^/@\s]*@")  # `user:password@`, wherever it ended up


def shown_url(url: str) -> str:
    """`url` as messages show it: without a user and password, or a query (they are never shown or
    logged), also where the URL is malformed (`http:/user:pw@host`)."""
    parts = urlsplit(_CREDENTIALS.sub("", url.strip()).rstrip("/"))
    return urlunsplit(parts._replace(query="", fragment=""))


def _basic_auth(user: Optional[str], password: Optional[str]) -> Optional[str]:
    """The Basic authorization of credentials given in the engine URL (`http://user:pass@host`)."""
    if user is None:
        return None
    pair = f"{unquote(user)}:{unquote(password or '')}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _error_text(body: bytes) -> str:
    """The message of an error answer: its JSON `error.message` (or `error`, `detail`) where it has
    one, else the start of the body."""
    return _message_of(_json_of(body)) or body[:200].decode("utf-8", "replace").strip()


def _json_of(body: bytes) -> object:
    """The JSON in `body`; None where it is not JSON."""
    try:
        return json.loads(body)
    except ValueError:
        return None


def _message_of(answer: object) -> Optional[str]:
    """The `error.message` (or `error`, `detail`) of a JSON error answer or event, where it has one."""
    if not isinstance(answer, dict):
        return None
    error = answer.get("error", answer.get("detail"))
    message = error.get("message") if isinstance(error, dict) else error
    return message.strip()[:300] if isinstance(message, str) and message.strip() else None
