"""`/sms credits` and `/sms history [@person]`, through signed slash commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot.storage.ledger import sends
from tests.harness import SlackSender, blocks_text, settled_records


def ask(slack, fake_slack, text: str, user_id: str = "UALICE") -> str:
    url = fake_slack.new_response_url()
    assert slack.command(text, user_id=user_id, response_url=url).status == 200
    [answer] = fake_slack.wait_for_response(url)
    return blocks_text(answer)


def test_credits_says_what_is_left_and_the_teams_use_this_month(bot, slack, fake_slack, fake_ovh):
    slack.command("+34600000001,+34600000002 hola")
    settled_records(bot)
    # A send of last month does not count in this month's use.
    with bot.ledger.engine.begin() as conn:
        conn.execute(sa.update(sends).values(created_at=datetime.now(UTC).replace(day=1) - timedelta(days=1)))
    slack.command("+34600000003 hola", user_id="UALICE")
    settled_records(bot, 2)
    fake_ovh.credits_left = 1234.5

    shown = ask(slack, fake_slack, "credits")

    assert "*Credits left:* 1,234.5" in shown
    assert "*This month (UTC):* 1 send, 1 SMS, 1 credit (failed sends not counted)" in shown


def test_credits_falls_back_on_the_latest_balance_when_ovh_cannot_be_asked(bot, slack, fake_slack, fake_ovh):
    slack.command("+34600000001 hola")
    settled_records(bot)
    fake_ovh.fail_next(503, path_contains="/sms/", method="GET", times=5)

    shown = ask(slack, fake_slack, "CREDITS")

    assert "*Credits left:* 99 _(as of the latest send: OVH could not be asked now)_" in shown


def test_history_lists_ones_own_sends_with_links_to_their_threads(bot, slack, fake_slack):
    fake_slack.joined.add("COPS")
    for n in range(12):
        slack.command(f"+346000000{n:02d} envío {n}")
    records = settled_records(bot, 12)
    slack.command("+34600000099 other", user_id="UADMIN")  # not Alice's: refused, and not listed either

    shown = ask(slack, fake_slack, "history")

    lines = shown.split("\n")
    assert lines[0] == "*Your latest sends (10):*"
    assert len(lines) == 11
    # Concurrent sends are recorded in whatever order their workers reach the ledger: newest first by that.
    ordered = sorted(records, key=lambda r: (r.created_at, r.id), reverse=True)
    for line, record in zip(lines[1:], ordered, strict=False):
        masked = "+34******" + record.receivers[0][-3:]
        assert f"to {masked} · :white_check_mark: sent" in line
        assert f"<https://test.slack.com/archives/COPS/p{record.audit_ts.replace('.', '')}|thread>" in line
    for record in ordered[10:]:  # the two oldest are beyond the ten
        assert "+34******" + record.receivers[0][-3:] not in shown


def test_a_person_cannot_read_someone_elses_history(bot, slack, fake_slack):
    shown = ask(slack, fake_slack, "history <@UADMIN|admin>")
    assert "Only the bot's admins see other people's sends" in shown


def test_an_admin_reads_anyones_history(start_bot, fake_slack):
    bot = start_bot(SMS_ADMIN_USERS="UADMIN")
    slack = SlackSender(bot.url)
    slack.command("+34600000001 hola")
    settled_records(bot)

    shown = ask(slack, fake_slack, "history <@UALICE|alice>", user_id="UADMIN")
    assert shown.startswith("*<@UALICE>'s latest sends (1):*")
    assert ask(slack, fake_slack, "history UBOB", user_id="UADMIN").startswith("<@UBOB> has sent no SMS yet.")


def test_history_of_nobody_says_how_to_name_someone(bot, slack, fake_slack):
    assert ask(slack, fake_slack, "history") == "You have sent no SMS yet."
    shown = ask(slack, fake_slack, "history @alice")
    assert "Name the person with a mention Slack completes" in shown
    shown = ask(slack, fake_slack, "history <@UX> <!channel>|x>")
    assert "Name the person" in shown
