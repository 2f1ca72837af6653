"""The App Home tab: published on `app_home_opened` for a sender, an admin and a refused person; its buttons;
refreshed after each of the person's sends, and after sends from the command line or settled by recovery for
those who opened it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from bot.domain.records import SendStatus
from bot.storage.home_viewers import HomeViewers
from tests.events import click, open_home
from tests.harness import SlackSender, blocks_text, orphan, settled_records
from tests.test_cli_check import Cli, kept_logging


def _home_text(fake_slack, user_id: str, count: int = 1) -> str:
    return blocks_text(fake_slack.wait_for_home(user_id, count))


def test_a_sender_sees_credits_rights_limits_and_latest_sends_with_links(bot, slack, fake_slack, fake_ovh):
    fake_slack.joined.add("COPS")
    slack.command("+34600000001,+34611111111 Hola equipo")
    record = settled_records(bot)[0]

    assert open_home(slack, "UALICE").status == 200

    shown = _home_text(fake_slack, "UALICE", count=2)  # once after the send, once on opening
    assert "*Credits left:* 98" in shown
    assert "about 98 one-part SMS to ES (1 credit each)" in shown
    assert "*Sender:* the OVH account default" in shown
    assert ":white_check_mark: *You can send SMS*." in shown
    assert "*From:* any conversation the bot is in." in shown
    assert "*To:* mobile numbers in ES, FR, GB" in shown
    assert "*Per send:* up to 50 numbers" in shown
    assert "SMS today: 98 of 100 SMS left (2 used in the last 24 hours)" in shown
    assert "Credits today: no limit" in shown
    assert "to +34******001, +34******111 · :white_check_mark: sent" in shown
    permalink = f"https://test.slack.com/archives/COPS/p{record.audit_ts.replace('.', '')}"
    assert f"<{permalink}|thread>" in shown
    assert "Team (admins only)" not in shown
    assert "600000001" not in shown  # numbers are masked
    view = fake_slack.home_view("UALICE")
    buttons = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == ["Send SMS"]


def test_the_home_tab_is_refreshed_after_each_send_of_the_person(bot, slack, fake_slack):
    slack.command("+34600000001 uno")
    settled_records(bot, 1)
    assert "SMS today: 99 of 100" in _home_text(fake_slack, "UALICE", 1)
    slack.command("+34600000002 dos")
    settled_records(bot, 2)
    assert "SMS today: 98 of 100" in _home_text(fake_slack, "UALICE", 2)


def test_the_messages_tab_publishes_nothing(bot, slack, fake_slack):
    open_home(slack, "UALICE", tab="messages")
    open_home(slack, "UBOB")
    fake_slack.wait_for_home("UBOB")
    assert fake_slack.home_view("UALICE") is None


def test_a_refused_person_reads_why_and_gets_no_send_button(bot, slack, fake_slack):
    open_home(slack, "UBOB")

    shown = _home_text(fake_slack, "UBOB")
    assert ":no_entry: *You cannot send SMS.* You are not allowed to send SMS with this bot." in shown
    assert "SMS_ALLOWED_USERS" in shown
    assert "You have sent no SMS yet." in shown
    assert not [b for b in fake_slack.home_view("UBOB")["blocks"] if b["type"] == "actions"]


def test_channel_rules_and_an_unknown_price_are_said(start_bot, fake_slack, fake_ovh):
    fake_ovh.fail_next(503, path_contains="/rates", times=10)
    bot = start_bot(SMS_ALLOWED_CHANNELS="COPS,CSUPPORT", SMS_DEFAULT_REGION="FR", SMS_ALLOWED_COUNTRIES="*")
    fake_ovh.credits_left = 12.5
    open_home(SlackSender(bot.url), "UALICE")

    shown = _home_text(fake_slack, "UALICE")
    assert "*Credits left:* 12.5" in shown
    assert "*SMS left:* unknown: OVH's price of an SMS to FR could not be read." in shown
    assert "*From:* <#COPS>, <#CSUPPORT>" in shown
    assert "*To:* mobile numbers in any country." in shown


def test_sms_left_are_counted_at_the_usual_destinations_price(start_bot, fake_slack, fake_ovh):
    fake_ovh.rates = {"es": 0.5, "gb": 2.0}
    fake_ovh.credits_left = 102  # two SMS cost 2 credits at the fake OVH, whatever the public rate says
    bot = start_bot()
    slack = SlackSender(bot.url)
    slack.command("+447400123456,+447400123457 hello")  # the default region is ES, but most go to GB
    settled_records(bot)
    fake_slack.wait_for_home("UALICE")  # refreshed after the send

    open_home(slack, "UALICE")

    shown = _home_text(fake_slack, "UALICE", 2)
    assert "*SMS left:* about 50 one-part SMS to GB (2 credits each)" in shown


def test_an_admin_sees_team_use_failures_and_opts_a_number_in(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMS_ADMIN_USERS="UADMIN")
    slack = SlackSender(bot.url)
    slack.command("+34600000001 hola")
    settled_records(bot, 1)
    fake_ovh.fail_next(400, message="Invalid sender", method="POST")
    slack.command("+34600000002 adiós")
    settled_records(bot, 2)
    slack.command("optout +34699999999 asked by phone", user_id="UADMIN")
    fake_slack.wait_for("chat.postEphemeral")

    open_home(slack, "UADMIN")
    shown = _home_text(fake_slack, "UADMIN")
    assert ":white_check_mark: *You can send SMS* as an admin of the bot" in shown
    assert "SMS today" not in shown  # no limits for admins
    assert "*Last 24 hours:* 1 send, 1 SMS, 1 credit" in shown  # a failed send sent nothing
    assert "*Last 30 days:* 1 send, 1 SMS, 1 credit" in shown
    assert "<@UALICE> · to +34******002 · :x: not sent" in shown
    assert "Opted-out numbers (1)" in shown
    assert "+34******999 (by <@UADMIN>" in shown and "asked by phone" in shown
    [button] = [
        b["accessory"]
        for b in fake_slack.home_view("UADMIN")["blocks"]
        if b.get("accessory", {}).get("value")
    ]
    assert button["value"] == "+34699999999"

    click(slack, button["action_id"], user_id="UADMIN", value=button["value"])
    shown = _home_text(fake_slack, "UADMIN", 2)
    assert "Opted-out numbers (0)" in shown
    assert bot.core.opt_outs.all() == []


def test_only_admins_may_opt_in_whatever_the_button_says(start_bot, fake_slack):
    bot = start_bot(SMS_ADMIN_USERS="UADMIN")
    slack = SlackSender(bot.url)
    bot.core.opt_outs.add("+34699999999", "UADMIN", None)

    click(slack, "home_opt_in", user_id="UALICE", value="+34699999999")

    [dm] = fake_slack.wait_for("chat.postMessage")
    assert dm["channel"] == "UALICE"
    assert "Only the bot's admins manage opt-outs" in blocks_text(dm)
    assert [entry.e164 for entry in bot.core.opt_outs.all()] == ["+34699999999"]
    assert fake_slack.calls_to("views.publish") == []


def test_an_admin_click_with_a_forged_value_changes_nothing(start_bot, fake_slack):
    bot = start_bot(SMS_ADMIN_USERS="UADMIN")
    slack = SlackSender(bot.url)
    bot.core.opt_outs.add("+34699999999", "UADMIN", None)

    click(slack, "home_opt_in", user_id="UADMIN", value="<!channel> not a number")

    [dm] = fake_slack.wait_for("chat.postMessage")
    assert dm["channel"] == "UADMIN"
    assert "is not a phone number" in blocks_text(dm) or "Check" in blocks_text(dm)
    assert [entry.e164 for entry in bot.core.opt_outs.all()] == ["+34699999999"]


def test_the_send_button_opens_the_form_with_a_channel_picker_as_the_global_shortcut_does(
    bot, slack, fake_slack
):
    click(slack, "home_send_sms", user_id="UALICE")

    [opened] = fake_slack.wait_for("views.open")
    assert opened["view"]["callback_id"] == "sms_compose"
    assert '"channel_id": ""' in opened["view"]["private_metadata"]
    elements = [b.get("element", {}).get("type") for b in opened["view"]["blocks"] if b["type"] == "input"]
    assert "conversations_select" in elements and "multi_users_select" in elements


def test_the_send_button_tells_a_refused_person_why(bot, slack, fake_slack):
    click(slack, "home_send_sms", user_id="UBOB")

    [dm] = fake_slack.wait_for("chat.postMessage")
    assert dm["channel"] == "UBOB"
    assert "You are not allowed to send SMS" in blocks_text(dm)
    assert fake_slack.calls_to("views.open") == []


def test_an_event_naming_no_slack_user_publishes_nothing(bot, slack, fake_slack):
    assert open_home(slack, "UX> <!channel>").status == 200
    open_home(slack, "UBOB")
    fake_slack.wait_for_home("UBOB")
    assert [c["user_id"] for c in fake_slack.calls_to("views.publish")] == ["UBOB"]


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path) -> Iterator[Cli]:
    with kept_logging():
        yield Cli(monkeypatch, capsys, tmp_path)


def _published(fake_slack, user_id: str) -> int:
    return len(
        [c for c in fake_slack.calls if c.method == "views.publish" and c.params["user_id"] == user_id]
    )


def _opens_home(bot, slack, fake_slack, user_id: str) -> None:
    """``user_id`` opens their Home tab, and the bot has recorded it."""
    open_home(slack, user_id)
    fake_slack.wait_for_home(user_id)
    viewers = HomeViewers(bot.core.engine)
    deadline = time.monotonic() + 5
    while not viewers.has_opened(user_id):
        assert time.monotonic() < deadline, f"the opening of {user_id}'s Home tab was not recorded"
        time.sleep(0.01)


def test_a_send_from_the_command_line_refreshes_the_tab_of_whoever_opened_it(
    bot, slack, fake_slack, fake_ovh, env, cli
):
    _opens_home(bot, slack, fake_slack, "UALICE")
    assert "SMS today: 100 of 100" in _home_text(fake_slack, "UALICE", 1)
    env = {**env, "SMS_ALLOWED_USERS": "UALICE,UCAROL"}

    assert (
        cli(
            "send", "+34600000001", "Desde la terminal", "--user", "UALICE", "--channel", "COPS", env=env
        ).code
        == 0
    )
    assert cli("send", "+34600000002", "Nunca abrió su Home", "--user", "UCAROL", env=env).code == 0

    shown = _home_text(fake_slack, "UALICE", 2)
    assert "SMS today: 99 of 100" in shown and "to +34******001 · :white_check_mark: sent" in shown
    assert _published(fake_slack, "UALICE") == 2
    assert _published(fake_slack, "UCAROL") == 0  # Slack shows them no tab: none is published for them
    assert len(fake_ovh.jobs) == 2


def test_a_send_recovery_settles_refreshes_the_tab_of_whoever_opened_it(start_bot, fake_slack, fake_ovh):
    bot = start_bot(unknown_grace_seconds=0)
    slack = SlackSender(bot.url)
    _opens_home(bot, slack, fake_slack, "UALICE")
    fake_ovh.fail_next(502, method="POST", after_processing=True)  # OVH took it; its answer was lost
    slack.command("+34600000001 Respuesta perdida")
    [record] = settled_records(bot)
    assert ":grey_question: outcome unknown" in _home_text(fake_slack, "UALICE", 2)  # after the send
    orphan(bot, user_id="UCAROL")  # a send of someone who never opened the tab, left by a dead process

    report = bot.recover()

    assert report.found_at_ovh == [record.id] and len(report.sent_again) == 1
    shown = _home_text(fake_slack, "UALICE", 3)
    assert "to +34******001 · :white_check_mark: sent" in shown
    assert _published(fake_slack, "UALICE") == 3
    assert _published(fake_slack, "UCAROL") == 0


def test_a_tab_that_cannot_be_published_does_not_hold_up_recovery(start_bot, fake_slack, fake_ovh, caplog):
    bot = start_bot(unknown_grace_seconds=0)
    slack = SlackSender(bot.url)
    _opens_home(bot, slack, fake_slack, "UALICE")
    record = orphan(bot)
    fake_slack.fail_next("views.publish", error="internal_error", status=500, times=2)

    assert bot.recover().sent_again == [record.id]

    assert bot.ledger.get(record.id).status is SendStatus.SENT
    assert "the Home tab of UALICE was not published" in caplog.text
