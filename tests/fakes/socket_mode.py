"""A fake of Slack's Socket Mode endpoint: the WebSocket that `apps.connections.open` hands out.

Enough of RFC 6455 for slack_sdk's builtin client, from the standard library alone: the opening handshake,
text frames (masked from the client, unmasked from the server, as the RFC requires), ping/pong, close and
fragmented messages. Attach it to a `FakeSlack`, whose `apps.connections.open` then answers its URLs:

    with FakeSocketMode() as socket_mode:
        fake_slack.socket_mode_url = socket_mode.new_url
        ...
        connection = socket_mode.wait_for_connection()
        envelope_id = socket_mode.deliver("slash_commands", {...command fields...})
        ack = socket_mode.wait_for_ack(envelope_id)  # {"envelope_id": ..., "payload": {...}} as sent

Like Slack it sends `hello` on connect, a `disconnect` message when asked to (`ask_to_reconnect`), and
accepts each ticket once. A connection can also fail as networks do: `drop()` closes the TCP connection
without a closing handshake, `go_silent()` leaves it open but dead. (`apps.connections.open` failures are
`FakeSlack.fail_next`'s.)
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import logging
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import parse_qs, urlsplit

from tests.fakes import wait_until
from tests.fakes.slack_api import response_error

T = TypeVar("T")

logger = logging.getLogger(__name__)

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3
_TEXT, _BINARY, _CONTINUATION = 0x1, 0x2, 0x0
_CLOSE, _PING, _PONG = 0x8, 0x9, 0xA
_MAX_HANDSHAKE = 16 * 1024
_MAX_MESSAGE = 16 * 1024 * 1024


@dataclass(frozen=True)
class Ack:
    """What the client sent back for one envelope, and how long after the envelope left."""

    envelope_id: str
    payload: dict[str, Any] | None  # None for a bare ack()
    elapsed: float
    raw: dict[str, Any]
    received_at: float  # time.monotonic() when it arrived
    connection_id: int  # the connection it came on


@dataclass
class SocketConnection:
    """One client connected to the fake (the server's side of it)."""

    id: int
    ticket: str
    path: str
    headers: dict[str, str]  # lower-case names
    connected_at: float
    messages: list[dict[str, Any]] = field(default_factory=list)  # JSON text messages from the client
    pings: int = 0  # pings from the client, each answered with a pong
    pongs: int = 0  # pongs answering our pings
    close_code: int | None = None  # from the client's close frame; None if it just dropped the socket
    protocol_errors: list[str] = field(default_factory=list)
    closed: threading.Event = field(default_factory=threading.Event)
    silent: bool = False  # set by go_silent(): a dead link, whose TCP connection is still open
    _sock: socket.socket | None = field(default=None, repr=False)
    _send_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _close_sent: bool = field(default=False, repr=False)

    @property
    def open(self) -> bool:
        """True until either side closed the connection."""
        return not self.closed.is_set()

    def send_text(self, text: str) -> None:
        """Send one text message (unmasked, as from a server)."""
        self._send_frame(_TEXT, text.encode("utf-8"))

    def send_json(self, message: dict[str, Any]) -> None:
        """Send one JSON message."""
        self.send_text(json.dumps(message))

    def ping(self, payload: bytes = b"") -> None:
        """Send a ping; the client must answer with a pong carrying the same payload."""
        self._send_frame(_PING, payload)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake; the socket closes when the client answers or leaves."""
        if not self._close_sent:
            self._close_sent = True
            with suppress(OSError):
                self._send_frame(_CLOSE, struct.pack("!H", code) + reason.encode("utf-8"))

    def drop(self) -> None:
        """Close the TCP connection with no closing handshake, as a network failure would."""
        if self._sock is not None:
            with suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
        self.closed.set()

    def go_silent(self) -> None:
        """Play dead: read and drop whatever the client sends, answer nothing, send nothing, keep TCP open.

        What a connection looks like when the network path died without a FIN or RST: only the client's
        own pings (and their missing pongs) can tell it.
        """
        self.silent = True

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        if self._sock is None or self.closed.is_set() or self.silent:
            raise ConnectionError(f"connection {self.id} is closed")
        with self._send_lock:
            self._sock.sendall(_frame(opcode, payload))


class FakeSocketMode:
    """Slack's Socket Mode WebSocket server, on 127.0.0.1, one thread per connection.

    Knobs (edit them directly): `app_id` (in the URL and the `hello`), `send_hello` (False: connect
    silently), `answer_pings` (False: leave the client's pings unanswered, as a dead link would),
    `ping_interval` (seconds between the pings the server sends every connection, as Slack's do; None:
    never).
    """

    def __init__(self, app_id: str = "A0SMSBOT") -> None:
        self.app_id = app_id
        self.send_hello = True
        self.answer_pings = True
        self.ping_interval: float | None = None
        self.connections: list[SocketConnection] = []
        self.refused_handshakes: list[str] = []  # why each refused upgrade was refused
        self._acks: dict[str, list[Ack]] = {}
        self._delivered: dict[str, float] = {}
        self._tickets: dict[str, bool] = {}  # ticket -> used
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # --- life cycle -------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on (only once started)."""
        if self._listener is None:
            raise RuntimeError("FakeSocketMode is not started")
        return self._listener.getsockname()[1]

    def start(self) -> Self:
        """Listen on a free port and accept connections in a daemon thread; a no-op when running."""
        if self._listener is None:
            self._stopping.clear()
            self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
            self._listener.settimeout(0.05)  # how long stop() may wait for the accept loop to notice
            self._thread = threading.Thread(
                target=self._accept_loop, name=f"FakeSocketMode-{self.port}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Close every connection (going away, 1001) and stop listening; a no-op when not running."""
        if self._listener is None:
            return
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._listener.close()
        self._listener = self._thread = None
        with self._lock:
            connections = list(self.connections)
        for connection in connections:
            if connection.open:
                connection.close(1001, "going away")
                connection.drop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- what apps.connections.open answers -------------------------------------------------------

    def new_url(self) -> str:
        """A WebSocket URL with a fresh one-time ticket, as `apps.connections.open` returns."""
        ticket = str(uuid.uuid4())
        with self._lock:
            self._tickets[ticket] = False
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"

    @property
    def tickets_issued(self) -> int:
        """How many URLs were handed out (one per `apps.connections.open`)."""
        with self._lock:
            return len(self._tickets)

    # --- what tests read --------------------------------------------------------------------------

    def open_connections(self) -> list[SocketConnection]:
        """Connections neither side has closed, oldest first."""
        with self._lock:
            return [c for c in self.connections if c.open]

    def wait_for_connection(self, count: int = 1, timeout: float = 20.0) -> SocketConnection:
        """Wait until ``count`` connections were ever made; return the newest open one."""

        def ready() -> SocketConnection | None:
            live = self.open_connections()
            return live[-1] if len(self.connections) >= count and live else None

        def describe() -> str:
            return (
                f"expected {count} Socket Mode connection(s) within {timeout}s; got {len(self.connections)} "
                f"({len(self.open_connections())} open), tickets issued: {self.tickets_issued}, "
                f"refused handshakes: {self.refused_handshakes}"
            )

        return self._wait_until(ready, timeout, describe)

    def acks(self, envelope_id: str) -> list[Ack]:
        """Every ack received for ``envelope_id``, in order."""
        with self._lock:
            return list(self._acks.get(envelope_id, []))

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> Ack:
        """Wait for the client's ack of ``envelope_id``; return the first one. Fails when Slack would
        refuse the ack's payload (a message or view it cannot show, see `slack_api.response_error`)."""

        def ready() -> Ack | None:
            received = self._acks.get(envelope_id)
            return received[0] if received else None

        def describe() -> str:
            return f"no ack for envelope {envelope_id} within {timeout}s; {self._describe_messages()}"

        ack = self._wait_until(ready, timeout, describe)
        if ack.payload is not None and (refusal := response_error(ack.payload)):
            raise AssertionError(f"Slack would refuse the ack of {envelope_id}: {refusal}")
        return ack

    # --- what tests control -----------------------------------------------------------------------

    def deliver(
        self,
        type: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        accepts_response_payload: bool = True,
        connection: SocketConnection | None = None,
    ) -> str:
        """Send an envelope the way Slack does, to ``connection`` or the newest open one.

        ``type`` is "slash_commands", "interactive" or "events_api"; returns the envelope id to wait on.
        """
        envelope_id = envelope_id or str(uuid.uuid4())
        target = connection or self._newest_open()
        envelope = {
            "envelope_id": envelope_id,
            "type": type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
        }
        with self._lock:
            self._delivered.setdefault(envelope_id, time.monotonic())
        target.send_json(envelope)
        return envelope_id

    def ask_to_reconnect(
        self, reason: str = "refresh_requested", connection: SocketConnection | None = None
    ) -> None:
        """Send Slack's `disconnect` message: the client should open a new connection, then leave this one."""
        target = connection or self._newest_open()
        target.send_json(
            {
                "type": "disconnect",
                "reason": reason,
                "debug_info": {"host": f"applink-fake-{target.id}"},
            }
        )

    # --- serving ----------------------------------------------------------------------------------

    def _newest_open(self) -> SocketConnection:
        live = self.open_connections()
        if not live:
            raise AssertionError(f"no open Socket Mode connection; tickets issued: {self.tickets_issued}")
        return live[-1]

    def _accept_loop(self) -> None:
        assert self._listener is not None
        last_ping = time.monotonic()
        while not self._stopping.is_set():
            if self.ping_interval is not None and time.monotonic() - last_ping >= self.ping_interval:
                last_ping = time.monotonic()
                for connection in self.open_connections():
                    with suppress(OSError):
                        connection.ping(f"{last_ping:.3f}".encode())
            try:
                sock, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(
                target=self._serve, args=(sock,), name="FakeSocketMode-conn", daemon=True
            ).start()

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection: SocketConnection | None = None
        try:
            connection = self._handshake(sock)
            if connection is None:
                return
            self._read_frames(connection, _Reader(sock))
        except (OSError, _ProtocolError) as error:
            if connection is not None and isinstance(error, _ProtocolError):
                connection.protocol_errors.append(str(error))
                with suppress(OSError):
                    connection.close(1002, str(error)[:100])
        except Exception:
            logger.exception("FakeSocketMode crashed serving a connection")
        finally:
            if connection is not None:
                connection.closed.set()
            with suppress(OSError):
                sock.close()

    def _handshake(self, sock: socket.socket) -> SocketConnection | None:
        """Read the client's upgrade request; answer 101 and register the connection, or refuse it."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            data += chunk
            if len(data) > _MAX_HANDSHAKE:
                return self._refuse(sock, 431, "Request Header Fields Too Large", "headers too long")
        head, _, rest = data.partition(b"\r\n\r\n")
        if rest:
            # RFC 6455: the client must wait for the 101 before sending frames.
            return self._refuse(sock, 400, "Bad Request", "data sent before the handshake completed")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in header_lines:
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        method, _, rest_of_line = request_line.partition(" ")
        target, _, version = rest_of_line.partition(" ")
        parts = urlsplit(target)
        ticket = (parse_qs(parts.query).get("ticket") or [""])[0]
        key = headers.get("sec-websocket-key", "")
        problem = None
        if method != "GET" or version != "HTTP/1.1":
            problem = f"not a GET over HTTP/1.1: {request_line!r}"
        elif headers.get("upgrade", "").lower() != "websocket":
            problem = "no `Upgrade: websocket` header"
        elif "upgrade" not in {token.strip().lower() for token in headers.get("connection", "").split(",")}:
            problem = "no `Connection: Upgrade` header"
        elif headers.get("sec-websocket-version") != "13":
            problem = "Sec-WebSocket-Version is not 13"
        elif not _valid_key(key):
            problem = "Sec-WebSocket-Key is not 16 bytes in base64"
        elif parts.path != "/link/":
            return self._refuse(sock, 404, "Not Found", f"unknown path {parts.path}")
        if problem:
            return self._refuse(sock, 400, "Bad Request", problem)
        with self._lock:
            if self._tickets.get(ticket) is not False:
                why = "ticket already used" if ticket in self._tickets else "unknown ticket"
                return self._refuse(sock, 401, "Unauthorized", why)
            self._tickets[ticket] = True
            connection = SocketConnection(
                id=next(self._ids),
                ticket=ticket,
                path=target,
                headers=headers,
                connected_at=time.monotonic(),
                _sock=sock,
            )
            accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()  # noqa: S324
            # Listed before the 101 (once the client is connected, the test sees it), and nothing may be
            # sent on it before the 101 and the hello: Slack's first message is always the hello.
            with connection._send_lock:
                self.connections.append(connection)
                sock.sendall(
                    (
                        "HTTP/1.1 101 Switching Protocols\r\n"
                        "Upgrade: websocket\r\n"
                        "Connection: Upgrade\r\n"
                        f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
                    ).encode()
                )
                if self.send_hello:
                    sock.sendall(_frame(_TEXT, json.dumps(self._hello(connection)).encode()))
        return connection

    def _hello(self, connection: SocketConnection) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": len(self.open_connections()),
            "debug_info": {
                "host": f"applink-fake-{connection.id}",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }

    def _refuse(self, sock: socket.socket, status: int, phrase: str, why: str) -> None:
        with self._lock:
            self.refused_handshakes.append(why)
        body = why.encode()
        sock.sendall(
            f"HTTP/1.1 {status} {phrase}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n".encode()
            + body
        )
        return None

    def _read_frames(self, connection: SocketConnection, reader: _Reader) -> None:
        fragments: list[bytes] | None = None
        fragment_opcode = _TEXT
        while True:
            fin, opcode, payload = _read_frame(reader)
            if connection.silent:
                continue
            if opcode >= 0x8:  # control frames: never fragmented, at most 125 bytes (RFC 6455, 5.5)
                if not fin or len(payload) > 125:
                    raise _ProtocolError("fragmented or oversized control frame")
                if opcode == _PING:
                    connection.pings += 1
                    if self.answer_pings:
                        connection._send_frame(_PONG, payload)
                elif opcode == _PONG:
                    connection.pongs += 1
                elif opcode == _CLOSE:
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                    connection.close_code = code
                    connection.close(code if code != 1005 else 1000)  # answer the closing handshake
                    return
                else:
                    raise _ProtocolError(f"unknown control opcode {opcode:#x}")
                continue
            if opcode == _CONTINUATION:
                if fragments is None:
                    raise _ProtocolError("continuation frame with nothing to continue")
                fragments.append(payload)
            elif opcode in (_TEXT, _BINARY):
                if fragments is not None:
                    raise _ProtocolError("new message inside a fragmented one")
                fragments, fragment_opcode = [payload], opcode
            else:
                raise _ProtocolError(f"unknown data opcode {opcode:#x}")
            if sum(len(part) for part in fragments) > _MAX_MESSAGE:
                raise _ProtocolError("message too big")
            if fin:
                message, fragments = b"".join(fragments), None
                if fragment_opcode == _TEXT:
                    self._received(connection, message)

    def _received(self, connection: SocketConnection, raw: bytes) -> None:
        try:
            message = json.loads(raw.decode("utf-8"))
        except ValueError as error:
            raise _ProtocolError(f"a text message that is not JSON: {raw[:80]!r}") from error
        with self._lock:
            connection.messages.append(message)
            envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
            if isinstance(envelope_id, str):
                sent_at = self._delivered.get(envelope_id, time.monotonic())
                now = time.monotonic()
                ack = Ack(envelope_id, message.get("payload"), now - sent_at, message, now, connection.id)
                self._acks.setdefault(envelope_id, []).append(ack)

    def _describe_messages(self) -> str:
        received = [m for c in self.connections for m in c.messages]
        return f"messages from the client: {received[-10:]}; open connections: {len(self.open_connections())}"

    def _wait_until(self, ready: Callable[[], T | None], timeout: float, describe: Callable[[], str]) -> T:
        return wait_until(self._lock, ready, timeout, describe)


class _ProtocolError(Exception):
    """The client broke RFC 6455; the connection is closed with 1002."""


class _Reader:
    """Exact-size reads from a socket."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""

    def read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            chunk = self._sock.recv(max(4096, size - len(self._buffer)))
            if not chunk:
                raise ConnectionError("the client closed the socket")
            self._buffer += chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def _read_frame(reader: _Reader) -> tuple[bool, int, bytes]:
    """One frame from the client: (fin, opcode, unmasked payload)."""
    first, second = reader.read(2)
    if first & 0x70:
        raise _ProtocolError("reserved bits set without a negotiated extension")
    fin, opcode = bool(first & 0x80), first & 0x0F
    if not second & 0x80:
        raise _ProtocolError("unmasked frame from the client")
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", reader.read(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", reader.read(8))
    if length > _MAX_MESSAGE:
        raise _ProtocolError("frame too big")
    mask = reader.read(4)
    payload = reader.read(length)
    return fin, opcode, bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))


def _frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked frame, as a server sends it."""
    header = bytes([0x80 | opcode])
    length = len(payload)
    if length <= 125:
        header += bytes([length])
    elif length <= 0xFFFF:
        header += bytes([126]) + struct.pack("!H", length)
    else:
        header += bytes([127]) + struct.pack("!Q", length)
    return header + payload


def _valid_key(key: str) -> bool:
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except ValueError:
        return False
