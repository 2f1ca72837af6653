"""The form and the answers to what a person does, in their Slack locale's language: the compose form, its
live summary and inline errors, the confirmation, the Cancel and Follow up buttons, and the answers to
`/sms history`, `credits` and `contacts`. Spanish for es-ES; English for en-US and for any other locale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.i18n import for_locale
from bot.slack.compose import ComposeForm, ComposeOptions, ConfirmationView, compose_view, confirmation_view
from bot.slack.form_extras import with_channel_picker, with_people_picker
from tests.events import click
from tests.fakes.slack_api import view_error
from tests.harness import SlackSender, audit_thread, blocks_text, settled_records
from tests.test_compose_schedule import click_cancel, scheduled_send, the_reply
from tests.test_compose_summary import summary_of, wait_for_summary
from tests.test_follow_up import button_message, button_value

SPANISH = for_locale("es-ES")


def speaks(fake_slack, locale: str, *users: str) -> None:
    for user in users or ("UALICE",):
        fake_slack.users[user] = {**fake_slack.users.get(user, {}), "locale": locale}


def open_form(bot, fake_slack, user_id: str = "UALICE"):
    slack = SlackSender(bot.url)
    opened = len(fake_slack.calls_to("views.open"))
    assert slack.command("", user_id=user_id, response_url=fake_slack.new_response_url()).status == 200
    return slack, fake_slack.wait_for_view(opened + 1)


def told(bot, fake_slack, text: str, user_id: str = "UALICE") -> str:
    url = fake_slack.new_response_url()
    answer = SlackSender(bot.url).command(text, user_id=user_id, response_url=url)
    if answer.body:
        return blocks_text(answer.json())
    [reply] = fake_slack.wait_for_response(url)
    return blocks_text(reply)


@pytest.fixture
def priced(start_bot, fake_ovh):
    """A bot whose OVH rates say 1.3 credits per part to Spain; confirmation above 2 receivers."""
    fake_ovh.rates = {"es": 1.3}
    return start_bot(SMS_CONFIRM_ABOVE_RECEIVERS="2")


def test_a_spanish_speaker_gets_the_form_in_spanish(priced, fake_slack):
    speaks(fake_slack, "es-ES")

    _slack, view = open_form(priced, fake_slack)

    assert (view["title"]["text"], view["submit"]["text"], view["close"]["text"]) == (
        "Enviar un SMS",
        "Enviar",
        "Cancelar",
    )
    labels = [block["label"]["text"] for block in view["blocks"] if block["type"] == "input"]
    assert labels[:3] == ["Para", "O personas", "Mensaje"]
    shown = blocks_text(view)
    assert "los números sin prefijo de país se leen como números de ES." in shown
    assert summary_of(view) == "Escribe un mensaje para ver su longitud y lo que costará."
    assert "To" not in labels and "Send an SMS" not in shown


def test_typing_shows_the_summary_in_spanish(priced, fake_slack):
    speaks(fake_slack, "es-ES")
    slack, view = open_form(priced, fake_slack)
    text = "Reunión mañana a las 9 en la sala grande, traed el informe del trimestre y las cifras. Gracias."

    slack.keystroke(view, block_id="message", value=text, values={"receivers": "+34600000001, 600000"})

    summary = wait_for_summary(fake_slack, view["id"])
    assert summary.splitlines() == [
        "95 caracteres · Unicode · 2 partes de SMS · 1 destinatario (+1 aún no válido) · ≈ *2,6 créditos*",
        ":bulb: `ó` (latin small letter o with acute) hace que el texto sea Unicode: 2 partes de SMS en lugar "
        "de 1. Mantenerlo cuesta 1,3 créditos más.",
    ]


def test_the_home_tabs_send_button_opens_the_form_in_spanish(bot, slack, fake_slack):
    speaks(fake_slack, "es-ES")

    click(slack, "home_send_sms", user_id="UALICE")

    view = fake_slack.wait_for_view()
    assert view["title"]["text"] == "Enviar un SMS"
    assert [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"][:4] == [
        "Para",
        "O personas",
        "Mensaje",
        "Auditoría en",
    ]


def test_a_bad_field_is_an_inline_error_in_spanish(priced, fake_slack, fake_ovh):
    speaks(fake_slack, "es-ES")
    slack = SlackSender(priced.url)
    slack.shortcut()  # the global shortcut: a channel must be picked
    view = fake_slack.wait_for_view()
    assert view["title"]["text"] == "Enviar un SMS"

    answer = slack.submit_modal(view, receivers="+34600000001", message="Hola", channel=None)

    assert answer.json() == {
        "response_action": "errors",
        "errors": {"channel": "Elige el canal donde irá el hilo de auditoría del envío."},
    }
    assert fake_ovh.jobs == []


def test_a_refusal_is_an_inline_error_in_the_language_of_who_submits(priced, fake_slack, fake_ovh):
    speaks(fake_slack, "es-ES", "UBOB")
    slack, view = open_form(priced, fake_slack)  # opened by Alice, in English

    answer = slack.submit_modal(view, receivers="+34600000001", message="Hola", user_id="UBOB")

    assert answer.json()["errors"]["receivers"].startswith("No tienes permiso para enviar SMS con este bot.")
    assert fake_ovh.jobs == []


def test_a_costly_send_is_confirmed_in_spanish_and_going_back_sends_nothing(priced, fake_slack, fake_ovh):
    speaks(fake_slack, "es-ES")
    slack, view = open_form(priced, fake_slack)

    answer = slack.submit_modal(view, receivers="600000001, 600000002, 600000003", message="Corte de luz")

    pushed = answer.json()["view"]
    shown = blocks_text(pushed)
    assert (pushed["title"]["text"], pushed["submit"]["text"], pushed["close"]["text"]) == (
        "Confirmar el SMS",
        "Enviarlo",
        "Volver",
    )
    assert "*Este SMS va a 3 destinatarios:* +34 600 00 00 01, +34 600 00 00 02, +34 600 00 00 03" in shown
    assert "*El texto, tal como lo mostrará el teléfono:*" in shown
    assert "*Coste estimado:* 3,9 créditos (1 parte de SMS, GSM-7, a cada destinatario)" in shown
    assert "*Remitente:* el remitente predeterminado de la cuenta   *Envío:* ahora" in shown
    # "Volver" closes the confirmation in Slack itself: nothing reaches the bot, and nothing is sent.
    assert fake_ovh.jobs == []


def test_someone_elses_cancel_is_refused_in_their_language(start_bot, fake_ovh, fake_slack):
    bot = start_bot(SMS_ALLOWED_USERS="UALICE,UBOB")
    speaks(fake_slack, "es-ES", "UALICE", "UBOB")
    slack, record, _reply = scheduled_send(bot, fake_ovh, fake_slack)

    url = click_cancel(slack, fake_slack, the_reply(fake_slack), str(record.id), "UBOB")

    [refusal] = fake_slack.wait_for_response(url)
    assert "Solo quien programó este SMS, o un administrador del bot, puede cancelarlo." in refusal["text"]
    assert fake_ovh.deleted_jobs == []


def test_follow_up_refusals_are_told_in_spanish(bot, slack, fake_slack):
    speaks(fake_slack, "es-ES", "UALICE", "UMALLORY")
    slack.command("+34600000001 Hola")
    audit_thread(fake_slack)
    settled_records(bot)
    message = button_message(fake_slack)
    refused, gone = fake_slack.new_response_url(), fake_slack.new_response_url()

    slack.click(message, button_value(message), user_id="UMALLORY", response_url=refused)
    slack.click(message, "999999", response_url=gone)

    assert (
        "No tienes permiso para enviar SMS con este bot." in fake_slack.wait_for_response(refused)[0]["text"]
    )
    assert "Ese envío ya no está en el registro del bot" in fake_slack.wait_for_response(gone)[0]["text"]


def test_history_contacts_and_opt_outs_answer_in_spanish(start_bot, fake_slack):
    bot = start_bot(SMS_ADMIN_USERS="UBOSS")
    speaks(fake_slack, "es-ES", "UALICE", "UBOSS")

    assert "Aún no has enviado ningún SMS." in told(bot, fake_slack, "history")
    assert "Aún no hay contactos." in told(bot, fake_slack, "contacts")
    assert "Añadido *casa* +34 600 00 00 08." in told(bot, fake_slack, "contacts add casa 600000008", "UBOSS")
    assert "*1 contacto*, utilizable como destinatario" in told(bot, fake_slack, "contacts")
    assert "Solo los administradores del bot cambian los contactos" in told(
        bot, fake_slack, "contacts remove casa"
    )
    assert "Dados de baja: +34 600 00 00 09." in told(bot, fake_slack, "optout 600000009", "UBOSS")
    assert "*1 número dado de baja:*" in told(bot, fake_slack, "optouts", "UBOSS")


def test_history_after_a_send_and_credits_answer_in_spanish(bot, slack, fake_slack):
    speaks(fake_slack, "es-ES")
    slack.command("+34600000001 Hola")
    settled_records(bot)

    assert "*Tus últimos envíos (1):*" in told(bot, fake_slack, "history")
    assert "*Créditos restantes:*" in told(bot, fake_slack, "credits")


@pytest.mark.parametrize("locale", ["en-US", "fr-FR"])
def test_the_form_and_answers_stay_english_for_english_and_any_other_locale(priced, fake_slack, locale):
    speaks(fake_slack, locale)
    slack, view = open_form(priced, fake_slack)
    assert view["title"]["text"] == "Send an SMS" and view["submit"]["text"] == "Send"

    slack.keystroke(view, block_id="message", value="Hola", values={"receivers": "+34600000001"})
    assert wait_for_summary(fake_slack, view["id"]).startswith(
        "4 characters · GSM-7 · 1 SMS · 1 receiver · ≈ *1.3 credits*"
    )
    pushed = slack.submit_modal(view, receivers="600000001, 600000002, 600000003", message="Hola").json()
    assert "*This SMS goes to 3 receivers:*" in blocks_text(pushed["view"])
    assert "No contacts yet." in told(priced, fake_slack, "contacts")


# Slack's limits in Spanish too: every field the form can show, checked as Slack checks them.


def test_the_spanish_form_with_every_field_is_within_slacks_limits():
    options = ComposeOptions(senders=("ACME", "Soporte"), replies=True, schedule=True)
    form = ComposeForm({"channel_id": "COPS"}, "ES", options, t=SPANISH)
    view = with_people_picker(with_channel_picker(compose_view(form), SPANISH), t=SPANISH)
    without_region = compose_view(ComposeForm({"channel_id": "COPS"}, None, options, t=SPANISH))

    assert view_error(view) is None and view_error(without_region) is None
    assert view["title"]["text"] == "Enviar un SMS"
    assert [
        o["text"]["text"]
        for o in next(b for b in view["blocks"] if b.get("block_id") == "sender")["element"]["options"]
    ] == ["El predeterminado de la cuenta", "ACME", "Soporte"]


def test_the_spanish_confirmation_is_within_slacks_limits():
    later = datetime.now(UTC) + timedelta(hours=2)
    confirm = ConfirmationView(
        request_key="view:V1",
        receivers=tuple(f"+346000{index:05d}" for index in range(80)),
        message="Hola " * 300,
        stop_mention=True,
        estimate="*Coste estimado:* 208 créditos",
        sender="`ACME`",
        send_at=later,
    )

    view = confirmation_view(confirm, SPANISH)

    assert view_error(view) is None
    assert view["submit"]["text"] == "Programarlo"
    shown = blocks_text(view)
    assert "*Este SMS va a 80 destinatarios:*" in shown and "y 30 más" in shown
    assert f"*Envío:* <!date^{int(later.timestamp())}^" in shown
    assert "_OVH añade su mención STOP al final._" in shown
