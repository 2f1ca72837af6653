"""Spanish and English: the person's Slack locale picks the catalogue; every marked string is in every
catalogue; English for any other locale."""

from __future__ import annotations

import re
import string

import pytest

from bot.domain.errors import NotAllowed
from bot.i18n import ENGLISH, T_, Number, Tn_, for_locale, joined, languages, read_catalogue
from bot.i18n.extract import gaps, marked
from bot.i18n.stored import from_json, to_json
from tests.events import open_home
from tests.harness import blocks_text, settled_records


@pytest.mark.parametrize("language", [language for language in languages() if language != "en"])
def test_every_catalogue_translates_exactly_what_the_code_marks(language):
    found = gaps(language)
    assert found.missing == [], f"{language}: translate these (python -m bot.i18n lists every string)"
    assert found.stale == [], f"{language}: the code no longer has these"


@pytest.mark.parametrize("language", [language for language in languages() if language != "en"])
def test_a_translation_keeps_the_placeholders_and_the_markup_of_its_string(language):
    def fields(text: str) -> list[str]:
        return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name)

    for message in read_catalogue(language):
        if not message.id:
            continue
        # A plural's forms each keep the placeholders of the English plural ({count} may be left out of
        # the singular, as English leaves it out of "one SMS").
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for form in forms:
            assert set(fields(form)) - {"count"} == set(fields(ids[-1])) - {"count"}, message.id
            for token in ("`/sms", "SMS_"):
                assert ids[-1].count(token) == form.count(token), message.id
            assert ids[-1].count("*") % 2 == form.count("*") % 2, message.id


def test_the_code_marks_strings_and_none_is_empty():
    ids = [message.id for message in marked() if message.id]
    assert len(ids) > 90
    # A plural's id is its singular and plural forms: each must say something.
    assert all(form.strip() for i in ids for form in ((i,) if isinstance(i, str) else i))


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("es-ES", "es"),
        ("es-LA", "es"),
        ("es_MX", "es"),
        ("en-US", "en"),
        ("en-GB", "en"),
        ("fr-FR", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_a_locale_picks_its_language_and_english_otherwise(locale, language):
    assert for_locale(locale).language == language


def test_english_is_the_text_of_the_code():
    assert ENGLISH._("Send SMS") == "Send SMS"
    assert for_locale("es-ES")._("Send SMS") == "Enviar SMS"
    assert for_locale("es-ES")._("a string nobody marked") == "a string nobody marked"


def test_the_home_tab_of_a_spanish_speaker_is_in_spanish(bot, slack, fake_slack):
    fake_slack.users["UALICE"] = {"locale": "es-ES"}
    slack.command("+34600000001 Hola")
    settled_records(bot)

    shown = blocks_text(fake_slack.wait_for_home("UALICE"))

    assert "*Puedes enviar SMS*." in shown
    assert "*Créditos restantes:* 99" in shown
    assert "SMS hoy: quedan 99 de 100 SMS (1 usados en las últimas 24 horas)" in shown
    assert "a +34******001 · :white_check_mark: enviado" in shown
    assert "Enviar SMS" in shown and "Tus últimos envíos" in shown
    assert "You can send" not in shown


@pytest.mark.parametrize("locale", ["en-US", "fr-FR"])
def test_the_home_tab_is_in_english_for_english_and_any_other_locale(bot, slack, fake_slack, locale):
    fake_slack.users["UALICE"] = {"locale": locale}
    open_home(slack, "UALICE")

    shown = blocks_text(fake_slack.wait_for_home("UALICE"))
    assert "*You can send SMS*." in shown and "Send SMS" in shown


def test_a_refusal_on_the_home_tab_is_translated(bot, slack, fake_slack):
    fake_slack.users["UBOB"] = {"locale": "es-ES"}
    open_home(slack, "UBOB")

    shown = blocks_text(fake_slack.wait_for_home("UBOB"))
    assert ":no_entry: *No puedes enviar SMS.* No tienes permiso para enviar SMS con este bot." in shown


def test_the_help_and_credits_answer_in_spanish(bot, slack, fake_slack):
    fake_slack.users["UALICE"] = {"locale": "es-ES"}

    help_text = blocks_text(slack.command("help").json())
    url = fake_slack.new_response_url()
    slack.command("credits", response_url=url)
    credits = blocks_text(fake_slack.wait_for_response(url)[0])

    assert "*Envía un SMS desde Slack* :iphone:" in help_text
    assert "• `/sms +34600000001 Tu mensaje`: un número (envía a +34 600 00 00 01)." in help_text
    assert "*Solo administradores*" in help_text
    assert "*Créditos restantes:* 100" in credits
    assert "*Este mes (UTC):* 0 envíos, 0 SMS, 0 créditos (sin contar los envíos fallidos)" in credits


def test_the_locale_is_asked_once_then_remembered(bot, slack, fake_slack):
    fake_slack.users["UALICE"] = {"locale": "es-ES"}
    open_home(slack, "UALICE")
    fake_slack.wait_for_home("UALICE")
    open_home(slack, "UALICE")
    fake_slack.wait_for_home("UALICE", 2)

    asked = [c for c in fake_slack.calls_to("users.info") if c.get("user") == "UALICE"]
    assert len(asked) == 1 and str(asked[0]["include_locale"]).lower() in ("1", "true")


def test_the_sms_text_is_never_translated(bot, slack, fake_slack, fake_ovh):
    fake_slack.users["UALICE"] = {"locale": "es-ES"}
    slack.command("+34600000001 Send SMS")  # a text that is also a string of the catalogue
    settled_records(bot)
    assert [job.body["message"] for job in fake_ovh.jobs] == ["Send SMS"]


def test_a_locale_slack_cannot_give_falls_back_to_english(bot, slack, fake_slack):
    fake_slack.fail_next("users.info", error="user_not_visible", times=5)
    open_home(slack, "UALICE")
    assert "*You can send SMS*." in blocks_text(fake_slack.wait_for_home("UALICE"))


def test_no_string_mixes_a_placeholder_into_markup_it_would_break():
    for message in marked():
        for form in (message.id,) if isinstance(message.id, str) else message.id or ():
            assert not re.search(r"<\{[a-z]+\}", form), message.id


def test_usage_and_the_admins_only_answer_are_in_spanish(bot, slack, fake_slack):
    fake_slack.users["UALICE"] = {"locale": "es-ES"}

    url = fake_slack.new_response_url()
    slack.command("usage", response_url=url)
    usage = blocks_text(fake_slack.wait_for_response(url)[0])
    url = fake_slack.new_response_url()
    slack.command("optouts", response_url=url)
    refused = blocks_text(fake_slack.wait_for_response(url)[0])

    assert "*Tus SMS en las últimas 24 horas:* 0 (0 créditos)" in usage
    assert "Límites: 100 SMS, sin límite créditos al día" in usage
    assert "Un envío puede ir a 50 números." in usage
    assert "Solo los administradores del bot gestionan las bajas (SMS_ADMIN_USERS)." in refused


def test_a_refused_send_is_told_in_spanish(start_bot, fake_slack, fake_ovh):
    from tests.harness import SlackSender

    bot = start_bot(SMS_ALLOWED_CHANNELS="CSALES", SMS_ALLOWED_USERS="UALICE")
    fake_slack.users["UALICE"] = {"locale": "es-ES"}
    url = fake_slack.new_response_url()

    SlackSender(bot.url).command("+34600000001 Hola", channel_id="COPS", response_url=url)

    told = blocks_text(fake_slack.wait_for_response(url)[0])
    assert "No se pueden enviar SMS desde esta conversación." in told
    assert fake_ovh.jobs == []


def test_a_text_is_put_into_the_readers_language_with_its_fields_and_plural():
    spanish = for_locale("es-ES")
    alert = T_("Send SMS")
    assert str(alert) == "Send SMS"
    assert alert.in_(spanish) == "Enviar SMS"
    # Not in any catalogue: the English, fields filled in, in either language.
    text = T_("{who} sent {n}", who=T_("Send SMS"), n=3)
    assert text.in_(ENGLISH) == "Send SMS sent 3"
    assert text.in_(spanish) == "Enviar SMS sent 3"
    assert Tn_("{count} part", "{count} parts", 1).in_(ENGLISH) == "1 part"
    assert Tn_("{count} part", "{count} parts", 2).in_(ENGLISH) == "2 parts"
    assert Tn_("{count} part", "{count} parts", 2_000, count="2,000").in_(ENGLISH) == "2,000 parts"
    assert (
        joined([T_("Send SMS"), "+34 600", T_("Send SMS")], " · ").in_(spanish)
        == "Enviar SMS · +34 600 · Enviar SMS"
    )


def test_numbers_are_written_as_the_readers_language_writes_them():
    spanish = for_locale("es-ES")
    values = (3.0, 2.5, 0.75, 1234.0, 12345.25, 2.6049)
    assert [ENGLISH.number(v, 2) for v in values] == ["3", "2.5", "0.75", "1,234", "12,345.25", "2.6"]
    assert [spanish.number(v, 2) for v in values] == ["3", "2,5", "0,75", "1.234", "12.345,25", "2,6"]
    assert [ENGLISH.number(v) for v in (1234, 0.4)] == ["1,234", "0"]
    # A count in a Text, and a Number kept in the ledger and told later, in the reader's language.
    assert Tn_("{count} send", "{count} sends", 2_000).in_(spanish) == "2.000 envíos"
    assert Tn_("{count} send", "{count} sends", 2_000).in_(ENGLISH) == "2,000 sends"
    kept = from_json(to_json(T_("{n} left", n=Number(1234.5, 2))))
    assert (kept.in_(ENGLISH), kept.in_(spanish)) == ("1,234.5 left", "1.234,5 left")


def test_an_error_tells_its_message_in_the_readers_language_and_in_english_to_logs():
    error = NotAllowed(T_("Send SMS"))
    assert error.user_message == str(error) == "Send SMS"
    assert error.user_message_in(for_locale("es-ES")) == "Enviar SMS"
    assert NotAllowed("a plain string").user_message_in(for_locale("es-ES")) == "a plain string"
