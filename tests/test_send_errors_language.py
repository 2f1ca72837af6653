"""A bad `/sms` is explained in the language of the person who typed it: Spanish for a Spanish Slack locale,
English for everyone else; either way nothing is sent. Through signed commands to the app, fake Slack and
fake OVH."""

from __future__ import annotations

import pytest

from bot.domain.records import SendStatus
from tests.harness import SlackSender, all_sends, audit_thread, blocks_text, settled_records


def private_answer(bot, fake_slack, text: str, *, user_id: str = "UALICE") -> str:
    """What the person alone is told (an inline answer, or through the response URL after the ack)."""
    url = fake_slack.new_response_url()
    answer = SlackSender(bot.url).command(text, user_id=user_id, channel_id="COPS", response_url=url)
    if answer.body:
        return blocks_text(answer.json())
    [reply] = fake_slack.wait_for_response(url)
    return blocks_text(reply)


@pytest.mark.parametrize(
    ("text", "spanish", "english"),
    [
        (
            "+3460000 Hola",
            "`+3460000` es demasiado corto para ES (+34); un número móvil de allí es como",
            "`+3460000` is too short for ES (+34); a mobile number there looks like",
        ),
        (
            "+34600000001 " + "a" * 1000,
            "El mensaje tiene 1,000 caracteres (7 SMS); el límite es 918 (6 SMS). Acórtalo 82 caracteres.",
            "The message is 1,000 characters (7 SMS); the limit is 918 (6 SMS). Shorten it by 82 characters.",
        ),
        (
            "+351912345678 Olá",
            "No enviado: +351 912 345 678 es de PT, y los SMS solo pueden ir a: ES, FR, GB "
            "(SMS_ALLOWED_COUNTRIES). Quítalo y vuelve a enviarlo.",
            "Not sent: +351 912 345 678 is in PT, and SMS may only go to: ES, FR, GB (SMS_ALLOWED_COUNTRIES). "
            "Remove it and send again.",
        ),
    ],
    ids=["bad number", "too long", "forbidden country"],
)
def test_a_bad_sms_command_is_explained_in_the_persons_language(
    bot, fake_slack, fake_ovh, text, spanish, english
):
    fake_slack.users["UALICE"] = {"locale": "es-ES"}
    fake_slack.users["UBOB"] = {"locale": "en-US"}

    told_alice = private_answer(bot, fake_slack, text)
    told_bob = private_answer(bot, fake_slack, text, user_id="UBOB")

    assert spanish in " ".join(told_alice.split())
    assert english in " ".join(told_bob.split())
    assert english not in " ".join(told_alice.split())
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


def test_a_limit_is_explained_in_spanish_with_its_figures(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMS_ALLOWED_USERS="UALICE,UBOB", SMS_LIMIT_RECEIVERS_PER_SEND="2")
    fake_slack.users["UALICE"] = {"locale": "es-ES"}
    fake_slack.users["UBOB"] = {"locale": "fr-FR"}
    command = "+34600000001 +34600000002 +34600000003 Hola"

    told_alice = private_answer(bot, fake_slack, command)
    told_bob = private_answer(bot, fake_slack, command, user_id="UBOB")

    assert (
        "Un envío puede ir como mucho a 2 números (SMS_LIMIT_RECEIVERS_PER_SEND); este tiene 3. Divídelo, o "
        "pídeselo a un administrador." in " ".join(told_alice.split())
    )
    assert "One send may go to at most 2 numbers (SMS_LIMIT_RECEIVERS_PER_SEND); this one has 3." in told_bob
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


def test_a_daily_limit_is_explained_in_spanish(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMS_LIMIT_USER_SMS_PER_DAY="1")
    fake_slack.users["UALICE"] = {"locale": "es-ES"}

    told = private_answer(bot, fake_slack, "+34600000001 +34600000002 Hola")

    assert "Con este envío llegarías a 2 SMS en 24 horas, por encima del límite de 1" in " ".join(
        told.split()
    )
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


def test_ovh_refusing_is_told_in_the_thread_in_spanish(bot, slack, fake_slack, fake_ovh):
    fake_slack.users["UALICE"] = {"locale": "es-ES"}
    fake_ovh.fail_next(403, method="POST", error_code="NOT_GRANTED_CALL")

    slack.command("+34600000001 Hola")
    [record] = settled_records(bot)
    [(_parent, reply)] = audit_thread(fake_slack)

    assert record.status is SendStatus.FAILED and fake_ovh.jobs == []
    shown = " ".join(blocks_text(reply).split())
    assert (
        "*Motivo:* OVH rechazó la llamada `/sms/sms-tt12345-1/jobs`: la consumer key del bot no tiene permiso "
        "para ella." in shown
    )
    assert shown.count("No se ha enviado nada.") == 1
    assert record.error_message.startswith("OVH refused the call `/sms/sms-tt12345-1/jobs`")  # English kept


def test_ovh_refusing_is_told_in_english_to_an_english_speaker(bot, slack, fake_slack, fake_ovh):
    fake_slack.users["UALICE"] = {"locale": "en-US"}
    fake_ovh.fail_next(403, method="POST", error_code="NOT_GRANTED_CALL")

    slack.command("+34600000001 Hello")
    settled_records(bot)
    [(_parent, reply)] = audit_thread(fake_slack)

    assert "*Reason:* OVH refused the call `/sms/sms-tt12345-1/jobs`" in " ".join(blocks_text(reply).split())
