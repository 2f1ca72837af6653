"""Socket Mode: the bot's WebSocket connection to Slack, kept up through Slack's routine changes.

Our own small loop on the threaded client of the `websockets` library (why, with the figures, in the
README's Reliability section), in place of slack_sdk's `SocketModeClient`:

- **Acks go out before anything is done.** A listener's ``ack()`` writes the ack to the socket there and
  then; when it cannot (the connection is gone), ``ack()`` raises :class:`AckNotSent` and the listener stops
  before doing anything. So a request is acted on only once its ack was sent, and one whose ack was not sent
  is never acted on (Slack told its author it failed). An ack that comes after Bolt's 3 s wait is refused
  the same way.
- **Slack's refreshes cost nothing.** On ``{"type": "disconnect"}`` the new connection is opened and serving
  while the old one keeps serving what Slack still sends there; the old one is closed a moment later, once
  what it took is acked.
- **A dead connection is noticed**: a ping every few seconds, and a connection whose pong does not come in
  time is replaced (also one closed by Slack or the network, at once).
- **Connecting retries** ``apps.connections.open`` and the WebSocket handshake with exponential backoff,
  one log line per attempt; a refused app-level token is not retried (:class:`AppTokenRefused`).
- **Stopping** (:meth:`SocketModeServer.stop`, from a signal handler): no new envelope is taken, what was
  taken is acked, and every connection is closed; the caller then lets the sends drain.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any

from slack_bolt import App
from slack_bolt.context.ack import Ack
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import ClientConnection, connect

from bot.sending.acks_first import AckGate

log = logging.getLogger(__name__)

# Slack's answers to apps.connections.open that no retry can fix: the app-level token itself is wrong.
REFUSED_TOKEN = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "account_inactive", "not_allowed_token_type"}
)
ENVELOPE_TYPES = frozenset({"slash_commands", "interactive", "events_api"})


@dataclass(frozen=True)
class Timing:
    """How the connection is kept: the defaults are the production values (see the README)."""

    ping_interval: float = 3.0  # a ping every this many seconds...
    ping_timeout: float = 4.0  # ...and a connection whose pong is this late is dead: replaced within 7 s
    open_timeout: float = 10.0  # apps.connections.open, then the TCP, TLS and WebSocket handshakes
    close_timeout: float = 1.0  # waiting for Slack's answer to our close frame
    retire_after: float = 2.0  # how long a connection Slack asked us to leave keeps serving
    ack_wait: float = 3.5  # at stop, for the envelopes taken to be acked (Bolt waits 3 s for a listener)
    first_retry: float = 0.5  # backoff between connection attempts: doubles from this...
    max_retry: float = 30.0  # ...up to this


class AppTokenRefused(Exception):
    """Slack refused SLACK_APP_TOKEN (``code`` is its error): retrying cannot help."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class AckNotSent(Exception):
    """The ack could not be sent (connection gone, or too late): the listener must do nothing more."""


class _NotConnected(Exception):
    """One connection attempt failed for a reason worth retrying (said in one line)."""

    def __init__(self, why: str, retry_after: float = 0.0) -> None:
        super().__init__(why)
        self.retry_after = retry_after  # Slack's Retry-After, when it rate-limits


class SocketModeServer:
    """Serves a Bolt app over Socket Mode until :meth:`stop`.

    ``serve()`` blocks in the calling thread; ``stop()`` only sets a flag, so a signal handler may call it.
    """

    def __init__(
        self,
        app: App,
        app_token: str,
        api_url: str,
        *,
        timing: Timing | None = None,
        workers: int = 16,
        gate: AckGate | None = None,
    ) -> None:
        self._app = app
        self._gate = gate  # counts the envelopes being acked, as the HTTP server counts its requests
        self._app_token = app_token
        self._timing = timing or Timing()
        # A client of its own: the app-level token, and no retries of its own (the backoff here does them).
        self._web = WebClient(base_url=api_url, timeout=max(1, int(self._timing.open_timeout)))
        self._dispatchers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smsbot-envelope")
        self._stop_requested = False  # set from a signal handler: a plain flag, read by the loops
        self._wake = threading.Event()  # a connection changed: the keeper looks at once
        self._lock = threading.Condition()  # guards the links and their envelopes in flight
        self._links: list[_Link] = []
        self._numbers = iter(range(1, 1 << 62))
        app.error(_log_listener_error)  # AckNotSent is a line in the log, not a traceback

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stop_requested

    def stop(self) -> None:
        """Ask :meth:`serve` to stop taking envelopes, ack what it took, close its connections and return."""
        self._stop_requested = True

    def serve(self) -> None:
        """Connect, then keep a live connection until :meth:`stop`. Raises :class:`AppTokenRefused`."""
        try:
            current = self._connect()
            while current is not None and not self._stop_requested:
                self._wake.wait(0.05)  # short: stop() cannot wake it (a signal handler must not take locks)
                self._wake.clear()
                self._retire_due()
                if current.finished.is_set() or current.leave_requested:
                    why = current.leave_requested or f"the connection was lost ({current.closed_because})"
                    log.info("Socket Mode connection %d: %s; opening a new one", current.number, why)
                    old, current = current, self._connect()
                    self._retire(old)
        finally:
            self._shut_down()

    # --- connecting ----------------------------------------------------------------------------------

    def _connect(self) -> _Link | None:
        """A new, serving connection; retried with backoff until it works or stop() is called."""
        delay, attempt = self._timing.first_retry, 0
        while not self._stop_requested:
            attempt += 1
            try:
                return self._open()
            except _NotConnected as failure:
                why, retry_after = str(failure), failure.retry_after
            wait = max(delay * random.uniform(0.8, 1.2), retry_after)  # noqa: S311 - jitter, not secrecy
            log.warning(
                "could not connect to Slack in Socket Mode (attempt %d: %s); retrying in %.1f s",
                attempt,
                why,
                wait,
            )
            deadline = time.monotonic() + wait
            while not self._stop_requested and time.monotonic() < deadline:
                time.sleep(0.05)
            delay = min(delay * 2, self._timing.max_retry)
        return None

    def _open(self) -> _Link:
        try:
            response = self._web.apps_connections_open(app_token=self._app_token)
            url = response["url"]
        except SlackApiError as error:
            code = str(error.response.get("error") or "no error code")
            if code in REFUSED_TOKEN:
                raise AppTokenRefused(code) from None
            retry_after = (
                float(error.response.headers.get("Retry-After", 0) or 0) if code == "ratelimited" else 0
            )
            raise _NotConnected(
                f"apps.connections.open answered HTTP {error.response.status_code}, {code}", retry_after
            ) from None
        except (SlackClientError, OSError, HTTPException, KeyError, TypeError) as error:
            raise _NotConnected(f"apps.connections.open failed: {_describe(error)}") from None
        try:
            websocket = connect(
                url,
                open_timeout=self._timing.open_timeout,
                ping_interval=self._timing.ping_interval,
                ping_timeout=self._timing.ping_timeout,
                close_timeout=self._timing.close_timeout,
                max_size=16
                * 1024
                * 1024,  # Slack's envelopes are far smaller; refusing one would cost the link
                compression=None,
                logger=_WEBSOCKET_LOG,
                legacy=True,  # the connection itself, closed by us (17.x warns without it, 18 may change it)
            )
        except (OSError, WebSocketException, HTTPException) as error:
            raise _NotConnected(f"the WebSocket handshake failed: {_describe(error)}") from None
        with self._lock:
            link = _Link(self, websocket, next(self._numbers))
            self._links.append(link)
        # Served from the handshake on: Slack's `hello` follows at once, but nothing depends on it (Slack's
        # own mock server sends it only once the client has spoken).
        link.start()
        log.info("connected to Slack in Socket Mode (connection %d)", link.number)
        return link

    # --- leaving connections ------------------------------------------------------------------------

    def _retire(self, link: _Link) -> None:
        """Let a connection Slack asked us to leave serve a little longer (or until Slack closes it)."""
        with self._lock:
            link.retire_at = time.monotonic() + (
                self._timing.retire_after if not link.finished.is_set() else 0
            )
        self._retire_due()

    def _retire_due(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [link for link in self._links if link.retire_at is not None and link.retire_at <= now]
            for link in due:
                link.retire_at = None
                link.taking = False
        for link in due:
            threading.Thread(
                target=self._close, args=(link,), name="smsbot-socket-close", daemon=True
            ).start()

    def _close(self, link: _Link) -> None:
        """Stop taking envelopes on ``link``, wait until those it took are acked, then close it."""
        with self._lock:
            link.taking = False
            self._lock.wait_for(lambda: link.in_flight == 0, timeout=self._timing.ack_wait)
        try:
            link.websocket.close()  # our close frame, then Slack's answer for at most close_timeout
        except (OSError, WebSocketException) as error:
            log.info("Socket Mode connection %d: closing it failed (%s)", link.number, _describe(error))
        link.finished.wait(self._timing.close_timeout)
        with self._lock:
            if link in self._links:
                self._links.remove(link)

    def _shut_down(self) -> None:
        with self._lock:
            links = list(self._links)
            for link in links:
                link.taking = False
            self._lock.wait_for(
                lambda: all(link.in_flight == 0 for link in links), timeout=self._timing.ack_wait
            )
        closing = [
            threading.Thread(target=self._close, args=(link,), name="smsbot-socket-close", daemon=True)
            for link in links
        ]
        for thread in closing:
            thread.start()
        for thread in closing:
            thread.join()
        self._dispatchers.shutdown(wait=True)
        if links:
            log.info("Socket Mode: disconnected from Slack")

    # --- envelopes -----------------------------------------------------------------------------------

    def _take(self, link: _Link, message: dict[str, Any]) -> None:
        """Hand an envelope to Bolt, unless the link no longer takes any (then Slack never gets an ack)."""
        with self._lock:
            if not link.taking:
                log.info("envelope %s not taken: stopping (Slack gets no ack)", message.get("envelope_id"))
                return
            link.in_flight += 1
        self._dispatchers.submit(self._dispatch, link, message)

    def _dispatch(self, link: _Link, message: dict[str, Any]) -> None:
        envelope_id = str(message["envelope_id"])
        ack = _EnvelopeAck(link, envelope_id)
        try:
            headers: dict[str, str] = {}
            if message.get("retry_attempt") is not None:  # as Bolt's own adapter: HTTP mode's retry headers
                headers["x-slack-retry-num"] = str(message["retry_attempt"])
            if message.get("retry_reason") is not None:
                headers["x-slack-retry-reason"] = str(message["retry_reason"])
            request = BoltRequest(
                mode="socket_mode", body=message.get("payload") or {}, headers=headers or None
            )
            request.context["ack"] = ack
            with self._gate.acknowledging() if self._gate else nullcontext():  # queued sends wait for it
                ack.settle(self._app.dispatch(request))
        except Exception:
            log.exception("envelope %s could not be handled", envelope_id)
            ack.settle(None)
        finally:
            with self._lock:
                link.in_flight -= 1
                self._lock.notify_all()


class _Link:
    """One WebSocket connection and the thread reading it."""

    def __init__(self, server: SocketModeServer, websocket: ClientConnection, number: int) -> None:
        self.server = server
        self.websocket = websocket
        self.number = number
        self.finished = threading.Event()  # the connection is closed, whoever closed it
        self.leave_requested: str | None = None  # Slack's disconnect message, said in a few words
        self.taking = True  # guarded by the server's lock
        self.in_flight = 0  # envelopes taken and not yet acked (or refused); guarded by the server's lock
        self.retire_at: float | None = None  # when a connection being left stops serving
        self.closed_because = "closed"  # the library's words, e.g. "no close frame received or sent"
        self._reader = threading.Thread(target=self._read, name=f"smsbot-socket-{number}", daemon=True)

    def start(self) -> None:
        self._reader.start()

    def send(self, message: dict[str, Any]) -> None:
        """Send one JSON message; raises ``ConnectionClosed`` when the connection is gone."""
        self.websocket.send(json.dumps(message, separators=(",", ":")))

    def _read(self) -> None:
        try:
            for raw in self.websocket:
                self._received(raw)
        except ConnectionClosed as closed:
            self.closed_because = str(closed)
        except Exception:
            log.exception("Socket Mode connection %d: reading failed", self.number)
            self.websocket.close()
        finally:
            self.finished.set()
            self.server._wake.set()

    def _received(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            log.warning("Socket Mode connection %d: a message that is not JSON was ignored", self.number)
            return
        if not isinstance(message, dict):
            return
        kind = message.get("type")
        if kind == "hello":
            log.debug("Socket Mode connection %d: hello from Slack", self.number)
        elif kind == "disconnect":
            self.leave_requested = f"Slack asked to reconnect ({message.get('reason', 'no reason given')})"
            self.server._wake.set()
        elif kind in ENVELOPE_TYPES and isinstance(message.get("envelope_id"), str):
            self.server._take(self, message)
        else:
            log.info("Socket Mode connection %d: a %r message was ignored", self.number, kind)


class _EnvelopeAck(Ack):
    """Bolt's ``ack()`` that sends the ack on the envelope's connection before returning.

    Raises :class:`AckNotSent` when it cannot (connection gone, or the envelope given up on): the listener
    then stops there, before doing anything that would need the ack.
    """

    def __init__(self, link: _Link, envelope_id: str) -> None:
        super().__init__()
        self._link = link
        self._envelope_id = envelope_id
        self._lock = threading.Lock()
        self._decided = False  # sent, refused, or given up on: the first of these decides
        self._sent = False

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        with self._lock:
            if self._decided:
                if self._sent:  # a second ack(): Slack already has the first
                    assert self.response is not None
                    return self.response
                raise AckNotSent(f"envelope {self._envelope_id} was not acked in time: nothing was done")
            self._decided = True
            response = super().__call__(*args, **kwargs)
            self._send(response)
            return response

    def settle(self, response: BoltResponse | None) -> None:
        """After Bolt's dispatch: ack what Bolt answered itself (no listener called ack()), or give up."""
        with self._lock:
            if self._decided:
                return
            self._decided = True
            if response is None or response.status != 200:
                status = "no answer" if response is None else f"status {response.status}"
                log.warning(
                    "envelope %s not acked (%s): Slack tells the person it failed", self._envelope_id, status
                )
                return
            try:
                self._send(response)
            except AckNotSent as error:
                log.warning("%s", error)

    def _send(self, response: BoltResponse) -> None:
        message: dict[str, Any] = {"envelope_id": self._envelope_id}
        if response.body:
            content_type = (response.headers.get("content-type") or [""])[0]
            message["payload"] = (
                json.loads(response.body)
                if content_type.startswith("application/json")
                else {"text": response.body}
            )
        try:
            self._link.send(message)
        except (ConnectionClosed, OSError) as error:
            raise AckNotSent(
                f"envelope {self._envelope_id}: the ack could not be sent ({_describe(error)}): nothing was done"
            ) from None
        self._sent = True


def _log_listener_error(error: Exception, logger: logging.Logger) -> None:
    if isinstance(error, AckNotSent):
        log.warning("%s", error)
    else:  # what Bolt's default handlers do
        logger.exception("Failed to handle a request (error: %s)", error)


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _one_line(record: logging.LogRecord) -> bool:
    # The library logs a keepalive timeout as an error with a traceback; the keeper says in its own line that
    # the connection was lost, and why. Anything else it logs is kept, in one line.
    if record.exc_info and isinstance(record.exc_info[1], ConnectionClosed):
        return False
    if record.exc_info and record.exc_info[1] is not None:
        record.msg = f"{record.getMessage()} ({_describe(record.exc_info[1])})"
        record.args, record.exc_info, record.exc_text = None, None, None
    return True


# The library logs every frame at DEBUG, envelopes (phone numbers) included: never below INFO.
_WEBSOCKET_LOG = logging.getLogger("smsbot.socket_mode.websocket")
_WEBSOCKET_LOG.setLevel(logging.INFO)
_WEBSOCKET_LOG.addFilter(_one_line)
