"""Where a person stands: the same rules the send path checks, read for the Home tab."""

from __future__ import annotations

from bot.domain.access import SendPolicy
from bot.domain.limits import Limits, Usage
from bot.domain.standing import Allowance, standing


class Directory:
    def __init__(
        self, members: dict[str, frozenset[str]] | None = None, admins: frozenset[str] = frozenset()
    ):
        self._members = members or {}
        self._admins = admins

    def members(self, usergroup_id: str) -> frozenset[str]:
        if usergroup_id not in self._members:
            raise RuntimeError("no_such_subteam")
        return self._members[usergroup_id]

    def is_workspace_admin(self, user_id: str) -> bool:
        return user_id in self._admins


LIMITS = Limits(receivers_per_send=20, user_sms_per_day=100, user_credits_per_day=50)


def test_an_allowed_user_sees_what_is_left_of_each_limit():
    where = standing(
        "UALICE",
        policy=SendPolicy(allowed_users=frozenset({"UALICE"})),
        countries=frozenset({"ES", "FR"}),
        limits=LIMITS,
        usage=Usage(sms=30, credits=12.5),
        directory=Directory(),
    )
    assert where.allowed and not where.admin and where.refusal is None
    assert where.channels is None and where.countries == {"ES", "FR"}
    assert where.receivers_per_send == 20
    assert where.sms_today == Allowance(100, 30) and where.sms_today.left == 70
    assert where.credits_today.left == 37.5


def test_what_is_left_never_goes_below_zero_and_no_limit_is_unlimited():
    assert Allowance(10, 12).left == 0
    assert not Allowance(0, 500).limited


def test_admins_are_beyond_the_limits():
    where = standing(
        "UADMIN",
        policy=SendPolicy(admin_users=frozenset({"UADMIN"}), allowed_channels=frozenset({"COPS"})),
        countries=None,
        limits=LIMITS,
        usage=Usage(sms=500),
        directory=Directory(),
    )
    assert where.allowed and where.admin and not where.limited
    assert where.channels == {"COPS"}
    assert not where.sms_today.limited and where.receivers_per_send == 0


def test_a_refusal_is_the_send_paths_own_words():
    policy = SendPolicy(allowed_usergroups=frozenset({"SOPS"}))
    where = standing(
        "UBOB",
        policy=policy,
        countries=None,
        limits=LIMITS,
        usage=Usage(),
        directory=Directory({"SOPS": frozenset()}),
    )
    assert not where.allowed
    assert where.refusal is not None and "SMS_ALLOWED_USERGROUPS" in where.refusal


def test_a_group_member_is_allowed_from_the_allowed_channels_only():
    policy = SendPolicy(allowed_usergroups=frozenset({"SOPS"}), allowed_channels=frozenset({"CB", "CA"}))
    where = standing(
        "UBOB",
        policy=policy,
        countries=None,
        limits=LIMITS,
        usage=Usage(),
        directory=Directory({"SOPS": frozenset({"UBOB"})}),
    )
    assert where.allowed and where.channels == {"CA", "CB"}


def test_nobody_may_send_before_any_rule_is_set():
    where = standing(
        "UALICE", policy=SendPolicy(), countries=None, limits=LIMITS, usage=Usage(), directory=Directory()
    )
    assert not where.allowed and "Nobody may send SMS with this bot yet" in (where.refusal or "")
