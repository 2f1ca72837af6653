"""Events and Home-tab clicks, sent to the app as Slack sends them (signed, over HTTP)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from tests.fakes.slack_api import new_trigger_id
from tests.harness import TEAM_ID, Answer, SlackSender


def event_body(event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """An Events API `event_callback` wrapping ``event``."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": "A0SMSBOT",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": "UBOT", "is_bot": True}],
    }


def home_opened_event(user_id: str, tab: str = "home") -> dict[str, Any]:
    """`app_home_opened` as Slack sends it when ``user_id`` opens the app's ``tab``."""
    return {
        "type": "app_home_opened",
        "user": user_id,
        "channel": "D0HOME" + user_id[1:5],
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }


def send_event(
    sender: SlackSender, event: dict[str, Any], *, headers: dict[str, str] | None = None
) -> Answer:
    """Deliver one event over HTTP, JSON-encoded as the Events API posts it."""
    return sender.post(
        json.dumps(event_body(event)), headers={"Content-Type": "application/json", **(headers or {})}
    )


def open_home(sender: SlackSender, user_id: str, tab: str = "home") -> Answer:
    """``user_id`` opens the app's Home (or Messages) tab."""
    return send_event(sender, home_opened_event(user_id, tab))


def click_payload(
    action_id: str,
    *,
    user_id: str,
    value: str | None = None,
    view: dict | None = None,
    trigger_id: str | None = None,
) -> dict:
    """`block_actions` for a button of the Home tab."""
    action: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "block_id": "b1",
        "text": {"type": "plain_text", "text": "button"},
        "action_ts": f"{time.time():.6f}",
    }
    if value is not None:
        action["value"] = value
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "test"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0SMSBOT",
        "token": "legacy-verification-token",
        "container": {"type": "view", "view_id": (view or {}).get("id", "V0HOME")},
        "trigger_id": trigger_id or new_trigger_id(),
        "view": view or {"id": "V0HOME", "type": "home", "blocks": []},
        "actions": [action],
    }


def click(
    sender: SlackSender,
    action_id: str,
    *,
    user_id: str,
    value: str | None = None,
    trigger_id: str | None = None,
) -> Answer:
    """``user_id`` clicks a Home-tab button (``value`` as Slack sends it: whatever the view said, or forged)."""
    payload = click_payload(action_id, user_id=user_id, value=value, trigger_id=trigger_id)
    return sender.post(urlencode({"payload": json.dumps(payload)}))


# The outputs manifest.yml declares for the step `send_sms` (tests/test_workflow_step.py checks they agree).
SEND_SMS_OUTPUTS = {"job_ids": "array", "credits_used": "number"}


def function_executed_event(
    execution_id: str, token: str, inputs: dict[str, Any], callback_id: str = "send_sms"
) -> dict[str, Any]:
    """`function_executed` as Slack sends it when a workflow reaches the app's custom step."""
    return {
        "type": "function_executed",
        "function": {
            "id": "Fn0SENDSMS",
            "callback_id": callback_id,
            "title": "Send an SMS",
            "description": "Send an SMS through OVHcloud",
            "type": "app",
            "app_id": "A0SMSBOT",
            "team_id": TEAM_ID,
            "date_created": 1_700_000_000,
            "date_updated": 1_700_000_000,
        },
        "inputs": inputs,
        "function_execution_id": execution_id,
        "workflow_execution_id": "Wx" + execution_id[2:],
        "event_ts": f"{time.time():.6f}",
        "bot_access_token": token,
    }


def step_inputs(
    receivers: str = "+34600000001",
    message: str = "Hola desde un flujo",
    user: str = "UALICE",
    channel: str = "COPS",
) -> dict[str, Any]:
    """The step's inputs as Workflow Builder fills them."""
    return {"receivers": receivers, "message": message, "user": user, "channel": channel}
