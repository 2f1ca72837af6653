"""HTTP mode: Bolt behind waitress, a multi-threaded production WSGI server."""

from __future__ import annotations

import hmac
import json
import logging
import resource
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.context.ack import Ack
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_normalized_headers, extract_content_type, parse_body
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier
from waitress import create_server, wasyncore

from bot.app import SmsBot
from bot.domain.errors import InputField
from bot.server.health import HealthCheck
from bot.server.socket_mode import AckNotSent

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/health"
CALLBACK_PREFIX = "/ovh/callback/"
StartResponse = Callable[..., Any]
log = logging.getLogger(__name__)
_STOP_CHECK_SECONDS = 0.5
_DRAIN_STEP_SECONDS = 0.05
# How long a stopping server waits for the answers of the requests it took (acks take milliseconds, a
# form's views.open at most Slack's 3 seconds).
DRAIN_SECONDS = 10.0
# The largest body Slack sends this app is a submission of the compose form: its view and the two typed
# fields of at most 3,000 characters each. Written in emoji (16 bytes each once JSON-escaped and
# form-encoded) it is 99 KB. A body over 1 MiB is refused with 413 before it is read: as soon as its
# Content-Length announces it, or, sent chunked, once that much has come in (waitress counts it as it
# streams, and keeps what it has above 512 KB in a temporary file, not in memory).
MAX_BODY_BYTES = 1024 * 1024
# Connections. waitress holds 100 at once by default, and a client that sends its request slowly (a
# slowloris) keeps one for as long as it goes on: 200 of them and nothing else was accepted, while the
# requests Slack sent meanwhile waited in the backlog. So: room for 1,000 (poll(), as select() stops at
# descriptor 1,024), and a connection that has not sent a whole request within RECEIVE_SECONDS of starting
# one (or of connecting) is closed. Slack sends a request at once; one that takes seconds to arrive is past
# Slack's deadline anyway. A kept-alive connection between requests (a load balancer's) is idle, not slow:
# waitress closes it after its channel_timeout (120 s), longer than load balancers keep idle ones.
CONNECTION_LIMIT = 1000
RECEIVE_SECONDS = 10.0
_SWEEP_SECONDS = 0.5
_RESERVED_FILES = 512  # descriptors kept for the database, Slack and OVH connections, logs
# Slack waits 3 s for an answer, then tells the person that the command failed. A request that reaches
# the app later must not be acted on: the SMS would go out while its author, told it failed, may type it
# again. The age is read from Slack's signed X-Slack-Request-Timestamp, so that the time a request spent
# waiting before the server accepted it counts (the 200 slow connections above left two commands 75 s in
# the backlog: time measured from accepting them would have missed it). That timestamp is in whole
# seconds: a request may read up to 1 s older than it is. So a request is late when it is more than
# 3 + 1 s old by our clock: one Slack still waits for is never refused while the clocks agree (NTP keeps
# them within milliseconds; a clock off by more shows in the log, which gives each late request's age),
# and one acted on was at most 4 s old.
SLACK_DEADLINE_SECONDS = 3
TIMESTAMP_ALLOWANCE_SECONDS = 1
TOO_LATE = (
    "This reached the bot {age:.0f} seconds after you sent it, after Slack had stopped waiting for the bot's "
    "answer (3 seconds), so nothing was sent. Send it again."
)
# Bolt waits 3 s for a listener's ack, then answers Slack without it (Slack tells the person it failed). An
# ack is refused a little before that, so that any ack taken is one Bolt still sends.
ACK_WAIT_SECONDS = 2.9


def wsgi_app(bot: SmsBot) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """``POST /slack/events`` goes to Bolt; ``GET /health`` reports the database and Slack."""
    health = HealthCheck(bot.core.engine, bot.core.settings)
    secret = bot.core.settings.slack_signing_secret
    verifier = SignatureVerifier(secret) if secret else None

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        if path == HEALTH_PATH and method == "GET":
            result = health.check()
            status = 200 if result.ok else 503
            return _answer(
                start_response, status, {"status": "ok" if result.ok else "error", **result.details}
            )
        if isinstance(path, str) and path.startswith(CALLBACK_PREFIX) and method in ("GET", "POST"):
            status = ovh_callback(bot, path.removeprefix(CALLBACK_PREFIX), environ)
            return _answer(start_response, status, {"ok": True} if status == 200 else {"error": "not found"})
        if path == EVENTS_PATH and method == "POST":
            with bot.acks.acknowledging():  # sends queued meanwhile wait: acks go first
                response = _slack_event(bot, verifier, environ)
            headers = [(name, value) for name, values in response.headers.items() for value in values]
            start_response(f"{response.status} {HTTPStatus(response.status).phrase}", headers)
            return [response.body.encode("utf-8")]
        return _answer(start_response, 404, {"error": "not found"})

    return application


# The most of a callback's body that is read: OVH sends a few short form fields.
CALLBACK_BODY_BYTES = 16 * 1024


def ovh_callback(bot: SmsBot, token: str, environ: dict[str, Any]) -> int:
    """OVH's push that a sent SMS changed state: the HTTP status to answer.

    A token that does not match OVH_CALLBACK_TOKEN (or none set) is a 404, and nothing changes. A matching
    one is only a hint: its ``id`` names the SMS to read from OVH at the next pass (soon after), and
    nothing else from the request is believed. OVH wants a 200, whatever the bot makes of it.
    """
    expected = bot.core.settings.ovh_callback_token
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        return 404
    fields = parse_qs(str(environ.get("QUERY_STRING") or ""))
    if environ.get("REQUEST_METHOD") == "POST":
        try:
            length = min(int(environ.get("CONTENT_LENGTH") or 0), CALLBACK_BODY_BYTES)
            body = environ["wsgi.input"].read(length).decode("utf-8", "replace") if length > 0 else ""
        except (ValueError, OSError):
            body = ""
        for name, values in parse_qs(body).items():
            fields.setdefault(name, values)
    raw = (fields.get("id") or [""])[0].strip()
    if not raw.isdigit() or len(raw) > 18:
        log.info("OVH callback without a readable SMS id: nothing to read")
        return 200
    try:
        followed = bot.core.follower.hint(int(raw))
    except Exception:  # the push is only a hint: the next pass reads what is due anyway
        log.exception("OVH callback for SMS %s could not be noted", raw)
        return 200
    if followed:
        bot.wake_delivery()
    return 200


def _answer(start_response: StartResponse, status: int, body: dict[str, Any]) -> Iterable[bytes]:
    payload = json.dumps(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
    return [payload]


def _refuse(status: int, error: str) -> BoltResponse:
    return BoltResponse(
        status=status, body=json.dumps({"error": error}), headers={"content-type": "application/json"}
    )


def _slack_event(bot: SmsBot, verifier: SignatureVerifier | None, environ: dict[str, Any]) -> BoltResponse:
    """Authenticate, then parse, then hand to Bolt.

    Bolt parses a body before checking its signature and lets a parse error escape (a 500 to anyone);
    here nothing is parsed before the signature holds, and a signed body Bolt cannot read is a 400.
    """
    request = WsgiHttpRequest(environ)
    headers = request.get_headers()
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode("utf-8") if length > 0 else ""
    except (ValueError, UnicodeDecodeError):
        return _refuse(400, "the body is not UTF-8 text")
    if _is_ssl_check(body, headers):
        return BoltResponse(status=200, body="")
    timestamp = str(headers.get("x-slack-request-timestamp") or "")
    if verifier is not None:
        signature = str(headers.get("x-slack-signature") or "")
        if not (
            timestamp.isdigit() and len(timestamp) <= 12 and verifier.is_valid(body, timestamp, signature)
        ):
            return _refuse(401, "invalid request")
    age = time.time() - int(timestamp) if timestamp.isdigit() and len(timestamp) <= 12 else None
    try:
        bolt_request = BoltRequest(body=body, query=request.query_string, headers=headers)
    except (ValueError, TypeError, AttributeError, KeyError):
        return _refuse(400, "the body is not a request Slack sends")
    if not _readable_shape(bolt_request.body):
        return _refuse(400, "the body is not a request Slack sends")
    if age is not None and age > SLACK_DEADLINE_SECONDS + TIMESTAMP_ALLOWANCE_SECONDS:
        return _too_late(bolt_request.body, age)
    ack = _TimelyAck(ACK_WAIT_SECONDS)
    bolt_request.context["ack"] = ack
    try:
        return bot.app.dispatch(bolt_request)
    except Exception:
        log.exception("a signed request could not be dispatched")
        return _refuse(400, "the request could not be handled")
    finally:
        ack.close()


class _TimelyAck(Ack):
    """Bolt's ``ack()`` that refuses once Slack can no longer get it (after ``wait`` seconds, or once Bolt
    answered without it): it raises :class:`AckNotSent`, so the listener stops before acting on a request
    Slack told its author had failed (as Socket Mode's ack does)."""

    def __init__(self, wait: float) -> None:
        super().__init__()
        self._deadline = time.monotonic() + wait
        self._lock = threading.Lock()
        self._closed = False

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        with self._lock:
            if self.response is None and (self._closed or time.monotonic() > self._deadline):
                raise AckNotSent("a request was not acked in time: nothing was done")
            return super().__call__(*args, **kwargs)

    def close(self) -> None:
        """Bolt answered Slack: an ack from now on reaches nobody."""
        with self._lock:
            self._closed = True


def _too_late(body: dict[str, Any], age: float) -> BoltResponse:
    """Answer a request Slack gave up on without acting on it; should Slack still be listening (our clock
    ahead of Slack's), the person reads why nothing happened."""
    kind = body.get("command") or body.get("type") or "request"
    log.warning(
        "a %s signed %.1f s ago arrived after Slack's %d s deadline: not acted on",
        kind if isinstance(kind, str) and len(kind) <= 40 else "request",
        age,
        SLACK_DEADLINE_SECONDS,
    )
    text = TOO_LATE.format(age=age)
    if body.get("type") == "view_submission":
        answer: dict[str, Any] = {"response_action": "errors", "errors": {InputField.RECEIVERS.value: text}}
    elif "command" in body:
        answer = {"response_type": "ephemeral", "text": text}
    else:
        return BoltResponse(status=200, body="")
    return BoltResponse(status=200, body=json.dumps(answer), headers={"content-type": "application/json"})


def _is_ssl_check(body: str, headers: dict[str, Any]) -> bool:
    """Slack's check of the certificate of the command's URL: unsigned, and answered 200 with nothing done.

    The same test as Bolt's SslCheck middleware, which runs before Bolt's signature check: the body, read as
    Bolt reads it (JSON or form, a form's ``payload`` field as JSON), has ``ssl_check`` equal to "1".
    """
    if "ssl_check" not in body:  # cheap: most bodies are never parsed unsigned
        return False
    try:
        parsed = parse_body(body, extract_content_type(build_normalized_headers(headers)))
    except (ValueError, TypeError):
        return False
    return isinstance(parsed, dict) and parsed.get("ssl_check") == "1"


def _readable_shape(body: Any) -> bool:
    # Bolt's matchers read these without checking them.
    if not isinstance(body, dict):
        return False
    view = body.get("view")
    return view is None or (isinstance(view, dict) and isinstance(view.get("type"), str))


def _connection_limit(wanted: int) -> int:
    """``wanted``, or fewer if the process may not open enough files; raises its soft limit of open files
    towards the hard one first, as the container's default soft limit may be 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + _RESERVED_FILES
    if soft != resource.RLIM_INFINITY and soft < needed:
        raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError) as error:
            log.warning("could not raise the limit of open files to %d: %s", raised, error)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return wanted
    limit = max(soft - _RESERVED_FILES, 16)
    log.warning("at most %d connections at once: the process may open only %d files", limit, soft)
    return limit


class HttpServer:
    """waitress serving the bot; :meth:`stop` may be called from any thread, or from a signal handler."""

    def __init__(
        self,
        bot: SmsBot,
        host: str,
        port: int,
        threads: int = 16,
        *,
        drain_seconds: float = DRAIN_SECONDS,
        receive_seconds: float = RECEIVE_SECONDS,
    ) -> None:
        self._server = create_server(
            wsgi_app(bot),
            host=host,
            port=port,
            threads=threads,
            backlog=2048,  # Slack sends bursts; the standard library's default of 5 refuses them
            max_request_body_size=MAX_BODY_BYTES + 1,  # waitress refuses a body of this size or more
            connection_limit=_connection_limit(CONNECTION_LIMIT),
            asyncore_use_poll=True,
            ident="smsbot",
            clear_untrusted_proxy_headers=True,
        )
        self._drain_seconds = drain_seconds
        self._receive_seconds = receive_seconds
        self._receiving: dict[Any, tuple[Any, float]] = {}  # channel -> (its request in progress, since)
        self._next_sweep = 0.0
        self._stopping = threading.Event()
        # Reentrant: a signal handler calling stop() runs on the loop's thread, which may hold it already.
        self._closing = threading.RLock()
        self._closed = False

    @property
    def port(self) -> int:
        """The port listened on (useful with port 0)."""
        return int(self._server.effective_port)

    def serve(self) -> None:
        """Serve until :meth:`stop` or a KeyboardInterrupt, then answer the requests in flight and return
        (re-raising the KeyboardInterrupt, if that is what stopped it).

        waitress's own ``run()`` has no stop but closing its sockets from another thread, which races with
        the loop, and on an interrupt it closes every connection while its threads may still be writing
        answers. Here the loop checks a flag, only its own thread ever closes a socket, and on stop it
        closes the listening socket first, keeps running until every request it took is answered (at
        most ``drain_seconds``), and only then closes the rest. A request not wholly received by then was
        not taken: its connection is closed.
        """
        interrupted: KeyboardInterrupt | None = None
        try:
            try:
                while not self._stopping.is_set():
                    self._loop_once(_STOP_CHECK_SECONDS)
                    self._close_slow_connections()
            except KeyboardInterrupt as interrupt:
                interrupted = interrupt
            self._drain()
        except KeyboardInterrupt as interrupt:  # a second one, while draining: stop waiting
            log.warning("interrupted again: closing the connections of the requests still in flight")
            interrupted = interrupted or interrupt
        finally:
            self._close_connections()
            # Idle once drained; otherwise their threads get a second, with the wake-up pipe they may pull
            # still open, and no more.
            self._server.task_dispatcher.shutdown(timeout=1)
            with self._closing:
                self._closed = True
                wasyncore.close_all(self._server._map)  # what is left: the wake-up pipe
        if interrupted is not None:
            raise interrupted

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stopping.is_set()

    def stop(self) -> None:
        """Ask the loop to stop; it wakes at once, stops accepting and answers the requests in flight.

        Safe from any thread and from a signal handler: it only sets a flag and wakes the loop.
        """
        self._stopping.set()
        with self._closing:  # never write to the wake-up pipe once closed: its descriptor may be reused
            if not self._closed:
                self._server.trigger.pull_trigger()

    def _loop_once(self, timeout: float) -> None:
        wasyncore.loop(
            timeout=timeout,
            map=self._server._map,
            use_poll=self._server.adj.asyncore_use_poll,
            count=1,
        )

    def _drain(self) -> None:
        # Stop accepting: a load balancer sees refused connections, not resets of answered requests. Only
        # the listening socket: the wake-up pipe and the connections stay in the loop.
        wasyncore.dispatcher.close(self._server)
        self._close_idle_connections()
        if self._idle():
            return
        log.info("stopping: answering %d request(s) in flight", len(self._server.active_channels))
        deadline = time.monotonic() + self._drain_seconds
        while not self._idle():
            if time.monotonic() >= deadline:
                log.warning(
                    "%d request(s) still unanswered after %g s: closing their connections",
                    len(self._server.active_channels),
                    self._drain_seconds,
                )
                return
            self._loop_once(_DRAIN_STEP_SECONDS)
            self._close_idle_connections()

    def _close_slow_connections(self) -> None:
        """Close the connections that have spent over ``receive_seconds`` sending one request, or that
        sent nothing in that time since they connected (at most every _SWEEP_SECONDS).

        Only connections with no request being answered: waitress closes them on the loop's thread, this
        one, as its own channel_timeout does.
        """
        now = time.time()  # waitress stamps connections with time.time()
        if now < self._next_sweep:
            return
        self._next_sweep = now + _SWEEP_SECONDS
        receiving: dict[Any, tuple[Any, float]] = {}
        slow = 0
        for channel in list(self._server.active_channels.values()):
            if channel.requests or channel.will_close or channel.close_when_flushed:
                continue
            if channel.request is not None:  # part of a request came in
                known, since = self._receiving.get(channel, (None, now))
                since = since if known is channel.request else now
                receiving[channel] = (channel.request, since)
            elif channel.last_activity == channel.creation_time:  # connected, and sent nothing since
                since = channel.creation_time
            else:  # idle between two requests
                continue
            if now - since > self._receive_seconds:
                channel.will_close = True
                slow += 1
        self._receiving = receiving
        if slow:
            log.warning(
                "closed %d connection(s) that took over %g s to send a request", slow, self._receive_seconds
            )

    def _close_connections(self) -> None:
        """Close the listening socket (if still open) and every connection, answered or not."""
        wasyncore.dispatcher.close(self._server)
        for channel in list(self._server.active_channels.values()):
            channel.handle_close()  # also wakes a thread waiting to write to it

    def _close_idle_connections(self) -> None:
        """Close the connections with no request in progress and nothing left to send (kept-alive ones,
        and those whose answer went out), so they bring no new request in."""
        for channel in list(self._server.active_channels.values()):
            if not channel.requests and not channel.total_outbufs_len:
                channel.handle_close()

    def _idle(self) -> bool:
        """No request queued or running in waitress's threads, and every answer sent."""
        dispatcher = self._server.task_dispatcher
        with dispatcher.lock:
            working = bool(dispatcher.queue) or dispatcher.active_count > 0
        return not working and not self._server.active_channels
