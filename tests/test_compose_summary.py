"""The form's live summary: each keystroke refreshes characters, encoding, parts, receivers and the
estimated credits under the message, with the view's hash so an older summary never replaces a newer one."""

from __future__ import annotations

import logging
import time

import pytest

from bot.ovh.account import OvhAccount
from tests.harness import SlackSender

TWO_RECEIVERS = "+34600000001, 600000002"


@pytest.fixture
def form(start_bot, fake_ovh, fake_slack):
    """A bot whose OVH rates say 1.3 credits per part to Spain, and its form opened by `/sms`."""
    fake_ovh.rates = {"es": 1.3}
    bot = start_bot()
    slack = SlackSender(bot.url)
    assert slack.command("").status == 200
    view = fake_slack.wait_for_view()
    return bot, slack, view


def summary_of(view: dict) -> str:
    [block] = [block for block in view["blocks"] if block.get("block_id") == "summary"]
    return block["elements"][0]["text"]


def wait_for_summary(fake_slack, view_id: str, count: int = 1) -> str:
    fake_slack.wait_for("views.update", count)
    deadline = time.monotonic() + 5
    while not any(call.response for call in fake_slack.calls if call.method == "views.update"):
        assert time.monotonic() < deadline, "views.update was never answered"
        time.sleep(0.01)
    return summary_of(fake_slack.views[view_id])


# (text, encoding, parts): GSM-7, extension characters (two septets each), emoji, and Spanish and French
# accents inside and outside the GSM-7 alphabet.
TEXTS = {
    "spanish-unicode": ("Servidor caído, llamad al 600 000 001", "Unicode", 1),
    "spanish-gsm": ("Mañana: ¿reunión? ¡Sí, a las 9! Señal débil en la sala", "Unicode", 1),
    "spanish-gsm-only": ("Mañana a las 9, señal débil. ¿Vienes? ¡Venga!", "GSM-7", 1),
    "french-gsm": ("Ça marche très bien, à demain", "GSM-7", 1),
    "french-unicode": ("Où êtes-vous ? Le serveur est tombé.", "Unicode", 1),
    "extension": ("Price {EUR} [now]: 5€ ~ ok | a^b\\c", "GSM-7", 1),
    "emoji": ("Deploy done 🚀🔥", "Unicode", 1),
    "gsm-two-parts": ("x" * 161, "GSM-7", 2),
    "extension-two-parts": ("€" * 81, "GSM-7", 2),
    "emoji-two-parts": ("🚀" * 40, "Unicode", 2),
}


@pytest.mark.parametrize(("text", "encoding", "parts"), TEXTS.values(), ids=TEXTS.keys())
def test_the_summary_counts_as_ovh_does_and_prices_each_part(
    form, fake_slack, fake_ovh, make_settings, text, encoding, parts
):
    _bot, slack, view = form
    fake_ovh.rules.append(("POST", "/sms/estimate"))
    ovh = OvhAccount.from_settings(make_settings()).estimate(text)

    answer = slack.keystroke(view, block_id="message", value=text, values={"receivers": TWO_RECEIVERS})

    assert answer.status == 200 and answer.body == ""
    summary = wait_for_summary(fake_slack, view["id"])
    assert (ovh.parts, ovh.characters_class) == (parts, "7bits" if encoding == "GSM-7" else "unicode")
    credits = f"{ovh.parts * 2 * 1.3:.2f}".rstrip("0").rstrip(".")
    sms = "1 SMS" if ovh.parts == 1 else f"{ovh.parts} SMS parts"
    assert summary.splitlines()[0] == (
        f"{ovh.characters:,} characters · {encoding} · {sms} · 2 receivers · ≈ *{credits} credits*"
    )


def test_one_accent_that_doubles_the_parts_is_named_with_what_keeping_it_costs(form, fake_slack):
    _bot, slack, view = form
    text = "Reunión mañana a las 9 en la sala grande, traed el informe del trimestre y las cifras. Gracias."

    slack.keystroke(view, block_id="message", value=text, values={"receivers": TWO_RECEIVERS})

    summary = wait_for_summary(fake_slack, view["id"])
    assert "2 SMS parts · 2 receivers · ≈ *5.2 credits*" in summary
    assert summary.splitlines()[1] == (
        ":bulb: `ó` (latin small letter o with acute) makes the text Unicode: 2 SMS parts instead of 1. "
        "Keeping it costs 2.6 more credits."
    )


def test_typing_the_receivers_refreshes_the_count_and_flags_a_number_not_finished(form, fake_slack):
    _bot, slack, view = form

    slack.keystroke(view, block_id="receivers", value="+34600000001, +34600", values={"message": "Hola"})

    assert "4 characters · GSM-7 · 1 SMS · 1 receiver (+1 not valid yet) · ≈ *1.3 credits*" in (
        wait_for_summary(fake_slack, view["id"])
    )


def test_a_message_too_long_says_how_much_to_cut(form, fake_slack):
    _bot, slack, view = form

    slack.keystroke(view, block_id="message", value="x" * 1000, values={"receivers": TWO_RECEIVERS})

    summary = wait_for_summary(fake_slack, view["id"])
    assert summary.startswith(":warning: The message is 1,000 characters (7 SMS)")
    assert "Shorten it by 82 characters." in summary


def test_without_ovhs_rates_the_summary_says_it_assumed_one_credit_per_part(start_bot, fake_ovh, fake_slack):
    fake_ovh.fail_next(503, path_contains="/rates", times=100)
    bot = start_bot()
    slack = SlackSender(bot.url)
    slack.command("")
    view = fake_slack.wait_for_view()

    slack.keystroke(view, block_id="message", value="Hola", values={"receivers": TWO_RECEIVERS})

    summary = wait_for_summary(fake_slack, view["id"])
    assert "2 receivers · ≈ *2 credits*" in summary
    assert "OVH's rates could not be read: the estimate assumes 1 credit per SMS part." in summary


def test_an_older_keystroke_arriving_late_never_replaces_a_newer_summary(form, fake_slack, caplog):
    caplog.set_level(logging.DEBUG, logger="bot.slack.listeners.summary")
    _bot, slack, view = form
    now = time.time()

    slack.keystroke(
        view, block_id="message", value="newer text", values={"receivers": TWO_RECEIVERS}, typed_at=now
    )
    assert wait_for_summary(fake_slack, view["id"]).startswith("10 characters")
    slack.keystroke(
        view, block_id="message", value="old", values={"receivers": TWO_RECEIVERS}, typed_at=now - 1
    )

    # The older keystroke carries the view's first hash: Slack would refuse it, and the bot does not try.
    deadline = time.monotonic() + 5
    while "older than the summary shown" not in caplog.text:
        assert time.monotonic() < deadline, "the late keystroke was never handled"
        time.sleep(0.01)
    # Skipped, or (when its handler ran before the bot heard Slack's answer to the newer one) refused.
    assert [call.error for call in fake_slack.calls if call.method == "views.update"] in (
        [None],
        [None, "hash_conflict"],
    )
    assert summary_of(fake_slack.views[view["id"]]).startswith("10 characters")


def test_a_newer_keystroke_that_lost_the_race_is_shown_with_the_hash_the_older_left(form, fake_slack):
    _bot, slack, view = form
    now = time.time()
    slack.keystroke(
        view, block_id="message", value="first", values={"receivers": TWO_RECEIVERS}, typed_at=now
    )
    wait_for_summary(fake_slack, view["id"])

    # Typed after the first, but reported with the hash the view had before the first's update.
    slack.keystroke(
        view, block_id="message", value="second!", values={"receivers": TWO_RECEIVERS}, typed_at=now + 1
    )

    updates = fake_slack.wait_for("views.update", 3)
    assert [call.error for call in fake_slack.calls if call.method == "views.update"] == [
        None,
        "hash_conflict",
        None,
    ]
    first_answer = next(call.response for call in fake_slack.calls if call.method == "views.update")
    assert updates[2]["hash"] == first_answer["view"]["hash"]
    assert summary_of(fake_slack.views[view["id"]]).startswith("7 characters")


def test_people_picked_count_as_receivers_priced_as_local_numbers(form, fake_slack):
    _bot, slack, view = form
    state = {
        "receivers": {"value": {"type": "plain_text_input", "value": "+34600000001"}},
        "message": {"value": {"type": "plain_text_input", "value": "Hola"}},
        "people": {"value": {"type": "multi_users_select", "selected_users": ["UBOB"]}},
    }
    pick = {"type": "multi_users_select", "block_id": "people", "action_id": "value"}
    pick |= {"selected_users": ["UBOB", "UCAROL"], "action_ts": f"{time.time():.6f}"}

    slack.interaction(
        {
            "type": "block_actions",
            "container": {"type": "view", "view_id": view["id"]},
            "view": {**view, "state": {"values": state}},
            "actions": [pick],
        }
    )

    assert wait_for_summary(fake_slack, view["id"]).splitlines()[0] == (
        "4 characters · GSM-7 · 1 SMS · 3 receivers (2 picked: priced as local numbers until their phones "
        "are read) · ≈ *3.9 credits*"
    )


def test_a_form_opened_with_a_messages_text_shows_its_summary_at_once(form, fake_slack):
    _bot, slack, _view = form

    slack.message_shortcut({"text": "Reunión a las 9 :rocket:"})

    view = fake_slack.wait_for_view(2)
    assert summary_of(view).startswith(
        "18 characters · Unicode · 1 SMS · 0 receivers · ≈ *0 credits*"
    )  # 🚀: 2
