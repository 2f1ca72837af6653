"""`GET /health`: the database decides the status, Slack is reported."""

from __future__ import annotations

import requests


def test_health_reports_the_database_and_slack(bot, fake_slack):
    answer = requests.get(bot.url + "/health", timeout=5)

    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok", "slack": "ok"}
    assert fake_slack.calls_to("auth.test")


def test_a_slack_outage_is_reported_but_the_instance_stays_healthy(bot, fake_slack):
    fake_slack.set_down(True)

    answer = requests.get(bot.url + "/health", timeout=10)

    assert answer.status_code == 200
    assert answer.json()["slack"] == "unreachable"


def test_a_lost_database_makes_the_instance_unhealthy(start_bot, sqlite_url, tmp_path):
    bot = start_bot()
    bot.core.engine.dispose()
    (tmp_path / "smsbot.db").unlink()
    (tmp_path / "smsbot.db").mkdir()  # the file is gone and cannot be opened again

    answer = requests.get(bot.url + "/health", timeout=5)

    assert answer.status_code == 503
    assert answer.json()["database"] == "unreachable"


def test_other_paths_are_not_found(bot):
    assert requests.get(bot.url + "/", timeout=5).status_code == 404
    assert requests.get(bot.url + "/slack/events", timeout=5).status_code == 404


def test_without_its_database_the_bot_sends_nothing_and_says_so(start_bot, fake_slack, fake_ovh, tmp_path):
    from tests.harness import SlackSender

    bot = start_bot()
    bot.core.engine.dispose()
    (tmp_path / "smsbot.db").unlink()
    (tmp_path / "smsbot.db").mkdir()

    url = fake_slack.new_response_url()
    answer = SlackSender(bot.url).command("+34600000001 cannot be recorded", response_url=url)

    assert answer.status == 200
    [refusal] = fake_slack.wait_for_response(url)
    assert "database is not answering), so nothing was sent" in refusal["text"]
    assert fake_ovh.jobs == []
