"""Who may send and from where, as pure rules, against a directory that answers as Slack would."""

from __future__ import annotations

import pytest

from bot.domain.access import Access, CachedDirectory, SendPolicy, TtlCache
from bot.domain.errors import NotAllowed


class Directory:
    """Answers like Slack's user groups and users.info, and counts the questions."""

    def __init__(self, groups: dict[str, set[str]] | None = None, admins: set[str] = frozenset()) -> None:
        self.groups = groups or {}
        self.admins = set(admins)
        self.asked: list[tuple[str, str]] = []
        self.failure: Exception | None = None

    def members(self, usergroup_id: str) -> frozenset[str]:
        self.asked.append(("members", usergroup_id))
        if self.failure is not None:
            raise self.failure
        return frozenset(self.groups.get(usergroup_id, ()))

    def is_workspace_admin(self, user_id: str) -> bool:
        self.asked.append(("admin", user_id))
        return user_id in self.admins


def refusal(policy: SendPolicy, user_id: str, channel_id: str | None, directory: Directory) -> str:
    with pytest.raises(NotAllowed) as caught:
        policy.check(user_id, channel_id, directory)
    return caught.value.user_message


def test_with_no_rule_set_nobody_may_send_and_the_refusal_says_how_to_allow() -> None:
    assert not SendPolicy().configured
    assert refusal(SendPolicy(), "UANY", "CANY", Directory()) == (
        "Nobody may send SMS with this bot yet. An admin can allow people with SMS_ALLOWED_USERS "
        "(Slack user ids), SMS_ALLOWED_USERGROUPS (user group ids) and SMS_ALLOWED_CHANNELS (channel ids); "
        "see the README's Access section."
    )


def test_a_listed_admin_may_send_beyond_the_limits_without_being_an_allowed_user() -> None:
    policy = SendPolicy(allowed_users=frozenset({"UALICE"}), admin_users=frozenset({"UROOT"}))

    assert policy.check("UROOT", "CANY", Directory()) == Access(admin=True)
    assert policy.check("UALICE", "CANY", Directory()) == Access(admin=False)


def test_workspace_admins_are_admins_only_when_the_setting_says_so() -> None:
    directory = Directory(admins={"UBOSS"})
    allowed = frozenset({"UALICE"})

    assert SendPolicy(allowed_users=allowed, workspace_admins_are_admins=True).check(
        "UBOSS", None, directory
    ) == Access(admin=True)
    assert directory.asked == [("admin", "UBOSS")]
    assert SendPolicy(allowed_users=allowed, workspace_admins_are_admins=True).check(
        "UALICE", None, directory
    ) == Access(admin=False)

    directory.asked.clear()
    assert "not allowed" in refusal(SendPolicy(allowed_users=allowed), "UBOSS", None, directory)
    assert directory.asked == []  # without the setting, Slack is not even asked


def test_the_workspace_admin_setting_alone_configures_the_bot() -> None:
    policy = SendPolicy(workspace_admins_are_admins=True)

    assert policy.configured
    assert policy.check("UBOSS", "CANY", Directory(admins={"UBOSS"})) == Access(admin=True)
    assert "not allowed" in refusal(policy, "UALICE", "CANY", Directory(admins={"UBOSS"}))


def test_channel_rules_hold_for_admins_too() -> None:
    policy = SendPolicy(allowed_channels=frozenset({"COPS"}), admin_users=frozenset({"UROOT"}))

    assert refusal(policy, "UROOT", "CRANDOM", Directory()) == (
        "SMS cannot be sent from this conversation. Use `/sms` in one of the channels the bot allows, "
        "or ask an admin to add this channel's id to SMS_ALLOWED_CHANNELS."
    )
    assert policy.check("UROOT", "COPS", Directory()) == Access(admin=True)


def test_channels_alone_let_anybody_there_send_but_with_people_listed_only_them() -> None:
    assert SendPolicy(allowed_channels=frozenset({"COPS"})).check("UANY", "COPS", Directory()) == Access()

    for policy in [
        SendPolicy(allowed_channels=frozenset({"COPS"}), allowed_users=frozenset({"UALICE"})),
        SendPolicy(allowed_channels=frozenset({"COPS"}), allowed_usergroups=frozenset({"SONCALL"})),
    ]:
        assert "not allowed" in refusal(policy, "UMALLORY", "COPS", Directory(groups={"SONCALL": {"UBOB"}}))


def test_a_stranger_is_told_how_to_get_access() -> None:
    policy = SendPolicy(allowed_users=frozenset({"UALICE"}), allowed_usergroups=frozenset({"SONCALL"}))

    assert refusal(policy, "UMALLORY", None, Directory(groups={"SONCALL": {"UBOB"}})) == (
        "You are not allowed to send SMS with this bot. Ask an admin to add your Slack user id to "
        "SMS_ALLOWED_USERS, or you to one of the user groups in SMS_ALLOWED_USERGROUPS."
    )


def test_group_members_may_send_whichever_group_lists_them() -> None:
    policy = SendPolicy(allowed_usergroups=frozenset({"SA", "SB"}))
    directory = Directory(groups={"SA": {"UANN"}, "SB": {"UBOB"}})

    assert policy.check("UANN", None, directory) == Access()
    assert policy.check("UBOB", None, directory) == Access()


def test_when_slack_cannot_tell_the_members_the_reason_names_the_failure() -> None:
    directory = Directory(groups={"SONCALL": {"UBOB"}})
    directory.failure = TimeoutError("read timed out")

    assert refusal(SendPolicy(allowed_usergroups=frozenset({"SONCALL"})), "UBOB", None, directory) == (
        "Your access could not be checked: Slack did not tell who is in the allowed user groups "
        "(TimeoutError). Nothing was sent; try again in a minute."
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_cached_answer_is_kept_strictly_less_than_its_ttl() -> None:
    clock = Clock()
    answers = iter(["first", "second", "third"])
    cache: TtlCache[str, str] = TtlCache(lambda key: next(answers), ttl=60, clock=clock)

    assert cache.get("k") == "first"
    clock.now += 59.9
    assert cache.get("k") == "first"
    clock.now += 0.1  # exactly 60 s after the answer: stale
    assert cache.get("k") == "second"


def test_the_cached_directory_keeps_members_and_admin_answers_per_key_for_the_ttl() -> None:
    clock = Clock()
    slack = Directory(groups={"SONCALL": {"UBOB"}}, admins={"UBOSS"})
    cached = CachedDirectory(slack, ttl=30, clock=clock)

    for _ in range(3):
        assert cached.members("SONCALL") == frozenset({"UBOB"})
        assert cached.is_workspace_admin("UBOSS") is True
        assert cached.is_workspace_admin("UBOB") is False
    assert slack.asked == [("members", "SONCALL"), ("admin", "UBOSS"), ("admin", "UBOB")]

    clock.now += 30
    slack.admins.clear()
    assert cached.is_workspace_admin("UBOSS") is False
    assert cached.members("SONCALL") == frozenset({"UBOB"})
    assert len(slack.asked) == 5
