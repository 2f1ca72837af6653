"""What the bot posts in channels is told in the language of the person who asked for the send, kept in the
ledger so that whatever is posted later (recovery, delivery, replies) stays in it."""

from __future__ import annotations

from bot.i18n import ENGLISH, T_, Tn_, for_locale, joined
from bot.i18n.stored import from_json, to_json, told


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
