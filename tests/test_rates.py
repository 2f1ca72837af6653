"""OVH's public rates are read once a day per country; a failure is retried after a few minutes, and the
estimate meanwhile assumes one credit per part."""

from __future__ import annotations

from bot.ovh.rates import KEEP_FAILURE_SECONDS, KEEP_SECONDS, RateBook, http_fetch


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_rate_is_read_once_a_day_per_country(fake_ovh):
    fake_ovh.rates = {"es": 1.3}
    clock = Clock()
    book = RateBook(http_fetch(fake_ovh.endpoint), clock)

    assert [book.credits_per_part("ES"), book.credits_per_part("ES"), book.credits_per_part("FR")] == [
        1.3,
        1.3,
        1.0,
    ]
    assert fake_ovh.rate_requests == ["es", "fr"]
    fake_ovh.rates = {"es": 1.4}
    clock.now += KEEP_SECONDS - 1
    assert book.credits_per_part("ES") == 1.3
    clock.now += 2
    assert book.credits_per_part("ES") == 1.4
    assert fake_ovh.rate_requests == ["es", "fr", "es"]


def test_a_failed_read_is_kept_a_few_minutes_then_tried_again(fake_ovh):
    fake_ovh.fail_next(503, path_contains="/rates")
    clock = Clock()
    book = RateBook(http_fetch(fake_ovh.endpoint), clock)

    assert book.credits_per_part("ES") is None
    assert book.credits_per_part("ES") is None  # no keystroke waits for an OVH that just failed
    assert fake_ovh.rate_requests == ["es"]
    clock.now += KEEP_FAILURE_SECONDS + 1
    assert book.credits_per_part("ES") == 1.0


def test_an_answer_without_a_usable_credit_is_no_rate(fake_ovh):
    fake_ovh.rates = {"es": -1}

    assert RateBook(http_fetch(fake_ovh.endpoint)).credits_per_part("ES") is None


def test_an_unreachable_ovh_is_no_rate():
    assert RateBook(http_fetch("http://127.0.0.1:9/1.0")).credits_per_part("ES") is None


def test_a_silent_ovh_is_no_rate_once_the_read_times_out(monkeypatch):
    import socket
    import threading

    import bot.ovh.rates as rates

    monkeypatch.setattr(
        rates, "TIMEOUT", (0.5, 0.1)
    )  # the real bound is 2 s; what matters is that there is one
    silent = socket.create_server(("127.0.0.1", 0))  # takes the connection, never answers
    answers: list[float | None] = []
    reader = threading.Thread(
        target=lambda: answers.append(
            RateBook(http_fetch(f"http://127.0.0.1:{silent.getsockname()[1]}/1.0")).credits_per_part("ES")
        ),
        daemon=True,
    )
    try:
        reader.start()
        reader.join(timeout=10)
        assert not reader.is_alive(), "the rate read waited for a silent OVH with no bound"
        assert answers == [None]
    finally:
        silent.close()
