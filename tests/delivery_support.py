"""What the delivery tests share: a clock the test moves (for the bot and the fake OVH together), passes
driven directly, and reading the thread's status message as people see it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.sending.delivery import PassReport
from bot.slack.delivery import STATUS_EVENT
from tests.fakes.ovh_api import FakeOvh
from tests.fakes.slack_api import FakeSlack
from tests.harness import RunningBot, blocks_text


class Clock:
    """The follower's clock, moved by the test; `advance` moves the fake OVH's clock along with it."""

    def __init__(self, bot: RunningBot, fake_ovh: FakeOvh | None = None) -> None:
        self.now = datetime.now(UTC)
        self.fake_ovh = fake_ovh
        bot.core.follower.clock = lambda: self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        if self.fake_ovh is not None:
            self.fake_ovh.advance(seconds)


def run_pass(bot: RunningBot) -> PassReport:
    """One delivery pass, as the background loop runs it."""
    return bot.core.follower.run_once()


def status_messages(fake_slack: FakeSlack, channel: str = "COPS") -> list[dict[str, Any]]:
    """The status messages Slack holds in ``channel`` (as they are now, after any update)."""
    return [
        message
        for message in fake_slack.messages.get(channel, [])
        if (message.get("metadata") or {}).get("event_type") == STATUS_EVENT
    ]


def status_text(fake_slack: FakeSlack, channel: str = "COPS") -> str:
    """The one status message's text as people read it."""
    [message] = status_messages(fake_slack, channel)
    return blocks_text(message)


def parent_text(fake_slack: FakeSlack, thread_ts: str, channel: str = "COPS") -> str:
    """The parent message of a thread, as it is now."""
    [message] = [m for m in fake_slack.messages.get(channel, []) if m["ts"] == thread_ts]
    return blocks_text(message)
