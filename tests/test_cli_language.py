"""The command line speaks the language of its environment (LC_ALL, then LC_MESSAGES, then LANG, as gettext
reads them): Spanish for es_ES.UTF-8, English for C, an unset locale or a language without a catalogue.
Flags, variable names and what scripts read stay as they are."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.cli.output import cli_translator, environment_locale
from tests.harness import audit_thread, blocks_text
from tests.test_cli_check import Cli, kept_logging, line


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path) -> Iterator[Cli]:
    with kept_logging():
        yield Cli(monkeypatch, capsys, tmp_path)


@pytest.mark.parametrize(
    ("environ", "language"),
    [
        ({"LANG": "es_ES.UTF-8"}, "es"),
        ({"LANG": "es_MX"}, "es"),
        ({"LANG": "es_ES@euro"}, "es"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "POSIX"}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({}, "en"),
        ({"LC_ALL": "C", "LANG": "es_ES.UTF-8"}, "en"),
        ({"LC_ALL": "", "LC_MESSAGES": "es_ES.UTF-8", "LANG": "C"}, "es"),
        ({"LC_MESSAGES": "C.UTF-8", "LANG": "es_ES.UTF-8"}, "en"),
    ],
)
def test_the_first_locale_variable_set_picks_the_language(environ, language):
    assert cli_translator(environ).language == language


def test_the_locale_is_read_without_its_encoding():
    assert environment_locale({"LANG": "es_ES.UTF-8"}) == "es_ES"
    assert environment_locale({}) is None


def test_a_bad_number_is_refused_in_spanish_in_a_spanish_environment(cli, env, fake_ovh):
    spanish = cli("send", "hola123", "Hola", "--user", "UALICE", env={**env, "LANG": "es_ES.UTF-8"})
    english = cli("send", "hola123", "Hola", "--user", "UALICE", env={**env, "LANG": "C"})

    assert spanish.code == english.code == 2
    assert "No enviado: `hola123` no es un número de teléfono." in spanish.err
    assert "Not sent: `hola123` is not a phone number." in english.err
    assert fake_ovh.jobs == []


def test_a_bad_flag_value_is_explained_in_spanish_and_the_flag_kept(cli, env):
    outcome = cli("send", "+34600000001", "Hola", "--user", "alice", env={**env, "LC_ALL": "es_ES.UTF-8"})

    assert outcome.code == 2
    assert "--user debe ser un id de usuario de Slack como U012ABCDEF (no `alice`)" in outcome.err


def test_a_dry_run_reports_in_the_environments_language(cli, env, fake_ovh):
    spanish = cli(
        "send", "+34600000001", "Hola", "--user", "UALICE", "--dry-run", env={**env, "LANG": "es_ES.UTF-8"}
    )
    english = cli("send", "+34600000001", "Hola", "--user", "UALICE", "--dry-run", env=env)

    assert spanish.code == english.code == 0, spanish.err
    assert (
        line(spanish.out, "Simulación:")
        == "Simulación: no se ha enviado nada ni se ha registrado ningún envío."
    )
    assert "a 1 destinatario: +34600000001" in spanish.out
    assert "mensaje: 4 caracteres, 1 SMS (GSM-7)" in spanish.out
    assert "UALICE puede enviar, dentro de los límites de envío" in spanish.out
    assert line(spanish.out, "coste estimado:").startswith(
        "coste estimado: 1 crédito: 1 parte de SMS para cada uno de 1 destinatario (1 a ES a 1 crédito por parte"
    )
    assert line(english.out, "Dry run:") == "Dry run: nothing was sent and no send was recorded."
    assert "message: 4 characters, 1 SMS (GSM-7)" in english.out
    assert fake_ovh.jobs == []


def test_a_limit_refusal_in_a_dry_run_is_in_spanish(cli, env, fake_ovh):
    limited = {**env, "SMS_LIMIT_RECEIVERS_PER_SEND": "1", "LANG": "es_ES.UTF-8"}

    outcome = cli(
        "send", "+34600000001", "+34600000002", "Hola", "--user", "UALICE", "--dry-run", env=limited
    )

    assert outcome.code == 2
    assert (
        "No se enviaría: Un envío puede ir como mucho a 1 números (SMS_LIMIT_RECEIVERS_PER_SEND)"
        in outcome.err
    )


def test_the_checks_headings_and_summary_are_in_spanish(cli, env):
    spanish = cli("check", env={**env, "LANG": "es_ES.UTF-8"})
    english = cli("check", env={**env, "LANG": "C"})

    assert spanish.code == english.code
    assert "smsbot check: configuración del entorno (aquí no hay .env)" in spanish.out
    assert "\nConfiguración\n" in spanish.out and "\nBase de datos\n" in spanish.out
    assert "acceso: 1 usuario puede enviar, desde cualquier canal, a ES, FR, GB." in spanish.out
    flat = " ".join(spanish.out.split())  # the terminal's wrapping aside
    assert (
        "! conexión:" in flat and "aún no existe: `smsbot run` lo crea, con su esquema, al arrancar." in flat
    )
    assert "\nSettings\n" in english.out and "\nDatabase\n" in english.out
    assert "access: 1 user may send, from any channel, to ES, FR, GB." in english.out
    summary = spanish.out.rstrip().splitlines()[-1]
    assert summary.split(" ", 1)[1].startswith(
        ("Todo bien", "Listo para funcionar", "1 problema", "2 problemas")
    )


@pytest.mark.parametrize(
    ("environ", "headline"),
    [
        ({"LANG": "es_ES.UTF-8"}, "Enviado por OVH"),  # the terminal's language
        ({"LANG": "en_GB.UTF-8", "SMS_LANGUAGE": "es"}, "Sent by OVH"),  # asked for, English is kept
        ({"LANG": "C", "SMS_LANGUAGE": "es"}, "Enviado por OVH"),  # none asked for: the team's
        ({"LANG": "fr_FR.UTF-8", "SMS_LANGUAGE": "es"}, "Enviado por OVH"),  # one the bot does not speak
        ({"LANG": "C"}, "Sent by OVH"),
    ],
)
def test_the_audit_of_a_send_from_the_command_line_is_in_the_terminals_language_or_the_teams(
    cli, env, fake_slack, fake_ovh, environ, headline
):
    outcome = cli(
        "send", "+34600000001", "Hola", "--user", "UALICE", "--channel", "COPS", env={**env, **environ}
    )

    assert outcome.code == 0, outcome.err
    [(_parent, reply)] = audit_thread(fake_slack)
    assert headline in blocks_text(reply)
