"""What the bot posts in channels is told in the language of the person who asked for the send, kept in the
ledger so that whatever is posted later (recovery, delivery, replies) stays in it."""

from __future__ import annotations

import pytest

from bot.domain.records import AuditStatus
from bot.i18n import ENGLISH, T_, Tn_, for_locale, joined
from bot.i18n.stored import from_json, to_json, told
from tests.delivery_support import Clock, parent_text, run_pass, status_text
from tests.fakes.ovh_api import PENDING, Delivery, timeline
from tests.harness import SlackSender, audit_thread, blocks_text, orphan, settled_records
from tests.test_delivery_replies import replies_in

DELIVERED = Delivery(receipt=1, ptt=4, sent_after=1.0, delivered_after=30.0)
UNKNOWN_NUMBER = Delivery(receipt=2, ptt=23, sent_after=1.0, delivered_after=None)


def test_a_message_kept_as_json_comes_back_as_itself_and_is_told_in_either_language():
    spanish = for_locale("es-ES")
    message = T_(
        "Sent to part of the receivers only: {reason}",
        reason=joined(
            [T_("OVH rejected every receiver."), Tn_("{count} part", "{count} parts", 3), 7], " · "
        ),
    )
    kept = from_json(to_json(message))
    assert kept == message
    assert told(to_json(message), "English", ENGLISH) == (
        "Sent to part of the receivers only: OVH rejected every receiver. · 3 parts · 7"
    )
    assert told(to_json(message), "English", spanish).startswith(
        "Enviado solo a parte de los destinatarios: OVH rechazó a todos los destinatarios. · "
    )


def test_a_plain_string_is_a_msgid_and_nothing_kept_falls_back_to_the_english_column():
    spanish = for_locale("es-ES")
    assert (
        told(to_json("OVH rejected every receiver."), None, spanish)
        == "OVH rechazó a todos los destinatarios."
    )
    assert told(to_json("words nobody marked"), None, spanish) == "words nobody marked"
    assert told(None, "the English column", spanish) == "the English column"
    assert told({"unexpected": 1}, "the English column", spanish) == "the English column"
    # A translation that lost a field (a broken catalogue) is told in English rather than failing.
    assert told(to_json(T_("{a} {b}", a=1)), "kept English", spanish) == "kept English"


# --- through the app: a Spanish speaker's send, and what is posted about it later -----------------------


def test_a_spanish_speakers_send_is_audited_in_spanish(bot, slack, fake_slack, fake_ovh):
    fake_slack.users["UALICE"] = {"locale": "es-ES"}
    fake_ovh.invalid_receivers = {"+34600000003"}

    slack.command("+34600000001,+34600000002,+34600000003 Servidor caído, llámame")

    [(parent, reply)] = audit_thread(fake_slack)
    [record] = settled_records(bot)
    [job] = fake_ovh.jobs
    assert record.language == "es"
    assert job.body["message"] == "Servidor caído, llámame"  # the SMS itself is never translated
    headline = blocks_text(parent)
    assert (
        ":outbox_tray: <@UALICE> envió un SMS a +34 600 00 00 01, +34 600 00 00 02, +34 600 00 00 03"
        in headline
    )
    details = blocks_text(reply)
    assert ":white_check_mark: *Enviado por OVH*" in details
    assert "*Ids de trabajo de OVH:* " + ", ".join(str(i) for i in job.ids) in details
    assert "*Créditos usados:* 2 (estimados 3)   *Créditos restantes:* 98" in details
    assert "*Aceptados (2):* +34 600 00 00 01, +34 600 00 00 02" in details
    assert "*Rechazados por OVH (1):* +34 600 00 00 03" in details
    assert "Dar seguimiento" in details
    assert f"Envío n.º {record.id} · etiqueta de OVH `{record.tag}`" in details
    assert "Sent by OVH" not in details and "Accepted" not in details


@pytest.mark.parametrize("locale", ["en-US", "fr-FR"])
def test_an_english_or_other_locale_send_is_audited_in_english(bot, slack, fake_slack, locale):
    fake_slack.users["UALICE"] = {"locale": locale}

    slack.command("+34600000001 Server down")

    [(parent, reply)] = audit_thread(fake_slack)
    assert settled_records(bot)[0].language == "en"
    assert "<@UALICE> sent an SMS to +34 600 00 00 01" in blocks_text(parent)
    assert ":white_check_mark: *Sent by OVH*" in blocks_text(reply)
    assert "*Accepted (1):* +34 600 00 00 01" in blocks_text(reply)


def test_a_failed_send_tells_its_reason_in_the_threads_language_and_keeps_it_in_english(
    bot, slack, fake_slack, fake_ovh
):
    fake_slack.users["UALICE"] = {"locale": "es-ES"}
    fake_ovh.invalid_receivers = {"+34600000001"}

    slack.command("+34600000001 Hola")

    [(_parent, reply)] = audit_thread(fake_slack)
    [record] = settled_records(bot)
    assert ":x: *No enviado*" in blocks_text(reply)
    assert "*Motivo:* OVH rechazó a todos los destinatarios." in blocks_text(reply)
    assert record.error_message == "OVH rejected every receiver."  # export and logs keep the English


def test_a_send_recovered_after_a_crash_is_posted_in_the_language_it_was_asked_in(
    start_bot, fake_slack, fake_ovh
):
    bot = start_bot(unknown_grace_seconds=0)
    # The person's locale changed since: the send keeps the one it was asked in.
    fake_slack.users["UALICE"] = {"locale": "en-US"}
    record = orphan(bot, language="es")

    assert bot.recover().sent_again == [record.id]

    [(parent, reply)] = audit_thread(fake_slack)
    assert "<@UALICE> envió un SMS a +34 600 00 00 01" in blocks_text(parent)
    details = blocks_text(reply)
    assert (
        ":arrows_counterclockwise: *Novedad:* OVH no tenía rastro de este envío, así que se volvió a enviar "
        "(intento 2)." in details
    )
    assert reply["text"].startswith(f"Novedad del envío n.º {record.id}: ")


def test_a_send_given_up_by_recovery_says_why_in_its_language(start_bot, fake_slack, fake_ovh):
    bot = start_bot(unknown_grace_seconds=0)
    fake_slack.users["UALICE"] = {"locale": "es-ES"}
    fake_ovh.fail_next(502, method="POST", times=2)
    SlackSender(bot.url).command("+34600000001 nunca")
    [record] = settled_records(bot)

    bot.recover()
    assert bot.recover().given_up == [record.id]

    updates = [p for p in fake_slack.calls_to("chat.postMessage") if "Novedad:" in blocks_text(p)]
    told = blocks_text(updates[-1])
    assert (
        "*Novedad:* OVH no tiene rastro de este envío: queda marcado como no enviado. OVH no tiene rastro de "
        "este envío tras 2 intentos, así que no se envió." in told
    )
    assert "*Motivo:* OVH no tiene rastro de este envío tras 2 intentos" in told
    assert bot.ledger.get(record.id).error_message.startswith(
        "OVH has no trace of this send after 2 attempts"
    )


def test_delivery_status_and_the_parents_summary_are_in_the_sends_language(bot, slack, fake_slack, fake_ovh):
    fake_slack.users["UALICE"] = {"locale": "es-ES"}
    fake_ovh.deliveries = {
        "+34600000001": timeline((0, PENDING), (30, DELIVERED)),
        "+34600000002": timeline((0, PENDING), (30, UNKNOWN_NUMBER)),
    }
    clock = Clock(bot, fake_ovh)
    slack.command("+34600000001,+34600000002 Servidor caído")
    [record] = settled_records(bot)

    run_pass(bot)
    first = status_text(fake_slack)
    assert ":satellite_antenna: *Entrega:* " in first
    assert "+34 600 00 00 01: pendiente" in first
    assert "Se actualiza aquí a medida que OVH informa; se sigue hasta 48 h después del envío." in first

    clock.advance(40)
    run_pass(bot)
    final = status_text(fake_slack)
    assert "+34 600 00 00 01: entregado en 30 s" in final
    assert "+34 600 00 00 02: no entregado: " in final
    assert f"Definitivo: ya no cambiará nada. · Envío n.º {record.id}" in final
    parent = parent_text(fake_slack, record.audit_ts)
    assert "envió un SMS a" in parent and ":satellite_antenna: " in parent
    assert "delivered in" not in final and "pending" not in final


def test_a_reply_and_its_stop_note_are_in_the_language_of_the_send_it_answers(
    bot, slack, fake_slack, fake_ovh
):
    fake_slack.users["UALICE"] = {"locale": "es-ES"}
    Clock(bot, fake_ovh)
    slack.command("+34600000001 ¿Vienes?")
    [record] = settled_records(bot)
    run_pass(bot)
    fake_ovh.receive("+34600000001", "STOP")

    run_pass(bot)

    [reply] = replies_in(fake_slack)
    assert reply["thread_ts"] == record.audit_ts
    shown = blocks_text(reply)
    assert ":incoming_envelope: *Respuesta de +34 600 00 00 01*" in shown
    assert (
        ":no_entry_sign: Esta respuesta es un STOP: +34 600 00 00 01 se ha dado de baja, y no le llegará "
        "ningún SMS hasta que un administrador escriba `/sms optin +34600000001`." in shown
    )
    assert reply["text"] == "+34600000001 respondió STOP y se ha dado de baja"


def test_a_reply_to_an_english_send_has_the_button_in_english(bot, slack, fake_slack, fake_ovh):
    fake_slack.users["UALICE"] = {"locale": "fr-FR"}
    Clock(bot, fake_ovh)
    slack.command("+34600000001 Tu viens ?")
    settled_records(bot)
    run_pass(bot)
    fake_ovh.receive("+34600000001", "Oui")

    run_pass(bot)

    [reply] = replies_in(fake_slack)
    assert "*Reply from +34 600 00 00 01*" in blocks_text(reply) and "Reply by SMS" in blocks_text(reply)


def test_what_belongs_to_no_send_is_in_the_teams_language(start_bot, fake_slack, fake_ovh):
    bot = start_bot(
        SMS_LANGUAGE="es",
        SMS_REPLIES_CHANNEL="CREPLIES",
        SMS_ALERT_CHANNEL="CALERTS",
        SMS_CREDITS_ALERT_BELOW="100",
    )
    Clock(bot, fake_ovh)
    SlackSender(bot.url).command("+34600000001 Hola")  # Alice's locale: English
    settled_records(bot)
    fake_ovh.receive("+34699999999", "¿Quién es?")

    run_pass(bot)

    [reply] = replies_in(fake_slack, "CREPLIES")
    assert "*Respuesta de +34 699 99 99 99* _(no se encontró ningún envío a este número)_" in blocks_text(
        reply
    )
    assert "Responder por SMS" in blocks_text(reply)
    [alert] = fake_slack.posted("CALERTS")
    assert (
        ":warning: *Quedan pocos créditos de SMS* en `sms-tt12345-1`: quedan 99 (aviso por debajo de 100). "
        "Los envíos fallarán cuando se acaben." in blocks_text(alert)
    )
    assert "Panel de control de OVHcloud" in blocks_text(alert)


def test_sms_language_must_be_a_language_of_the_bot(start_bot):
    with pytest.raises(Exception, match="SMS_LANGUAGE must be one of en, es"):
        start_bot(SMS_LANGUAGE="fr")


def test_a_large_spanish_audit_keeps_within_slacks_limits(start_bot, fake_slack, fake_ovh):
    numbers = [f"+3460000{n:04d}" for n in range(1, 301)]
    fake_ovh.credits_left = 10_000
    fake_ovh.invalid_receivers = {numbers[7], numbers[250]}
    bot = start_bot(SMS_ALLOWED_USERS="UALICE,UBOSS", SMS_ADMIN_USERS="UBOSS")
    fake_slack.users["UBOSS"] = {"locale": "es-ES"}

    SlackSender(bot.url).command(",".join(numbers) + " " + "&" * 900, user_id="UBOSS")

    [record] = settled_records(bot)
    assert record.audit_status is AuditStatus.THREAD  # the fake Slack took every message (it checks limits)
    [parent] = [p for p in fake_slack.calls_to("chat.postMessage") if not p.get("thread_ts")]
    assert "y 280 más (todos en la lista del hilo)" in blocks_text(parent)
    replies = [p for p in fake_slack.calls_to("chat.postMessage") if p.get("thread_ts") == record.audit_ts]
    thread = "\n".join(blocks_text(r) for r in replies)
    assert "*Aceptados (298):* " in thread and "*Rechazados por OVH (2):* " in thread
    assert not [c for c in fake_slack.calls if c.failed]


@pytest.mark.parametrize(("locale", "hours"), [("en-US", "1.5 h"), ("es-ES", "1,5 h")])
def test_the_hours_a_send_is_followed_for_are_written_as_the_reader_writes_numbers(locale, hours):
    from datetime import timedelta

    from bot.domain.deliveries import DeliveryState, ReceiverStatus
    from bot.slack.delivery_blocks import status_message

    expired = ReceiverStatus("+34600000001", DeliveryState.EXPIRED, None, None)
    pending = ReceiverStatus("+34600000002", DeliveryState.PENDING, None, None)

    message = status_message(7, [expired, pending], timedelta(minutes=90), for_locale(locale))
    text = blocks_text({"blocks": message.blocks})

    assert text.count(hours) == 2  # the expired line, and how long the others are followed
