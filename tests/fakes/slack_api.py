"""A fake Slack Web API that answers `slack_sdk.WebClient(base_url=fake.api_url)` like Slack does.

It also serves response URLs, where Bolt's `respond()` posts its JSON.

It refuses what Slack refuses: every message's blocks and every view are read with slack_sdk's own Block
Kit models (`slack_sdk.models.blocks`, `slack_sdk.models.views`: block and element types, text, title and
label lengths, element limits) plus what those models leave out (unknown block types and fields, 50 blocks
per message, 40,000 characters of text), and answered with Slack's errors (`invalid_blocks`,
`invalid_arguments`, `msg_too_long`). A `trigger_id` works once, within 3 s of the request that carried it
(make one with `new_trigger_id()`); `views.update` checks the view id and `hash`; a response URL takes 5
posts; `chat.update` knows only the messages it posted.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import parse_qsl

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from tests.fakes import FakeServer, HttpRequest, HttpResponse, _Handler, json_response

Params = dict[str, Any]

# The bot scopes of manifest.yml, which a token installed from it has.
DEFAULT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "channels:history",
    "groups:history",
    "im:history",
    "mpim:history",
    "channels:join",
    "usergroups:read",
    "users:read",
    "files:write",
    "im:write",
)
# The scope conversations.history and .replies need, by the first letter of the conversation id.
_HISTORY_SCOPES = {"C": "channels:history", "G": "groups:history", "D": "im:history"}
# Form-encoded requests carry these as JSON strings; decoded so tests can inspect them.
_JSON_FIELDS = ("blocks", "view", "attachments", "metadata")
# The status of an answer that is never sent: the connection is closed instead (see `FakeSlack.dropped`).
_DROP = 0
MESSAGE_BLOCKS_LIMIT = 50  # Slack's limit per message; a view's (100) is checked by slack_sdk's View
MESSAGE_TEXT_LIMIT = 40_000  # characters of a message's `text`: beyond, `msg_too_long`
TRIGGER_LIFETIME = 3.0  # seconds a trigger_id can open a view
# Slack's documented limit on an option's `description` (in checkboxes, radio buttons, menus), which slack_sdk's
# Option does not check: its docstring still says descriptions are for legacy message actions only.
OPTION_DESCRIPTION_LIMIT = 75
RESPONSE_URL_USES = 5
_TRIGGER = re.compile(r"trigger-(\d+)-[0-9a-f]+")


def new_trigger_id(issued_at: float | None = None) -> str:
    """A trigger id as Slack puts in a command or an interaction, issued now (or at `issued_at`).

    The fake reads the issue time back from the id, so any test can make one without the fake at hand.
    """
    issued = time.time() if issued_at is None else issued_at
    return f"trigger-{int(issued * 1000)}-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class SlackCall:
    """One request to a Web API method, as recorded (failed ones too)."""

    method: str
    params: Params
    at: float
    status: int = 200
    error: str | None = None  # Slack's "error" when the answer was not ok
    response: Params | None = None  # what the fake answered

    @property
    def failed(self) -> bool:
        """True when the answer was not `ok` (an injected failure, an outage or a Slack error)."""
        return self.error is not None


@dataclass
class _Failure:
    method: str
    status: int
    error: str
    retry_after: int | None
    times: int


class FakeSlack(FakeServer):
    """The Slack Web API methods smsbot uses, with knobs for the errors Slack gives.

    Knobs (edit them directly): `not_in_channel`, `channel_not_found` (channel ids), `expired_triggers`
    (trigger ids, refused whatever their age), `usergroup_members` (group id -> user ids), `users` (user id -> fields of users.info, with a
    `profile` whose `phone` is what the person typed; ids in neither are `user_not_found`),
    `scopes` (the token's scopes, sent in the `X-OAuth-Scopes` header), `socket_mode_url` (what
    `apps.connections.open` answers: `FakeSocketMode.new_url` of a fake Socket Mode server).

    Network failures, which the SDK raises as they come (`OSError`s, not `SlackClientError`):
    `dropped` (Web API method names or response URLs whose requests get no answer: the connection is
    closed, as a proxy or a network fault does), `drop_if` (the same for the requests it returns True for,
    given the method name or response URL and the params: `lambda method, params: "thread_ts" in params`)
    and `hangs` (method name or response URL -> seconds to wait before answering, to outlast a client's
    timeout). Dropped Web API calls are recorded, with status 0 and error "connection_dropped".
    `withhold_if` (given the method name and the params): the call is carried out (a message is stored)
    but its answer never comes, as when the caller dies or the network breaks after Slack acted; the
    connection is closed once `release_withheld()` or `stop()` is called. `lose_answer_if`: the same, but
    the connection is closed at once (the answer lost on the way back).

    Messages posted are kept (`messages`, by channel, with their `metadata`) and read back by
    conversations.history and conversations.replies, which need the bot in the channel (`joined`, or
    conversations.join; a DM with the bot always) and the history scope of its kind.
    """

    def __init__(
        self,
        bot_token: str = "xoxb-fake-token",
        team_id: str = "T0TEST",
        bot_user_id: str = "UBOT",
        app_token: str = "xapp-1-A0SMSBOT-1-fake-app-token",
    ):
        super().__init__()
        self.bot_token = bot_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        # The app-level token of Socket Mode: apps.connections.open takes it, and only it.
        self.app_token = app_token
        self.socket_mode_url: Callable[[], str] | None = None
        self.not_in_channel: set[str] = set()
        self.channel_not_found: set[str] = set()
        self.expired_triggers: set[str] = set()
        self.usergroup_members: dict[str, list[str]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.dropped: set[str] = set()
        self.drop_if: Callable[[str, Params], bool] | None = None
        self.hangs: dict[str, float] = {}
        self.withhold_if: Callable[[str, Params], bool] | None = None
        self.lose_answer_if: Callable[[str, Params], bool] | None = None
        self._withheld = threading.Event()
        self.messages: dict[str, list[Params]] = {}
        self.joined: set[str] = set()
        # Granted to the token; Slack lists them in the X-OAuth-Scopes header of every authenticated answer.
        self.scopes: list[str] = list(DEFAULT_SCOPES)
        self.calls: list[SlackCall] = []
        self._failures: list[_Failure] = []
        self._down = False
        self._responses: dict[str, list[dict[str, Any]]] = {}
        self._counter = itertools.count(1)
        self._last_micros = 0
        self._used_triggers: set[str] = set()
        self._views: dict[str, str] = {}  # view id -> its current hash
        self.views: dict[str, dict[str, Any]] = {}  # view id -> the view as Slack now shows it
        self._methods: dict[str, Callable[[Params], Params]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.join": self._conversations_join,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "usergroups.users.list": self._usergroups_users_list,
            "users.info": self._users_info,
            **self._home_methods(),
        }
        # App Home (views.publish): the view each user's Home tab shows now.
        self.home_views: dict[str, dict[str, Any]] = {}
        # Files uploaded (files.getUploadURLExternal, then its URL, then files.completeUploadExternal), by id.
        self.files: dict[str, dict[str, Any]] = {}
        # Workflow steps started with `new_function_execution`, by execution id (see `_functions_call`).
        self.function_executions: dict[str, dict[str, Any]] = {}

    @property
    def api_url(self) -> str:
        """Base URL for `WebClient(base_url=...)`, with its trailing slash."""
        return f"{self.base_url}/api/"

    # --- what tests read --------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Params]:
        """Params of every call to `method` (failed ones included), in order."""
        with self._lock:
            return [call.params for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Params]:
        """Wait until `method` was called at least `count` times; return the params of those calls."""

        def ready() -> list[Params] | None:
            params = self.calls_to(method)
            return params if len(params) >= count else None

        def describe() -> str:
            called = [call.method for call in self.calls]
            return f"expected {count} call(s) to {method} within {timeout}s; calls made: {called}"

        return self._wait_until(ready, timeout, describe)

    def posted(self, channel: str, thread_ts: str | None = None) -> list[Params]:
        """Messages kept in ``channel``, in post order: the top-level ones, or the replies to ``thread_ts``."""
        with self._lock:
            kept = list(self.messages.get(channel, []))
        if thread_ts is None:
            return [m for m in kept if m.get("thread_ts") in (None, m["ts"])]
        return [m for m in kept if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts]

    def wait_for_view(self, count: int = 1, timeout: float = 5.0) -> Params:
        """Wait for the `count`-th views.open and return the view Slack opened (with its `id` and `hash`);
        fail with Slack's answer when it refused to open it (a form that never opens)."""

        def ready() -> list[SlackCall] | None:
            opened = [call for call in self.calls if call.method == "views.open"]
            return opened if len(opened) >= count else None

        def describe() -> str:
            return f"expected {count} views.open call(s) within {timeout}s; calls made: {self.calls}"

        call = self._wait_until(ready, timeout, describe)[count - 1]
        if call.failed or call.response is None:
            raise AssertionError(f"Slack refused to open the view: {call.response}")
        return dict(call.response["view"])

    def new_response_url(self) -> str:
        """A fresh response URL (as in a slash command payload) whose POSTs are recorded."""
        url = f"{self.base_url}/response/{uuid.uuid4().hex}"
        with self._lock:
            self._responses[url] = []
        return url

    def responses(self, url: str) -> list[dict[str, Any]]:
        """JSON bodies posted to a response URL, in order."""
        with self._lock:
            return list(self._responses.get(url, []))

    def wait_for_response(self, url: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until `count` bodies were posted to `url`; return them."""

        def ready() -> list[dict[str, Any]] | None:
            posted = self.responses(url)
            return posted if len(posted) >= count else None

        def describe() -> str:
            return f"expected {count} post(s) to {url} within {timeout}s, got {self.responses(url)}"

        return self._wait_until(ready, timeout, describe)

    # --- what tests control -----------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls to `method` with `{"ok": false, "error": error}` and `status`.

        `error` defaults to "service_unavailable" for a 5xx status, else "ratelimited". With
        `retry_after`, the answer has a `Retry-After` header (Slack's 429: `status=429, retry_after=0`).
        """
        error = error or ("service_unavailable" if status >= 500 else "ratelimited")
        with self._lock:
            self._failures.append(_Failure(method, status, error, retry_after, times))

    def release_withheld(self) -> None:
        """Close the connections whose answers `withhold_if` held back; later calls are answered."""
        with self._lock:
            self.withhold_if = None
            released, self._withheld = self._withheld, threading.Event()
        released.set()

    def stop(self) -> None:
        """Close withheld connections first, then stop serving."""
        self.release_withheld()
        super().stop()

    def set_down(self, down: bool) -> None:
        """Simulate a Slack outage: every Web API method answers 503 until `set_down(False)`."""
        with self._lock:
            self._down = down

    def reset(self) -> None:
        """Forget recorded calls, response posts, pending failures and the outage; knobs stay."""
        with self._lock:
            self.calls.clear()
            self._failures.clear()
            self._down = False
            for posted in self._responses.values():
                posted.clear()

    # --- serving ----------------------------------------------------------------------------------

    def start(self) -> Self:
        """Serve as every fake does, with a handler that can also drop a connection unanswered."""
        super().start()
        assert self._server is not None
        self._server.RequestHandlerClass = _SlackHandler  # read per request; none was served yet
        return self

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Route a request to a Web API method or a response URL."""
        target = f"{self.base_url}{request.path}" if request.path.startswith("/response/") else None
        target = target or request.path.removeprefix("/api/")
        with self._lock:
            delay = self.hangs.get(target, 0.0)
        time.sleep(delay)  # outside the lock: other requests go on meanwhile
        params = _parse_params(request) if request.path.startswith("/api/") else {}
        with self._lock:
            if target in self.dropped or (self.drop_if is not None and self.drop_if(target, params)):
                if request.path.startswith("/api/"):
                    self.calls.append(SlackCall(target, params, time.time(), _DROP, "connection_dropped"))
                return HttpResponse(_DROP, b"")
        if request.path.startswith("/response/"):
            return self._post_to_response_url(request)
        if request.path.startswith("/upload/"):
            return self._upload(request)
        if not request.path.startswith("/api/"):
            return json_response(404, {"ok": False, "error": "not_found"})
        method = request.path.removeprefix("/api/")
        params = _parse_params(request)
        with self._lock:
            status, payload, headers = self._answer(method, params, request.headers.get("Authorization"))
            self.calls.append(SlackCall(method, params, time.time(), status, payload.get("error"), payload))
            withhold = self.withhold_if is not None and self.withhold_if(method, params)
            withheld = self._withheld
            if self.lose_answer_if is not None and self.lose_answer_if(method, params):
                return HttpResponse(_DROP, b"")
        if withhold:
            withheld.wait(timeout=60)
            return HttpResponse(_DROP, b"")
        return json_response(status, payload, headers)

    def _answer(
        self, method: str, params: Params, authorization: str | None
    ) -> tuple[int, Params, dict[str, str]]:
        if self._down:
            return 503, _error("service_unavailable"), {}
        failure = next((f for f in self._failures if f.method == method), None)
        if failure is not None:
            failure.times -= 1
            if failure.times <= 0:
                self._failures.remove(failure)
            retry = {} if failure.retry_after is None else {"Retry-After": str(failure.retry_after)}
            return failure.status, _error(failure.error), retry
        if method == "apps.connections.open":
            return 200, self._apps_connections_open(authorization), {}
        if method.startswith("functions."):
            return 200, self._functions_call(method, params, authorization), {}
        if authorization is None:
            return 200, _error("not_authed"), {}
        if authorization != f"Bearer {self.bot_token}":
            return 200, _error("invalid_auth"), {}
        handler = self._methods.get(method)
        scopes = {"X-OAuth-Scopes": ",".join(self.scopes)}
        return 200, handler(params) if handler else _error("unknown_method"), scopes

    def _post_to_response_url(self, request: HttpRequest) -> HttpResponse:
        url = f"{self.base_url}{request.path}"
        try:
            payload = json.loads(request.body)
        except ValueError:
            return HttpResponse(400, b"invalid_payload", "text/plain")
        with self._lock:
            if url not in self._responses:
                return HttpResponse(404, b"no_such_response_url", "text/plain")
            if len(self._responses[url]) >= RESPONSE_URL_USES:
                return HttpResponse(404, b"used_url", "text/plain")
            if isinstance(payload, dict) and (refusal := message_error(payload)):
                return HttpResponse(400, refusal["error"].encode(), "text/plain")
            self._responses[url].append(payload)
        return HttpResponse(200, b"ok", "text/plain")

    def _next_ts(self) -> str:
        # As Slack's: the time of posting, in microseconds, unique (history is read by time).
        self._last_micros = max(time.time_ns() // 1000, self._last_micros + 1)
        return f"{self._last_micros // 1_000_000}.{self._last_micros % 1_000_000:06d}"

    def _channel_error(self, channel: str) -> Params | None:
        if channel in self.channel_not_found:
            return _error("channel_not_found")
        if channel in self.not_in_channel:
            return _error("not_in_channel")
        return None

    # --- Web API methods --------------------------------------------------------------------------

    def _auth_test(self, params: Params) -> Params:
        return {
            "ok": True,
            "url": "https://test.slack.com/",
            "team": "Test",
            "user": "smsbot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": "BBOT",
        }

    def _chat_post_message(self, params: Params) -> Params:
        channel = params.get("channel")
        if not channel:
            return _error("channel_not_found")
        if not params.get("text") and not params.get("blocks"):
            return _error("no_text")
        if refusal := message_error(params):
            return refusal
        if error := self._channel_error(channel):
            return error
        if channel[0] in "UW":  # posting to a user id opens the DM with them
            channel = "D" + channel[1:]
        thread_ts = params.get("thread_ts")
        if thread_ts and not any(m["ts"] == thread_ts for m in self.messages.get(channel, [])):
            return _error("thread_not_found")
        ts = self._next_ts()
        message = {"type": "message", "user": self.bot_user_id, "bot_id": "BBOT"}
        message |= {"text": params.get("text", ""), "ts": ts}
        message |= {key: params[key] for key in ("thread_ts", "blocks", "metadata") if params.get(key)}
        self.messages.setdefault(channel, []).append(message)
        shown = {key: value for key, value in message.items() if key != "metadata"}
        return {"ok": True, "channel": channel, "ts": ts, "message": shown}

    def _chat_post_ephemeral(self, params: Params) -> Params:
        if not params.get("channel") or not params.get("user"):
            return _error("invalid_arguments")
        if not params.get("text") and not params.get("blocks"):
            return _error("no_text")
        if refusal := message_error(params):
            return refusal
        return self._channel_error(params["channel"]) or {"ok": True, "message_ts": self._next_ts()}

    def _chat_update(self, params: Params) -> Params:
        if not params.get("channel") or not params.get("ts"):
            return _error("invalid_arguments")
        if refusal := message_error(params):
            return refusal
        kept = [m for m in self.messages.get(params["channel"], []) if m["ts"] == params["ts"]]
        if not kept:
            return _error("message_not_found")
        for message in kept:
            message |= {key: params[key] for key in ("text", "blocks", "metadata") if params.get(key)}
        return {"ok": True, "channel": params["channel"], "ts": params["ts"], "text": params.get("text", "")}

    def _readable(self, channel: str) -> Params | None:
        """Why the bot may not read ``channel``'s messages, if it may not."""
        scope = _HISTORY_SCOPES.get(channel[:1], "mpim:history")
        if scope not in self.scopes:
            return {**_error("missing_scope"), "needed": scope, "provided": ",".join(self.scopes)}
        if error := self._channel_error(channel):
            return error
        if channel[:1] != "D" and channel not in self.joined:
            return _error("not_in_channel")
        return None

    def _page(self, messages: list[Params], params: Params, key: str) -> Params:
        """One page of ``messages`` as the conversations methods answer it, with metadata if asked."""
        start = int(params.get("cursor") or 0)
        limit = min(int(params.get("limit") or 100), 999)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        page = [
            {k: v for k, v in m.items() if with_metadata or k != "metadata"}
            for m in messages[start : start + limit]
        ]
        more = start + limit < len(messages)
        answer: Params = {"ok": True, key: page, "has_more": more}
        answer["response_metadata"] = {"next_cursor": str(start + limit) if more else ""}
        return answer

    def _conversations_history(self, params: Params) -> Params:
        channel = params.get("channel") or ""
        if error := self._readable(channel):
            return error
        oldest, latest = float(params.get("oldest") or 0), float(params.get("latest") or time.time() * 10)
        inclusive = str(params.get("inclusive", "")).lower() in ("1", "true")
        top = [m for m in self.messages.get(channel, []) if m.get("thread_ts") in (None, m["ts"])]
        within = [
            m
            for m in top
            if (oldest <= float(m["ts"]) <= latest if inclusive else oldest < float(m["ts"]) < latest)
        ]
        return self._page(within[::-1], params, "messages")  # newest first, as Slack answers

    def _conversations_replies(self, params: Params) -> Params:
        channel, ts = params.get("channel") or "", params.get("ts") or ""
        if error := self._readable(channel):
            return error
        kept = self.messages.get(channel, [])
        parent = next((m for m in kept if m["ts"] == ts), None)
        if parent is None:
            return _error("thread_not_found")
        replies = [m for m in kept if m.get("thread_ts") == ts and m["ts"] != ts]
        return self._page([parent, *replies], params, "messages")

    def _conversations_join(self, params: Params) -> Params:
        channel = params.get("channel") or ""
        if "channels:join" not in self.scopes:
            return {**_error("missing_scope"), "needed": "channels:join", "provided": ",".join(self.scopes)}
        if channel in self.channel_not_found or not channel:
            return _error("channel_not_found")
        if channel[:1] != "C" or channel in self.not_in_channel:  # private: by invitation only
            return _error("method_not_supported_for_channel_type")
        self.joined.add(channel)
        return {"ok": True, "channel": {"id": channel, "is_member": True}}

    def _views_open(self, params: Params) -> Params:
        trigger = params.get("trigger_id")
        if not trigger or not isinstance(params.get("view"), dict):
            return _error("invalid_arguments")
        issued = _TRIGGER.fullmatch(trigger)
        if trigger in self.expired_triggers:
            return _error("expired_trigger_id")
        if issued is None:
            return _error("invalid_trigger_id")
        if trigger in self._used_triggers:
            return _error("exchanged_trigger_id")
        if time.time() - int(issued.group(1)) / 1000 > TRIGGER_LIFETIME:
            return _error("expired_trigger_id")
        if refusal := view_error(params["view"]):
            return refusal
        self._used_triggers.add(trigger)
        return {"ok": True, "view": self._stored_view(params["view"], None)}

    def _views_update(self, params: Params) -> Params:
        view_id = params.get("view_id")
        if not isinstance(params.get("view"), dict) or not (view_id or params.get("external_id")):
            return _error("invalid_arguments")
        if view_id not in self._views:
            return _error("not_found")
        if params.get("hash") is not None and params["hash"] != self._views[view_id]:
            return _error("hash_conflict")
        if refusal := view_error(params["view"]):
            return refusal
        return {"ok": True, "view": self._stored_view(params["view"], view_id)}

    def _stored_view(self, view: dict[str, Any], view_id: str | None) -> dict[str, Any]:
        n = next(self._counter)
        stored = {**view, "id": view_id or f"V{n:08d}", "hash": f"{time.time():.6f}.{n:08x}"}
        self._views[stored["id"]] = stored["hash"]
        self.views[stored["id"]] = stored
        return stored

    def _apps_connections_open(self, authorization: str | None) -> Params:
        if authorization is None:
            return _error("not_authed")
        if authorization == f"Bearer {self.bot_token}":
            return _error("not_allowed_token_type")  # a bot token cannot open Socket Mode connections
        if authorization != f"Bearer {self.app_token}":
            return _error("invalid_auth")
        if self.socket_mode_url is None:
            # Slack always has a URL for an app with Socket Mode on; this fake has none until one is attached.
            return _error("internal_error")
        return {"ok": True, "url": self.socket_mode_url()}

    def _missing_scope(self, scope: str) -> Params | None:
        if scope in self.scopes:
            return None
        return {**_error("missing_scope"), "needed": scope, "provided": ",".join(self.scopes)}

    def _usergroups_users_list(self, params: Params) -> Params:
        if refusal := self._missing_scope("usergroups:read"):
            return refusal
        members = self.usergroup_members.get(params.get("usergroup", ""))
        return _error("no_such_subteam") if members is None else {"ok": True, "users": list(members)}

    def _users_info(self, params: Params) -> Params:
        """Slack's answer for a member of the workspace: someone in `users`, in a user group, or the bot.

        Anyone else is `user_not_found`, as at Slack. A user's `profile` in `users` is merged over the
        default one (no phone), so a test sets only what it needs: `{"profile": {"phone": "600 000 001"}}`.
        """
        if refusal := self._missing_scope("users:read"):
            return refusal
        user = params.get("user") or ""
        known = {*self.users, *(m for members in self.usergroup_members.values() for m in members)}
        if user == self.bot_user_id:
            return {"ok": True, "user": self._user(user, {"is_bot": True})}
        if user not in known:
            return _error("user_not_found")
        found = self._user(user, self.users.get(user, {}))
        if str(params.get("include_locale", "")).lower() not in ("1", "true"):
            found.pop("locale", None)  # as Slack: the locale only when asked for
        return {"ok": True, "user": found}

    @staticmethod
    def _user(user: str, fields: dict[str, Any]) -> Params:
        default = {"id": user, "name": user.lower(), "is_admin": False, "is_owner": False, "deleted": False}
        default |= {"is_bot": False}
        profile = {"real_name": user.title(), "display_name": "", "phone": ""} | dict(
            fields.get("profile") or {}
        )
        return default | fields | {"profile": profile}

    # --- App Home and permalinks (issue 12) --------------------------------------------------------

    def _home_methods(self) -> dict[str, Callable[[Params], Params]]:
        return {
            "views.publish": self._views_publish,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.open": self._conversations_open,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    def _conversations_open(self, params: Params) -> Params:
        users = str(params.get("users") or "")
        if error := self._missing_scope("im:write"):
            return error
        if not users or "," in users or users[:1] not in "UW":  # a group DM is another method's story here
            return _error("user_not_found")
        return {"ok": True, "channel": {"id": "D" + users[1:]}}

    def _files_get_upload_url(self, params: Params) -> Params:
        if error := self._missing_scope("files:write"):
            return error
        filename, length = params.get("filename"), str(params.get("length") or "")
        if not filename or not length.isdigit() or int(length) <= 0:
            return _error("invalid_arguments")
        file_id = f"F{next(self._counter):09d}"
        self.files[file_id] = {"id": file_id, "name": filename, "length": int(length), "content": None}
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _upload(self, request: HttpRequest) -> HttpResponse:
        file_id = request.path.removeprefix("/upload/")
        with self._lock:
            entry = self.files.get(file_id)
            if entry is None or entry["content"] is not None:
                return HttpResponse(404, b"not_found", "text/plain")
            entry["content"] = request.body
        return HttpResponse(200, f"OK - {len(request.body)}".encode(), "text/plain")

    def _files_complete_upload(self, params: Params) -> Params:
        if error := self._missing_scope("files:write"):
            return error
        try:
            files = (
                json.loads(params["files"]) if isinstance(params.get("files"), str) else params.get("files")
            )
        except ValueError:
            files = None
        if not isinstance(files, list) or not files:
            return _error("invalid_arguments")
        shared = []
        for item in files:
            entry = self.files.get(item.get("id")) if isinstance(item, dict) else None
            if entry is None:
                return _error("file_not_found")
            if entry["content"] is None or len(entry["content"]) != entry["length"]:
                return _error("file_upload_size_mismatch" if entry["content"] else "file_not_found")
            entry |= {"title": item.get("title"), "channel": params.get("channel_id")}
            entry["initial_comment"] = params.get("initial_comment")
            shared.append({"id": entry["id"], "name": entry["name"], "title": item.get("title")})
        channel = params.get("channel_id")
        if channel and (error := self._channel_error(channel)):
            return error
        return {"ok": True, "files": shared}

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab last published for ``user_id``, if any."""
        with self._lock:
            return self.home_views.get(user_id)

    def wait_for_home(self, user_id: str, count: int = 1, timeout: float = 5.0) -> dict[str, Any]:
        """Wait until at least ``count`` Home tabs were published for ``user_id``; the ``count``-th one."""

        def published() -> list[Params]:
            with self._lock:
                return [
                    c.params["view"]
                    for c in self.calls
                    if c.method == "views.publish" and not c.failed and c.params.get("user_id") == user_id
                ]

        def ready() -> dict[str, Any] | None:
            views = published()
            return views[count - 1] if len(views) >= count else None

        def describe() -> str:
            return f"expected {count} Home tab(s) published for {user_id}, Slack got {len(published())}"

        return self._wait_until(ready, timeout, describe)

    def _views_publish(self, params: Params) -> Params:
        user_id, view = params.get("user_id"), params.get("view")
        if not user_id or not isinstance(view, dict):
            return _error("invalid_arguments")
        if not str(user_id).startswith(("U", "W")):
            return _error("user_not_found")
        if view.get("type") != "home":
            return _refusal("invalid_arguments", ["must be a home view [json-pointer:/view/type]"])
        if refusal := view_error(view):
            return refusal
        view_id = next((v["id"] for u, v in self.home_views.items() if u == user_id), None)
        stored = self._stored_view(view, view_id)
        self.home_views[user_id] = stored
        return {"ok": True, "view": stored}

    def _chat_get_permalink(self, params: Params) -> Params:
        channel, ts = params.get("channel") or "", params.get("message_ts") or ""
        if not channel or channel in self.channel_not_found:
            return _error("channel_not_found")
        if not any(m["ts"] == ts for m in self.messages.get(channel, [])):
            return _error("message_not_found")
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://test.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    # --- Workflow Builder custom steps (issue 12) ---------------------------------------------------

    def new_function_execution(self, outputs: dict[str, str] | None = None) -> tuple[str, str]:
        """Start a step's execution as Slack does before sending `function_executed`: its id, and the
        short-lived token (`xwfp-…`) that alone may complete it. ``outputs``: the step's declared output
        parameters (name -> type: "string", "number", "integer" or "array"), all required."""
        n = next(self._counter)
        execution_id, token = f"Fx{n:010d}", f"xwfp-{uuid.uuid4().hex}"
        with self._lock:
            self.function_executions[execution_id] = {
                "token": token,
                "state": "running",
                "outputs_declared": dict(outputs or {}),
                "outputs": None,
                "error": None,
            }
        return execution_id, token

    def wait_for_function(self, execution_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """Wait until the step's execution was completed or failed; its record."""

        def ready() -> dict[str, Any] | None:
            with self._lock:
                execution = self.function_executions.get(execution_id)
                return dict(execution) if execution and execution["state"] != "running" else None

        def describe() -> str:
            return f"the step {execution_id} was neither completed nor failed: {self.function_executions.get(execution_id)}"

        return self._wait_until(ready, timeout, describe)

    def expire_function_token(self, execution_id: str) -> None:
        """Let the execution's own token run out, as Slack's does 15 minutes after the event (or once the
        step is completed, bolt-python#1075); the app's bot token still completes the step."""
        with self._lock:
            self.function_executions[execution_id]["token_expired"] = True

    def _functions_call(self, method: str, params: Params, authorization: str | None) -> Params:
        """functions.completeSuccess / completeError, as Slack's method pages say: with the execution's own
        token (until it runs out) or the app's bot token ("Bot tokens: no scope required"); once (the
        typical answer for an execution already completed is `function_execution_not_found`); and with the
        declared outputs, each of its type (none missing, none unknown: `parameter_validation_failed`)."""
        if method not in ("functions.completeSuccess", "functions.completeError"):
            return _error("unknown_method")
        if authorization is None:
            return _error("not_authed")
        execution = self.function_executions.get(str(params.get("function_execution_id") or ""))
        own = {f"Bearer {e['token']}": e for e in self.function_executions.values()}
        bot = authorization == f"Bearer {self.bot_token}"
        if not bot and authorization not in own:
            return _error("invalid_auth")
        if not bot and own[authorization].get("token_expired"):
            return _error("token_expired")
        if execution is None or not (bot or authorization == f"Bearer {execution['token']}"):
            return _error("function_execution_not_found")
        if execution["state"] != "running":  # its token ends with it
            return _error("function_execution_not_found")
        if method == "functions.completeError":
            error = params.get("error")
            if not isinstance(error, str) or not error.strip():
                return _refusal("invalid_arguments", ["missing required field: error [json-pointer:/error]"])
            execution |= {"state": "failed", "error": error}
            return {"ok": True}
        try:
            outputs = (
                json.loads(params["outputs"])
                if isinstance(params.get("outputs"), str)
                else params.get("outputs")
            )
        except ValueError:
            outputs = None
        if not isinstance(outputs, dict):
            return _refusal("invalid_arguments", ["must be an object [json-pointer:/outputs]"])
        if problems := _output_problems(outputs, execution["outputs_declared"]):
            return _refusal("parameter_validation_failed", problems)
        execution |= {"state": "completed", "outputs": outputs}
        return {"ok": True}


_OUTPUT_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
}


def _output_problems(outputs: dict[str, Any], declared: dict[str, str]) -> list[str]:
    """What Slack refuses in a step's outputs: an undeclared one, a missing one, one of the wrong type."""
    problems = [
        f"unknown output parameter [json-pointer:/outputs/{name}]" for name in outputs if name not in declared
    ]
    for name, kind in declared.items():
        if name not in outputs:
            problems.append(f"missing required output parameter [json-pointer:/outputs/{name}]")
        elif not _OUTPUT_TYPES[kind](outputs[name]):
            problems.append(f"must be of type {kind} [json-pointer:/outputs/{name}]")
    return problems


class _SlackHandler(_Handler):
    """Serves the fake's answers; an answer with status `_DROP` closes the connection instead."""

    def send_response(self, code: int, message: str | None = None) -> None:
        """Start the answer, or drop the connection without a word."""
        if code == _DROP:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            raise ConnectionAbortedError("dropped on purpose")  # the handler takes it as a client gone
        super().send_response(code, message)


def _error(error: str) -> Params:
    return {"ok": False, "error": error}


def _refusal(error: str, problems: list[str]) -> Params:
    """Slack's answer to a malformed message or view: the error, and each problem with its JSON pointer."""
    return {
        "ok": False,
        "error": error,
        "errors": problems,
        "response_metadata": {"messages": [f"[ERROR] {problem}" for problem in problems]},
    }


def message_error(params: Params) -> Params | None:
    """Slack's refusal of a message (chat.postMessage, chat.postEphemeral, chat.update, a response URL)
    whose blocks or text Slack would not take, or None."""
    text = params.get("text")
    if isinstance(text, str) and len(text) > MESSAGE_TEXT_LIMIT:
        return _error("msg_too_long")
    if "blocks" not in params:
        return None
    blocks = params["blocks"]
    if not isinstance(blocks, list):
        return _refusal("invalid_blocks_format", ["must be an array [json-pointer:/blocks]"])
    problems = blocks_problems(blocks, "/blocks")
    if len(blocks) > MESSAGE_BLOCKS_LIMIT:
        problems.insert(0, f"must contain at most {MESSAGE_BLOCKS_LIMIT} items [json-pointer:/blocks]")
    return _refusal("invalid_blocks", problems) if problems else None


def response_error(payload: Any) -> Params | None:
    """Slack's refusal of what an app answers in an acknowledgement (an HTTP response body, or a Socket
    Mode ack's payload): a message for a slash command, a `response_action` for a view submission."""
    if not isinstance(payload, dict):
        return None  # not JSON: Slack shows plain text as is
    action = payload.get("response_action")
    if action is None:
        return message_error(payload)
    if action in ("update", "push"):
        return view_error(payload.get("view"))
    if action == "errors":
        errors = payload.get("errors")
        if isinstance(errors, dict) and errors and all(isinstance(v, str) for v in errors.values()):
            return None
        return _refusal("invalid_arguments", ["errors must map block ids to messages [json-pointer:/errors]"])
    if action == "clear":
        return None
    return _refusal(
        "invalid_arguments", [f"unknown response_action: {action} [json-pointer:/response_action]"]
    )


def view_error(view: Any) -> Params | None:
    """Slack's refusal (`invalid_arguments`) of a view it would not open, or None."""
    if not isinstance(view, dict) or not isinstance(view.get("blocks", []), list):
        return _refusal("invalid_arguments", ["must be an object with a list of blocks [json-pointer:/view]"])
    blocks = view.get("blocks") or []
    problems = blocks_problems(blocks, "/view/blocks")
    # What Slack adds to a view it returns may come back in views.update; the blocks were checked above.
    outer = {key: value for key, value in view.items() if key not in ("blocks", "id", "hash", "state")}
    problems += _model_problems(lambda raw: View(**raw, blocks=blocks), outer, "/view")
    return _refusal("invalid_arguments", problems) if problems else None


def blocks_problems(blocks: list[Any], pointer: str) -> list[str]:
    """What Slack would refuse in a list of blocks, each with the JSON pointer of the offending part."""
    problems: list[str] = []
    for index, block in enumerate(blocks):
        where = f"{pointer}/{index}"
        if not isinstance(block, dict) or "type" not in block:
            problems.append(f"missing required field: type [json-pointer:{where}]")
        elif Block.parse(copy.deepcopy(block)) is None:
            problems.append(f"unsupported type: {block['type']} [json-pointer:{where}/type]")
        else:
            problems += _model_problems(Block.parse, block, where)
            problems += _option_problems(block, where)
    return problems


def _option_problems(node: Any, pointer: str) -> list[str]:
    """Option descriptions longer than Slack takes, wherever options are (an element's `options`,
    `initial_options`, `option_groups`), with Slack's wording."""
    problems: list[str] = []
    if isinstance(node, dict):
        description = node.get("description")
        if "value" in node and isinstance(description, dict):
            text = description.get("text")
            if isinstance(text, str) and len(text) > OPTION_DESCRIPTION_LIMIT:
                problems.append(
                    f"must be less than {OPTION_DESCRIPTION_LIMIT + 1} characters "
                    f"[json-pointer:{pointer}/description/text]"
                )
        for key, value in node.items():
            problems += _option_problems(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            problems += _option_problems(item, f"{pointer}/{index}")
    return problems


def _model_problems(build: Callable[..., Any], raw: dict[str, Any], pointer: str) -> list[str]:
    """Build a slack_sdk model from `raw`; its validators' complaints, and the fields it does not know."""
    try:
        rendered = (
            build(copy.deepcopy(raw)).to_dict()
        )  # the models change some of what they are given  # runs every validator, of the nested objects too
    except (SlackObjectFormationError, TypeError, ValueError, AttributeError, KeyError) as error:
        return [f"{error} [json-pointer:{pointer}]"]
    return [
        f"invalid additional property: {path} [json-pointer:{pointer}]" for path in _dropped(raw, rendered)
    ]


def _dropped(raw: Any, rendered: Any, path: str = "") -> list[str]:
    """Fields of `raw` the model left out of `rendered` (those Slack does not know either), or changed (a
    value the model does not know, such as a text type `mrkdown` it reads as `mrkdwn`)."""
    if isinstance(raw, dict) and isinstance(rendered, dict):
        dropped: list[str] = []
        for key, value in raw.items():
            if key not in rendered:
                # The models leave empty values out, as Slack ignores them.
                if value not in (None, [], {}, ""):
                    dropped.append(f"{path}/{key}")
            else:
                dropped += _dropped(value, rendered[key], f"{path}/{key}")
        return dropped
    if isinstance(raw, dict) and rendered is None:
        # The models turn an element they cannot read into None (no `type`, or one they do not know).
        if "type" not in raw:
            return [f"{path} (missing required field: type)"]
        return [f"{path} (unsupported type: {raw['type']})"]
    if isinstance(raw, list) and isinstance(rendered, list):
        if len(raw) != len(rendered):
            return [f"{path} ({len(raw) - len(rendered)} of its items were not read)"]
        return [
            p
            for i, (r, o) in enumerate(zip(raw, rendered, strict=True))
            for p in _dropped(r, o, f"{path}/{i}")
        ]
    if (
        isinstance(raw, str | int | float | bool)
        and not isinstance(rendered, dict | list)
        and raw != rendered
    ):
        return [f"{path} (the value {raw!r} is not one Slack knows)"]
    return []


def _parse_params(request: HttpRequest) -> Params:
    """Query string and body (JSON or form-encoded), as the Web API reads them."""
    params: Params = dict(request.query)
    if request.body:
        if request.headers.get("Content-Type", "").startswith("application/json"):
            params.update(json.loads(request.body))
        else:
            params.update(parse_qsl(request.body.decode(), keep_blank_values=True))
    for name in _JSON_FIELDS:
        if isinstance(params.get(name), str):
            with suppress(ValueError):
                params[name] = json.loads(params[name])
    return params
