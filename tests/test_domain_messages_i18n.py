"""The domain's and OVH's messages in the reader's language: each problem a person can meet is told in Spanish
to a Spanish speaker, with its numbers and names filled in, and in English to everyone else."""

from __future__ import annotations

import pytest
import requests
from ovh import exceptions as ovh_errors

from bot.domain.destinations import DestinationPolicy
from bot.domain.errors import SmsBotError
from bot.domain.limits import Limits, Usage
from bot.domain.receivers import parse_command, parse_receiver, parse_receivers
from bot.domain.recipients import GroupRef, Person, PersonRef, resolve
from bot.domain.schedule import check_send_at
from bot.domain.sms_text import check_message, describe, measure
from bot.i18n import ENGLISH, for_locale
from bot.ovh.errors import translate_error

ES = for_locale("es-ES")


def refusal(call, *args, **kwargs) -> SmsBotError:
    with pytest.raises(SmsBotError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_a_number_that_is_not_one_is_told_in_spanish_with_what_was_typed():
    error = refusal(parse_receiver, "hola123", None)

    assert error.user_message_in(ES) == (
        "`hola123` no es un número de teléfono. Escribe los números en formato internacional, como `+34600000001`."
    )
    assert error.user_message == (
        "`hola123` is not a phone number. Write numbers in international format, like `+34600000001`."
    )


def test_a_number_too_short_for_its_country_names_the_country_and_an_example_in_spanish():
    error = refusal(parse_receiver, "+34 600", None)

    told = error.user_message_in(ES)
    assert told.startswith(
        "`+34 600` es demasiado corto para ES (+34); un número móvil de allí es como `+34 6"
    )
    assert told.endswith("Revisa las cifras; para otro país, empieza por `+` y su prefijo de país.")


def test_several_bad_numbers_are_counted_and_listed_in_spanish():
    error = refusal(parse_receivers, "abc1, +99912345, +34600000001", None)

    lines = error.user_message_in(ES).splitlines()
    assert lines[0] == "2 números no son válidos:"
    assert lines[1] == "• `abc1` no es un número de teléfono"
    assert lines[2].startswith("• `+99912345` tiene un prefijo de país desconocido")
    assert lines[3].endswith("Separa los números con comas o saltos de línea.")


def test_a_command_without_numbers_is_told_in_spanish():
    error = refusal(parse_command, "Hola equipo", None)

    assert error.user_message_in(ES).startswith("`Hola` no es un número de teléfono. Empieza por el número")
    assert "`/sms +34600000001 Tu mensaje`" in error.user_message_in(ES)
    assert "`/sms +34600000001 Your message`" in error.user_message


def test_a_message_too_long_gives_its_length_and_limit_in_spanish():
    error = refusal(check_message, "a" * 1000)

    assert error.user_message_in(ES) == (
        "El mensaje tiene 1,000 caracteres (7 SMS); el límite es 918 (6 SMS). Acórtalo 82 caracteres."
    )
    assert error.user_message == (
        "The message is 1,000 characters (7 SMS); the limit is 918 (6 SMS). Shorten it by 82 characters."
    )


def test_a_unicode_message_too_long_by_one_says_so_in_the_singular():
    error = refusal(check_message, "😀" + "a" * 401, stop_clause=True)

    told = error.user_message_in(ES)
    assert "el límite para texto Unicode es 391 (6 SMS, dejando sitio para la mención STOP)" in told
    assert "Cuenta como Unicode por `😀` (grinning face)" in told
    assert "Shorten it by 12 characters." in error.user_message


def test_the_size_of_a_text_is_described_in_either_language():
    seg = measure("a")

    assert describe(seg).in_(ES) == "1 carácter, 1 SMS (GSM-7)"
    assert str(describe(seg)) == "1 character, 1 SMS (GSM-7)"
    assert describe(measure("ab", stop_clause=True)).in_(ES) == "2 caracteres + mención STOP, 1 SMS (GSM-7)"


def test_a_forbidden_country_names_the_number_and_the_allowed_countries_in_spanish():
    receiver = parse_receiver("+33612345678", None)

    error = refusal(DestinationPolicy(frozenset({"ES", "PT"})).check, [receiver])

    assert error.user_message_in(ES) == (
        "No enviado: +33 6 12 34 56 78 es de FR, y los SMS solo pueden ir a: ES, PT (SMS_ALLOWED_COUNTRIES). "
        "Quítalo y vuelve a enviarlo."
    )
    assert error.user_message == (
        "Not sent: +33 6 12 34 56 78 is in FR, and SMS may only go to: ES, PT (SMS_ALLOWED_COUNTRIES). "
        "Remove it and send again."
    )


def test_a_landline_and_an_opted_out_number_are_listed_in_spanish():
    landline = parse_receiver("+34910000000", None)
    mobile = parse_receiver("+34600000001", None)

    error = refusal(DestinationPolicy(None).check, [landline, mobile], frozenset({mobile.e164}))

    assert error.user_message_in(ES).splitlines() == [
        "No enviado: 2 números no pueden recibirlo:",
        "• +34 910 00 00 00 es un teléfono fijo; solo los números móviles pueden recibir estos SMS",
        "• +34 600 00 00 01 pidió no recibir SMS de este equipo (se dio de baja; un administrador puede "
        "deshacerlo con `/sms optin`)",
        "Quítalos y vuelve a enviarlo.",
    ]


def test_limits_are_told_in_spanish_with_their_figures_and_variable():
    size = refusal(Limits(receivers_per_send=3).check_size, 1200)
    daily = refusal(Limits(user_sms_per_day=100).guard(2, 0.0), Usage(sms=99), Usage())

    assert size.user_message_in(ES) == (
        "Un envío puede ir como mucho a 3 números (SMS_LIMIT_RECEIVERS_PER_SEND); este tiene 1,200. "
        "Divídelo, o pídeselo a un administrador."
    )
    assert daily.user_message_in(ES).startswith(
        "Con este envío llegarías a 101 SMS en 24 horas, por encima del límite de 100 (SMS_LIMIT_USER_SMS_PER_DAY)."
    )
    assert daily.user_message.startswith("This send would bring you to 101 SMS in 24 hours")


def test_a_time_too_far_ahead_is_told_in_spanish():
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 1, 1, tzinfo=UTC)
    error = refusal(check_send_at, now + timedelta(days=31), now)

    assert error.user_message_in(ES) == (
        "Eso es dentro de más de 30 días, lo máximo que programa el bot. Elige una hora anterior."
    )


class _People:
    def __init__(self, people: dict[str, Person], groups: dict[str, list[str]]) -> None:
        self.people, self.groups = people, groups

    def person(self, user_id: str) -> Person | None:
        return self.people.get(user_id)

    def group_members(self, group_id: str) -> list[str] | None:
        return self.groups.get(group_id)

    def warm(self, user_ids) -> None:
        pass


def test_people_who_cannot_get_it_are_listed_in_spanish():
    people = _People(
        {"UBOB": Person("UBOB", "bob", "", deactivated=True), "UCAROL": Person("UCAROL", "carol", "")},
        {"SONCALL": ["UCAROL"]},
    )

    error = refusal(resolve, [PersonRef("UBOB"), GroupRef("SONCALL", "oncall")], people, None, None)

    assert error.user_message_in(ES).splitlines() == [
        "2 destinatarios no pueden recibir el SMS:",
        "• @bob está desactivado.",
        "• @oncall tiene 1 miembro, sin un teléfono utilizable: nadie en él puede recibir el SMS.",
        "No se ha enviado nada.",
    ]
    assert "@oncall has 1 member, none with a usable phone" in error.user_message


def _answered(status: int) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    return response


def test_an_ovh_refusal_is_told_in_spanish_with_ovhs_own_words_kept():
    error = translate_error(
        ovh_errors.BadParametersError("Invalid receiver", response=_answered(400)), "/sms/sms-x/jobs"
    )

    assert error.user_message_in(ES) == "OVH rechazó el mensaje: Invalid receiver. No se ha enviado nada."
    assert error.user_message == "OVH refused the message: Invalid receiver. Nothing was sent."


def test_an_ovh_failure_with_its_http_status_is_told_in_spanish():
    error = translate_error(ovh_errors.APIError("boom", response=_answered(502)), "/sms/sms-x/jobs")

    assert error.user_message_in(ES).startswith("La API de OVH falló al recibir el envío (HTTP 502).")
    assert error.maybe_sent


def test_an_unreadable_ovh_answer_is_named_in_spanish():
    error = translate_error(ovh_errors.InvalidResponse("not json"), "/sms/sms-x/jobs")

    assert "(una respuesta ilegible)" in error.user_message_in(ES)
    assert "(an unreadable answer)" in error.user_message


@pytest.mark.parametrize("locale", ["en-US", "fr-FR", None])
def test_any_other_locale_reads_the_english(locale):
    error = refusal(check_message, "a" * 1000)

    assert error.user_message_in(for_locale(locale)) == error.user_message_in(ENGLISH) == error.user_message
