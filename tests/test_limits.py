"""The sending limits as pure rules: the size of one send, and the last 24 hours' usage plus this send."""

from __future__ import annotations

import pytest

from bot.domain.errors import NotAllowed
from bot.domain.limits import LimitExceeded, Limits, Usage

NONE = Usage()


def refusal(limits: Limits, receivers: int, credits: float, user: Usage, channel: Usage) -> str:
    with pytest.raises(LimitExceeded) as caught:
        limits.guard(receivers, credits)(user, channel)
    return caught.value.user_message


def test_a_limit_refusal_is_a_refusal_the_edges_explain() -> None:
    assert issubclass(LimitExceeded, NotAllowed)


def test_one_send_may_go_to_exactly_the_limit_of_receivers() -> None:
    Limits(receivers_per_send=3).check_size(3)

    with pytest.raises(LimitExceeded) as caught:
        Limits(receivers_per_send=3).check_size(4)

    assert caught.value.user_message == (
        "One send may go to at most 3 numbers (SMS_LIMIT_RECEIVERS_PER_SEND); this one has 4. "
        "Split it, or ask an admin."
    )


def test_the_size_message_groups_thousands() -> None:
    with pytest.raises(LimitExceeded) as caught:
        Limits(receivers_per_send=1000).check_size(1234)

    assert "at most 1,000 numbers" in caught.value.user_message
    assert "this one has 1,234." in caught.value.user_message


def test_zero_receivers_per_send_means_no_limit() -> None:
    Limits(receivers_per_send=0).check_size(1_000_000)


def test_the_daily_sms_limits_allow_reaching_the_limit_exactly() -> None:
    limits = Limits(user_sms_per_day=10, channel_sms_per_day=20)

    limits.guard(3, 0.0)(Usage(sms=7), Usage(sms=17))


@pytest.mark.parametrize(
    ("limits", "user", "channel", "message"),
    [
        (
            Limits(user_sms_per_day=10),
            Usage(sms=8),
            NONE,
            "This send would bring you to 11 SMS in 24 hours, over the limit of 10 "
            "(SMS_LIMIT_USER_SMS_PER_DAY). Nothing was sent: wait, send to fewer numbers, "
            "or ask an admin to send it.",
        ),
        (
            Limits(user_sms_per_day=0, channel_sms_per_day=2000),
            Usage(sms=5000),
            Usage(sms=1998),
            "This send would bring this channel to 2,001 SMS in 24 hours, over the limit of 2,000 "
            "(SMS_LIMIT_CHANNEL_SMS_PER_DAY). Nothing was sent: wait, send to fewer numbers, "
            "or ask an admin to send it.",
        ),
        (
            Limits(user_sms_per_day=0, channel_sms_per_day=0, user_credits_per_day=50),
            Usage(sms=900, credits=45.5),
            NONE,
            "This send would bring you to 52 credits in 24 hours, over the limit of 50 "
            "(SMS_LIMIT_USER_CREDITS_PER_DAY). Nothing was sent: wait, send to fewer numbers, "
            "or ask an admin to send it.",
        ),
        (
            Limits(user_sms_per_day=0, channel_sms_per_day=0, channel_credits_per_day=50),
            Usage(credits=1000.0),
            Usage(sms=900, credits=44.6),
            "This send would bring this channel to 51 credits in 24 hours, over the limit of 50 "
            "(SMS_LIMIT_CHANNEL_CREDITS_PER_DAY). Nothing was sent: wait, send to fewer numbers, "
            "or ask an admin to send it.",
        ),
    ],
    ids=["user-sms", "channel-sms", "user-credits", "channel-credits"],
)
def test_each_daily_limit_names_who_what_and_its_variable(
    limits: Limits, user: Usage, channel: Usage, message: str
) -> None:
    assert refusal(limits, 3, 6.5, user, channel) == message


def test_the_credit_limits_allow_reaching_the_limit_exactly() -> None:
    limits = Limits(user_credits_per_day=10, channel_credits_per_day=20)

    limits.guard(1, 2.5)(Usage(credits=7.5), Usage(credits=17.5))


def test_usage_is_added_to_this_send_not_compared_alone() -> None:
    # 2 already sent + 2 now = 4 > 3, although neither alone is over the limit.
    limits = Limits(
        user_sms_per_day=3, channel_sms_per_day=3, user_credits_per_day=3, channel_credits_per_day=3
    )

    for user, channel, receivers, credits in [
        (Usage(sms=2), NONE, 2, 0.0),
        (NONE, Usage(sms=2), 2, 0.0),
        (Usage(credits=2.0), NONE, 0, 2.0),
        (NONE, Usage(credits=2.0), 0, 2.0),
    ]:
        with pytest.raises(LimitExceeded):
            limits.guard(receivers, credits)(user, channel)


def test_zero_disables_each_daily_limit() -> None:
    huge = Usage(sms=10**9, credits=1e9)

    Limits(user_sms_per_day=0, channel_sms_per_day=0).guard(10, 10.0)(huge, huge)


def test_the_defaults_are_per_send_50_user_100_channel_500_and_no_credit_limit() -> None:
    assert Limits() == Limits(
        receivers_per_send=50,
        user_sms_per_day=100,
        channel_sms_per_day=500,
        user_credits_per_day=0,
        channel_credits_per_day=0,
    )
    assert Usage() == Usage(sms=0, credits=0.0)
