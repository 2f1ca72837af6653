"""`smsbot export` and the admins' CSV from `/sms history`: one row per send, receivers masked by default."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from bot.storage.export import COLUMNS
from bot.storage.ledger import sends
from tests.events import click_payload
from tests.harness import SlackSender, blocks_text, settled_records
from tests.test_cli_check import Cli, kept_logging

TODAY = datetime.now(UTC).date().isoformat()
# An --until past every send of a test, even one that runs across midnight after this module was imported.
LATER = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path):
    with kept_logging():
        yield Cli(monkeypatch, capsys, tmp_path)


@pytest.fixture
def two_sends(bot, slack, fake_ovh):
    """A send to two numbers that went out, then one OVH refused."""
    slack.command("+34600000001,+34611111111 Hola equipo")
    settled_records(bot, 1)
    fake_ovh.fail_next(400, message="Invalid sender", method="POST")
    slack.command("+34622222222 Adiós")
    return settled_records(bot, 2)


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_one_row_per_send_with_receivers_masked(cli, env, two_sends):
    outcome = cli("export", "--since", TODAY, env=env)

    assert outcome.code == 0, outcome.err
    assert outcome.out.splitlines()[0] == ",".join(COLUMNS)
    sent, failed = rows(outcome.out)
    assert sent["receivers"] == "+34******001 +34******111"
    assert (sent["receiver_count"], sent["accepted"], sent["rejected"], sent["parts"]) == ("2", "2", "0", "1")
    assert (sent["credits_estimated"], sent["credits_used"], sent["status"]) == ("2.0", "2.0", "sent")
    assert sent["ovh_job_ids"] == " ".join(str(i) for i in two_sends[0].ovh_job_ids)
    assert (sent["user_id"], sent["channel_id"], sent["source"]) == ("UALICE", "COPS", "command")
    assert datetime.fromisoformat(sent["created_at"]) == two_sends[0].created_at
    assert (failed["status"], failed["credits_used"], failed["ovh_job_ids"]) == ("failed", "", "")
    assert "600000001" not in outcome.out


def test_json_with_full_numbers(cli, env, two_sends):
    outcome = cli("export", "--since", TODAY, "--until", LATER, "--format", "json", "--full-numbers", env=env)

    assert outcome.code == 0, outcome.err
    sent, failed = json.loads(outcome.out)
    assert sent["receivers"] == ["+34600000001", "+34611111111"]
    assert sent["credits_used"] == 2.0 and sent["erased"] is False and sent["simulated"] is False
    assert failed["error_code"] and failed["status"] == "failed"


def test_the_period_bounds_hold(cli, env, bot, two_sends):
    with bot.ledger.engine.begin() as conn:
        conn.execute(
            sa.update(sends)
            .where(sends.c.id == two_sends[0].id)
            .values(created_at=datetime(2026, 10, 31, 23, 59, tzinfo=UTC))
        )

    november = cli("export", "--since", "2026-11-01", "--until", TODAY, "--format", "json", env=env)
    october = cli("export", "--since", "2026-10-01", "--until", "2026-11-01", "--format", "json", env=env)

    assert json.loads(november.out) == []
    assert [row["id"] for row in json.loads(october.out)] == [two_sends[0].id]


def test_a_cell_cannot_become_a_spreadsheet_formula(cli, env, bot):
    from tests.harness import record_send

    record_send(bot.ledger, key="command:f1", user_id="=HYPERLINK(1)")
    outcome = cli("export", "--since", TODAY, env=env)
    assert rows(outcome.out)[0]["user_id"] == "'=HYPERLINK(1)"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--since", "november"], "`november` is not a date: write it as 2026-11-01"),
        (["--since", TODAY, "--until", "2020-01-01"], "--until (2020-01-01) must come after --since"),
        (["--since", "2999-01-01"], "is in the future"),
    ],
)
def test_bad_periods_are_refused_with_what_to_write(cli, env, args, said):
    outcome = cli("export", *args, env=env)
    assert outcome.code == 2
    assert said in outcome.err
    assert outcome.out == ""


def click_export(slack: SlackSender, fake_slack, user_id: str, value: str = "this_month") -> str:
    url = fake_slack.new_response_url()
    payload = click_payload("history_export_csv", user_id=user_id, value=value)
    payload |= {"channel": {"id": "COPS"}, "response_url": url, "container": {"type": "message"}}
    payload.pop("view")
    assert slack.post(urlencode({"payload": json.dumps(payload)})).status == 200
    return blocks_text(fake_slack.wait_for_response(url)[0])


def test_an_admin_gets_the_months_csv_in_their_dm(start_bot, fake_slack, fake_ovh):
    bot = start_bot(SMS_ADMIN_USERS="UADMIN")
    slack = SlackSender(bot.url)
    slack.command("+34600000001,+34611111111 Hola equipo")
    settled_records(bot, 1)
    url = fake_slack.new_response_url()
    slack.command("history", user_id="UADMIN", response_url=url)
    [history] = fake_slack.wait_for_response(url)
    buttons = [e for b in history["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["value"] for b in buttons] == ["this_month", "last_month"]

    said = click_export(slack, fake_slack, "UADMIN")

    month = datetime.now(UTC).strftime("%Y-%m")
    assert said == f"`smsbot-sends-{month}.csv` is in your messages with the bot (1 send)."
    [upload] = fake_slack.files.values()
    assert upload["channel"] == "DADMIN" and upload["name"] == f"smsbot-sends-{month}.csv"
    [row] = rows(upload["content"].decode())
    assert row["receivers"] == "+34******001 +34******111" and row["status"] == "sent"


def test_last_months_csv_leaves_this_months_sends_out(start_bot, fake_slack):
    bot = start_bot(SMS_ADMIN_USERS="UADMIN")
    slack = SlackSender(bot.url)
    slack.command("+34600000001 Hola")
    settled_records(bot, 1)

    assert "(0 sends)" in click_export(slack, fake_slack, "UADMIN", value="last_month")
    [upload] = fake_slack.files.values()
    assert rows(upload["content"].decode()) == []


def test_only_admins_get_the_file_whatever_the_button_says(start_bot, fake_slack):
    bot = start_bot(SMS_ADMIN_USERS="UADMIN")
    slack = SlackSender(bot.url)

    said = click_export(slack, fake_slack, "UALICE")

    assert "Only the bot's admins get the ledger as a file" in said
    assert fake_slack.files == {}
    assert fake_slack.calls_to("files.getUploadURLExternal") == []


def test_without_the_file_scopes_the_admin_is_told_what_to_add(start_bot, fake_slack):
    bot = start_bot(SMS_ADMIN_USERS="UADMIN")
    fake_slack.scopes.remove("files:write")

    said = click_export(SlackSender(bot.url), fake_slack, "UADMIN")

    assert "The file could not be sent (missing_scope)" in said and "files:write" in said
    assert fake_slack.files == {}
