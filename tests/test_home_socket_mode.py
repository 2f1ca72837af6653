"""The Home tab and its buttons in Socket Mode: `smsbot run` as a real process, events over the WebSocket."""

from __future__ import annotations

from tests import test_socket_mode as socket_fixtures
from tests.events import click_payload, event_body, home_opened_event
from tests.harness import blocks_text

# The Socket Mode bot of tests/test_socket_mode.py, one process for this module (pytest finds them by name).
slack_api = socket_fixtures.slack_api
ovh_api = socket_fixtures.ovh_api
socket_mode = socket_fixtures.socket_mode
bot_env = socket_fixtures.bot_env
socket_bot = socket_fixtures.socket_bot


def test_opening_the_home_tab_publishes_it(socket_bot, socket_mode, slack_api):
    envelope = socket_mode.deliver("events_api", event_body(home_opened_event("UALICE")))

    socket_mode.wait_for_ack(envelope)
    shown = blocks_text(slack_api.wait_for_home("UALICE"))
    assert ":white_check_mark: *You can send SMS*." in shown
    assert "*Credits left:* 100" in shown


def test_the_send_button_opens_the_form(socket_bot, socket_mode, slack_api):
    envelope = socket_mode.deliver("interactive", click_payload("home_send_sms", user_id="UALICE"))

    socket_mode.wait_for_ack(envelope)
    [opened] = slack_api.wait_for("views.open")
    assert opened["view"]["callback_id"] == "sms_compose"
