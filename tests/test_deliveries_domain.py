"""The pure parts of following deliveries: states, reasons, back-off, summaries and STOP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.deliveries import (
    DeliveryState,
    ReceiverStatus,
    duration_words,
    is_stop,
    next_check_delay,
    ptt_words,
    state_of,
    summary,
    took,
)


@pytest.mark.parametrize(
    ("receipt", "state"),
    [
        (0, DeliveryState.PENDING),
        (1, DeliveryState.DELIVERED),
        (2, DeliveryState.FAILED),
        (4, DeliveryState.PENDING),
        (8, DeliveryState.PENDING),
        (16, DeliveryState.FAILED),
        (3, DeliveryState.PENDING),
        (None, DeliveryState.PENDING),
    ],
)
def test_ovhs_delivery_receipt_decides_the_state(receipt, state):
    assert state_of(receipt) is state


def test_only_pending_is_not_final():
    assert [s for s in DeliveryState if not s.final] == [DeliveryState.PENDING]


@pytest.mark.parametrize(
    ("ptt", "described", "words"),
    [
        (23, None, "unknown number"),
        (24, None, "phone unreachable"),
        (24, "Subscriber absent.", "Subscriber absent"),
        (77, None, "operator code 77"),
        (0, None, None),
        (None, None, None),
    ],
)
def test_reasons_in_words(ptt, described, words):
    assert ptt_words(ptt, described) == words


@pytest.mark.parametrize(
    ("age", "delay"),
    [(0, 30), (60, 30), (300, 30), (600, 60), (3600, 360), (86_400, 1800), (10 * 86_400, 1800)],
)
def test_an_sms_is_read_less_often_as_it_ages(age, delay):
    assert next_check_delay(timedelta(seconds=age), 30) == timedelta(seconds=delay)


@given(st.floats(min_value=0, max_value=30 * 86_400), st.floats(min_value=5, max_value=3600))
def test_the_delay_is_never_under_the_poll_nor_over_half_an_hour_beyond_it(age, poll):
    delay = next_check_delay(timedelta(seconds=age), poll).total_seconds()
    assert poll - 1e-6 <= delay <= max(poll, 1800) + 1e-6  # timedelta keeps microseconds


def test_the_summary_counts_every_state():
    statuses = [
        ReceiverStatus("+34600000001", DeliveryState.DELIVERED, None, None),
        ReceiverStatus("+34600000002", DeliveryState.DELIVERED, None, None),
        ReceiverStatus("+34600000003", DeliveryState.FAILED, "unknown number", None),
        ReceiverStatus("+34600000004", DeliveryState.PENDING, None, None),
        ReceiverStatus("+34600000005", DeliveryState.EXPIRED, None, None),
        ReceiverStatus(None, DeliveryState.GONE, None, None),
    ]
    assert str(summary(statuses)) == "2 of 6 delivered, 1 failed, 1 pending, 1 no final report, 1 unknown"
    assert str(summary(statuses[:2])) == "2 of 2 delivered"


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "0 s"),
        (4.7, "4 s"),
        (60, "1 min"),
        (125, "2 min 5 s"),
        (3600, "1 h"),
        (11_400, "3 h 10 min"),
        (-3, "0 s"),
    ],
)
def test_durations_in_words(seconds, words):
    assert duration_words(timedelta(seconds=seconds)) == words


def test_time_taken_needs_both_dates_and_reads_zoned_and_plain_alike():
    created = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert took(created, created + timedelta(seconds=9)) == timedelta(seconds=9)
    assert took(created, None) is None and took(None, created) is None
    assert took(created.replace(tzinfo=None), created + timedelta(seconds=5)) == timedelta(seconds=5)


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        " Stop ",
        "STOP SMS",
        "stop sms",
        "StopSms",
        "BAJA",
        "baja.",
        "ARRET",
        "Arrêt",
        "ARRÊT!",
        "\tstop\n",
    ],
)
def test_stop_words_opt_out(text):
    assert is_stop(text)


@pytest.mark.parametrize(
    "text", ["", "stop it", "please stop", "STOPPED", "no", "baja la música", "arrete", "😀", "S.T.O.P. now"]
)
def test_other_replies_are_not_stop(text):
    assert not is_stop(text)


@given(st.text(max_size=40))
def test_stop_is_recognised_only_when_nothing_else_is_said(text):
    if is_stop(text):
        letters = "".join(c for c in text.casefold() if c.isalpha())
        assert letters in {"stop", "baja", "stopsms", "arret", "arrêt"}
