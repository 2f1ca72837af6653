"""Drives the real app over HTTP: a running bot on 127.0.0.1 and a Slack-like client that signs requests."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import requests
import sqlalchemy as sa
from slack_sdk.signature import SignatureVerifier

from bot.app import Core, SmsBot, create_bot
from bot.domain.records import SendRecord
from bot.sending.recovery import RecoveryReport
from bot.server.http import HttpServer
from bot.settings import Settings
from bot.slack.compose import COMPOSE_CALLBACK_ID
from bot.storage.ledger import Ledger, sends
from tests.fakes.slack_api import new_trigger_id, response_error

SIGNING_SECRET = "test-signing-secret-not-a-real-one"
TEAM_ID = "T0TEST"


@dataclass
class Answer:
    """What the app answered to one HTTP request."""

    status: int
    body: str
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class RunningBot:
    """The bot served by its own production HTTP server on a free port."""

    def __init__(self, settings: Settings) -> None:
        self.bot: SmsBot = create_bot(settings)
        self.server = HttpServer(self.bot, "127.0.0.1", 0, threads=32)
        self.url = f"http://127.0.0.1:{self.server.port}"
        self._thread = threading.Thread(target=self.server.serve, daemon=True)
        self._thread.start()

    @property
    def core(self) -> Core:
        return self.bot.core

    @property
    def ledger(self) -> Ledger:
        return self.bot.core.ledger

    def recover(self) -> RecoveryReport:
        """One recovery pass, as the background loop runs it."""
        return self.bot.core.recovery.run_once()

    def close(self) -> None:
        self.server.stop()
        self._thread.join(timeout=10)
        assert not self._thread.is_alive(), "the HTTP server did not stop"
        self.bot.close()


class SlackSender:
    """Sends requests to the app the way Slack does: form-encoded, with a valid v0 signature."""

    def __init__(self, app_url: str, signing_secret: str = SIGNING_SECRET, *, sent_ago: float = 0) -> None:
        """``sent_ago``: sign each request as if Slack had sent it that many seconds ago."""
        self.events_url = app_url + "/slack/events"
        self.sent_ago = sent_ago
        self.verifier = SignatureVerifier(signing_secret)
        self.session = requests.Session()

    def post(self, body: str, *, headers: dict[str, str] | None = None, sign: bool = True) -> Answer:
        timestamp = str(int(time.time() - self.sent_ago))
        all_headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if sign:
            all_headers["X-Slack-Request-Timestamp"] = timestamp
            all_headers["X-Slack-Signature"] = self.verifier.generate_signature(
                timestamp=timestamp, body=body
            )
        all_headers.update(headers or {})
        started = time.perf_counter()
        response = requests.post(self.events_url, data=body.encode("utf-8"), headers=all_headers, timeout=30)
        answer = Answer(response.status_code, response.text, time.perf_counter() - started)
        if answer.status == 200 and response.headers.get("Content-Type", "").startswith("application/json"):
            refusal = response_error(answer.json())
            assert refusal is None, f"Slack would refuse the app's answer {answer.body}: {refusal}"
        return answer

    def command(
        self,
        text: str,
        *,
        user_id: str = "UALICE",
        channel_id: str = "COPS",
        response_url: str = "http://127.0.0.1:9/unused",
        trigger_id: str | None = None,
        headers: dict[str, str] | None = None,
        escaped: bool = False,
    ) -> Answer:
        """Type `/sms <text>`. ``text`` is sent as Slack sends it: `&`, `<`, `>` escaped; with ``escaped``,
        ``text`` is already as Slack sends it (mentions and links as `<…>` tokens, see should_escape)."""
        if not escaped:
            text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        form = {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "test",
            "channel_id": channel_id,
            "channel_name": "ops",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": "/sms",
            "text": text,
            "api_app_id": "A0SMSBOT",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or new_trigger_id(),
        }
        return self.post(urlencode(form), headers=headers)

    def submit_modal(
        self,
        view: dict[str, Any],
        *,
        receivers: str,
        message: str,
        user_id: str = "UALICE",
        headers: dict[str, str] | None = None,
        people: list[str] | None = None,
        channel: str | None = None,
    ) -> Answer:
        """Submit a compose modal as opened through views.open (``view`` as the fake Slack returned it).

        As Slack does, the state holds every input the view has: the people picked (``people``) and the
        channel picked (``channel``) where the view has those pickers.
        """
        values: dict[str, Any] = {
            "receivers": {"value": {"type": "plain_text_input", "value": receivers}},
            "message": {"value": {"type": "plain_text_input", "value": message}},
        }
        blocks = {block.get("block_id") for block in view.get("blocks", [])}
        if "people" in blocks:
            values["people"] = {"value": {"type": "multi_users_select", "selected_users": people or []}}
        if "channel" in blocks:
            values["channel"] = {"value": {"type": "conversations_select", "selected_conversation": channel}}
        submitted = {**view, "state": {"values": values}}
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "test"},
            "user": {"id": user_id, "name": user_id.lower(), "team_id": TEAM_ID},
            "api_app_id": "A0SMSBOT",
            "token": "legacy-verification-token",
            "trigger_id": new_trigger_id(),
            "view": submitted,
            "response_urls": [],
        }
        assert submitted["callback_id"] == COMPOSE_CALLBACK_ID
        return self.post(urlencode({"payload": json.dumps(payload)}), headers=headers)

    def shortcut(self, *, user_id: str = "UALICE", trigger_id: str | None = None) -> Answer:
        """Run the global shortcut (from the shortcuts menu, in no channel)."""
        return self._interaction(
            {"type": "shortcut", "callback_id": "sms_compose", "action_ts": f"{time.time():.6f}"},
            user_id,
            trigger_id,
        )

    def message_shortcut(
        self,
        message: dict[str, Any],
        *,
        user_id: str = "UALICE",
        channel_id: str = "COPS",
        response_url: str = "http://127.0.0.1:9/unused",
        trigger_id: str | None = None,
    ) -> Answer:
        """Run the message shortcut on ``message`` (as Slack sends it: `text`, `ts`, maybe `files`)."""
        return self._interaction(
            {
                "type": "message_action",
                "callback_id": "sms_from_message",
                "action_ts": f"{time.time():.6f}",
                "channel": {"id": channel_id, "name": "ops"},
                "message_ts": message.get("ts", "1700000000.000100"),
                "message": {"type": "message", "ts": "1700000000.000100", **message},
                "response_url": response_url,
            },
            user_id,
            trigger_id,
        )

    def click(
        self,
        message: dict[str, Any],
        value: str,
        *,
        action_id: str = "sms_follow_up",
        user_id: str = "UALICE",
        channel_id: str = "COPS",
        response_url: str = "http://127.0.0.1:9/unused",
        trigger_id: str | None = None,
    ) -> Answer:
        """Click a button with ``value`` in ``message`` (as posted: its `ts`, and `thread_ts` for a reply)."""
        block_id = next(
            (b.get("block_id") for b in message.get("blocks", []) if b.get("type") == "actions"), "actions"
        )
        return self._interaction(
            {
                "type": "block_actions",
                "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel_id},
                "channel": {"id": channel_id, "name": "ops"},
                "message": {"type": "message", **message},
                "response_url": response_url,
                "actions": [
                    {
                        "type": "button",
                        "action_id": action_id,
                        "block_id": block_id,
                        "value": value,
                        "action_ts": f"{time.time():.6f}",
                    }
                ],
            },
            user_id,
            trigger_id,
        )

    def _interaction(self, fields: dict[str, Any], user_id: str, trigger_id: str | None) -> Answer:
        payload = {
            "token": "legacy-verification-token",
            "team": {"id": TEAM_ID, "domain": "test"},
            "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
            "api_app_id": "A0SMSBOT",
            "is_enterprise_install": False,
            "enterprise": None,
            "trigger_id": trigger_id or new_trigger_id(),
            **fields,
        }
        return self.post(urlencode({"payload": json.dumps(payload)}))

    def interaction(self, payload: dict[str, Any], *, user_id: str = "UALICE") -> Answer:
        """Post an interaction payload (``block_actions``, ``view_submission``) from ``user_id``."""
        payload = {
            "team": {"id": TEAM_ID, "domain": "test"},
            "user": {"id": user_id, "name": user_id.lower(), "team_id": TEAM_ID},
            "api_app_id": "A0SMSBOT",
            "token": "legacy-verification-token",
            "trigger_id": new_trigger_id(),
            **payload,
        }
        return self.post(urlencode({"payload": json.dumps(payload)}))

    def keystroke(
        self,
        view: dict[str, Any],
        *,
        block_id: str,
        value: str,
        values: dict[str, str] | None = None,
        typed_at: float | None = None,
        user_id: str = "UALICE",
    ) -> Answer:
        """A keystroke in an input of ``view`` (as Slack shows it, with its id and hash), as Slack reports
        it for ``dispatch_action``: ``value`` is the field's text now, ``values`` the other typed fields."""
        typed = {**(values or {}), block_id: value}
        state = {
            block: {"value": {"type": "plain_text_input", "value": text}} for block, text in typed.items()
        }
        action = {
            "type": "plain_text_input",
            "block_id": block_id,
            "action_id": "value",
            "value": value,
            "action_ts": f"{time.time() if typed_at is None else typed_at:.6f}",
        }
        return self.interaction(
            {
                "type": "block_actions",
                "container": {"type": "view", "view_id": view["id"]},
                "view": {**view, "state": {"values": state}},
                "actions": [action],
            },
            user_id=user_id,
        )


def blocks_text(params: dict[str, Any]) -> str:
    """All the mrkdwn/plain text in a message's blocks, joined: what a person would read."""
    texts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                texts.append(node["text"])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(params.get("blocks") or [])
    return "\n".join(texts)


def audit_thread(fake_slack: Any, channel: str = "COPS", sends: int = 1) -> list[tuple[dict, dict]]:
    """Wait for ``sends`` audit threads in ``channel``; returns (parent, reply) pairs, in post order."""
    deadline = time.monotonic() + 10
    while True:
        posts = [p for p in fake_slack.calls_to("chat.postMessage") if p.get("channel") == channel]
        parents = [p for p in posts if not p.get("thread_ts")]
        # The delivery status message and replies by SMS follow in the thread: they are not the audit's.
        replies = [p for p in posts if p.get("thread_ts") and not after_the_send(p)]
        if len(parents) >= sends and len(replies) >= sends:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {sends} audit thread(s) in {channel}, Slack got: {posts}")
        time.sleep(0.01)
    ts_of = {call["ts"]: call for call in _posted_messages(fake_slack)}
    pairs = []
    for reply in replies:
        parent = next(p for ts, p in ts_of.items() if ts == reply["thread_ts"])
        pairs.append((parent, reply))
    return pairs


def after_the_send(params: dict) -> bool:
    """Whether a thread post is one the delivery follower made (status message, reply), not the audit."""
    metadata = params.get("metadata")
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    return isinstance(metadata, dict) and metadata.get("event_type") in (
        "smsbot_delivery_status",
        "smsbot_sms_reply",
    )


def _posted_messages(fake_slack: Any) -> list[dict]:
    """chat.postMessage params with the ts the fake answered, matched by order of the answers."""
    return [
        {**call.params, "ts": call.response["ts"]}
        for call in fake_slack.calls
        if call.method == "chat.postMessage" and not call.failed and call.response
    ]


def all_sends(ledger: Ledger) -> list[SendRecord]:
    """Every send in the ledger, oldest first (the bot itself never lists them all)."""
    with ledger.engine.connect() as conn:
        ids = list(conn.execute(sa.select(sends.c.id).order_by(sends.c.id)).scalars())
    return [record for record in map(ledger.get, ids) if record is not None]


def settled_records(bot: RunningBot, count: int = 1, timeout: float = 10.0) -> list:
    """Wait until ``count`` sends are settled, reported and let go of by the process that sent them."""
    first_lease = timedelta(seconds=bot.core.settings.recovery_after_seconds)

    def done(record: Any) -> bool:
        # The live send holds the lease it took when recording the send until it has reported it.
        released = record.lease_until is None or record.lease_until != record.created_at + first_lease
        return record.status != "pending" and record.audit_status != "pending" and released

    deadline = time.monotonic() + timeout
    while True:
        records = all_sends(bot.ledger)
        if len([r for r in records if done(r)]) >= count:
            return records
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {count} settled and reported send(s), the ledger has {records}")
        time.sleep(0.01)


def record_send(
    ledger: Ledger,
    *,
    key: str = "command:t1",
    message: str = "hi",
    receivers: tuple[str, ...] = ("+34600000001",),
    lease_seconds: float = 300,
    **fields: Any,
) -> Any:
    """Write a pending send straight into the ledger, as the bot does before it calls OVH."""
    values: dict[str, Any] = {
        "request_key": key,
        "source": "command",
        "team_id": TEAM_ID,
        "user_id": "UALICE",
        "channel_id": "COPS",
        "receivers": list(receivers),
        "message": message,
        "sender": None,
        "lease_seconds": lease_seconds,
    }
    return ledger.reserve(**(values | fields))


def orphan(
    bot: RunningBot, *, key: str = "command:orphan", message: str = "left behind", **fields: Any
) -> Any:
    """A send whose process died right after recording it: its lease already ran out."""
    return record_send(bot.ledger, key=key, message=message, lease_seconds=0, **fields)
