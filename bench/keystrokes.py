"""The form's live summary: from a keystroke's ``block_actions`` request to the fake Slack receiving its
``views.update``, for the bot and for the bare app (which sends the view back unchanged), taking turns."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.apps import BareProcess, BotProcess, Databases, Fakes
from bench.measure import Latencies, ms
from bench.report import Row, met
from bench.traffic import Prepared, Sample, _verifier, post, slash_command
from tests.fakes.slack_api import FakeSlack, new_trigger_id
from tests.harness import TEAM_ID

KEYSTROKE_P99_TARGET = 0.100
# What people type: a Spanish text growing a character at a time, to two receivers.
TYPED = "Servidor caído en producción: llamad al 600 000 001. Reunión a las 9 en la sala grande, ¿vale? "


def keystroke(view: dict, text: str) -> Prepared:
    """A signed keystroke in the message field of ``view`` (as the fake Slack now shows it)."""
    state = {
        "receivers": {"value": {"type": "plain_text_input", "value": "+34600000001, 600000002"}},
        "message": {"value": {"type": "plain_text_input", "value": text}},
    }
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "test"},
        "user": {"id": "UBENCH000", "name": "ubench000", "team_id": TEAM_ID},
        "api_app_id": "A0SMSBOT",
        "token": "legacy-verification-token",
        "trigger_id": new_trigger_id(),
        "container": {"type": "view", "view_id": view["id"]},
        "view": {**view, "state": {"values": state}},
        "actions": [
            {
                "type": "plain_text_input",
                "block_id": "message",
                "action_id": "value",
                "value": text,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)})
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": _verifier.generate_signature(timestamp=timestamp, body=body),
    }
    return Prepared(body.encode(), headers, payload["trigger_id"])


def _open_form(fakes: Fakes, port: int) -> str:
    """Open a form through the bot; its view id."""
    before = len(fakes.slack.calls_to("views.open"))
    post(port, slash_command(""))
    fakes.slack.wait_for("views.open", before + 1)
    deadline = time.monotonic() + 5
    while True:
        opened = [call for call in fakes.slack.calls if call.method == "views.open" and call.response]
        if len(opened) > before:
            return opened[-1].response["view"]["id"]
        if time.monotonic() > deadline:
            raise RuntimeError("the form did not open")
        time.sleep(0.005)


def _update_at(slack: FakeSlack, view_id: str, after: int, timeout: float = 5.0) -> float | None:
    """When the fake Slack took the view's update number ``after + 1``; None if it never came."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        taken = [
            call
            for call in list(slack.calls)
            if call.method == "views.update" and call.params.get("view_id") == view_id and not call.failed
        ]
        if len(taken) > after:
            return taken[after].at
        time.sleep(0.001)
    return None


def measure_keystrokes(fakes: Fakes, dbs: Databases, folder: Path, count: int) -> list[Row]:
    """``count`` keystrokes one at a time to the bot and to the bare app, taking turns."""
    fakes.ovh.rates = {"es": 1.3}
    results = {"bot": Latencies(), "bare": Latencies()}
    with BotProcess(fakes, dbs.fresh(), folder) as bot, BareProcess(fakes, folder) as bare:
        views = {"bot": _open_form(fakes, bot.port), "bare": _open_form(fakes, bot.port)}
        ports = {"bot": bot.port, "bare": bare.port}
        for n in range(count):
            text = (TYPED * 4)[: n % 300 + 1]
            for name in ("bot", "bare"):
                view_id = views[name]
                request = keystroke(fakes.slack.views[view_id], text)
                done = n
                sample: Sample = post(ports[name], request)
                at = _update_at(fakes.slack, view_id, done)
                if at is None or sample.status != 200:
                    results[name].errors += 1
                else:
                    results[name].samples.append(at - sample.started_at)
    rows = []
    for name, label in (("bare", "bare Bolt app (view sent back unchanged)"), ("bot", "smsbot live summary")):
        delays = results[name]
        figure = f"p50 {ms(delays.p50)}, p99 {ms(delays.p99)}, max {ms(delays.max)}"
        if delays.errors:
            figure += f" ({delays.errors} never updated)"
        if name == "bot":
            floor = results["bare"]
            figure += f"; {delays.p50 / floor.p50:.2f}x / {delays.p99 / floor.p99:.2f}x the bare app"
            ok = delays.p99 < KEYSTROKE_P99_TARGET and not delays.errors
            rows.append(
                Row(
                    f"keystroke → views.update, one at a time ({count}): {label}",
                    figure,
                    f"p99 < {ms(KEYSTROKE_P99_TARGET)}",
                    met(ok),
                )
            )
        else:
            rows.append(Row(f"keystroke → views.update, one at a time ({count}): {label}", figure))
    return rows
