"""Fakes of the Slack Web API and the OVHcloud API, served over real HTTP on 127.0.0.1.

`FakeSlack` lives in `tests.fakes.slack_api`, `FakeOvh` in `tests.fakes.ovh_api`. This module holds the
plumbing they share: a threaded HTTP server on a free port, started and stopped with the fake.
"""

from __future__ import annotations

import json
import logging
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import parse_qsl, urlsplit

T = TypeVar("T")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HttpRequest:
    """A request as the fake received it."""

    method: str
    path: str  # without the query string
    query: dict[str, str]
    headers: Message  # case-insensitive get()
    body: bytes
    url: str  # the full URL the client asked for, e.g. "http://127.0.0.1:PORT/1.0/sms?x=1"


@dataclass(frozen=True)
class HttpResponse:
    """What the fake answers."""

    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    """Build a JSON answer."""
    return HttpResponse(status, json.dumps(payload).encode(), headers=headers or {})


class FakeServer:
    """Base of the fakes: serves `handle()` on 127.0.0.1 from a daemon thread.

    Use it as a context manager, or call `start()` and `stop()`. Subclasses keep their recorded state
    behind `self._lock`, since every request runs on its own thread.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the server listens on (only once started)."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        """Bind a free port and serve in a daemon thread; a no-op when already running."""
        if self._server is None:
            self._server = _Server(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.01},  # how long stop() may wait for the loop to notice
                name=f"{type(self).__name__}-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; a no-op when not running."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request (called on the request's own thread)."""
        raise NotImplementedError

    def _wait_until(self, ready: Callable[[], T | None], timeout: float, describe: Callable[[], str]) -> T:
        return wait_until(self._lock, ready, timeout, describe)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 refuses bursts of concurrent connections

    def __init__(self, fake: FakeServer) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (getfqdn), which can take seconds without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_port}"
        request = HttpRequest(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=self.headers,
            body=body,
            url=f"http://{host}{self.path}",
        )
        try:
            response = self.server.fake.handle(request)
        except Exception:
            logger.exception("%s crashed on %s %s", type(self.server.fake).__name__, self.command, self.path)
            response = json_response(500, {"message": "the fake crashed, see the log"})
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)
        except ConnectionError:
            pass  # the client gave up waiting (a read-timeout test): nobody is left to answer

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


def wait_until(
    lock: threading.RLock | threading.Lock,
    ready: Callable[[], T | None],
    timeout: float,
    describe: Callable[[], str],
) -> T:
    """Poll `ready()` under `lock` until it returns something, else fail with `describe()`."""
    deadline = time.monotonic() + timeout
    while True:
        with lock:
            result = ready()
            if result is not None:
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(describe())
        time.sleep(0.01)
