"""Sends queued after an ack start once no other request is being acknowledged (bot/sending/acks_first.py)."""

from __future__ import annotations

import threading

from bot.sending.acks_first import AckGate, AcksFirstExecutor


def test_a_send_waits_until_no_request_is_being_acknowledged():
    gate = AckGate(max_wait=60, quiet=0)
    started = threading.Event()
    with AcksFirstExecutor(gate, max_workers=1) as pool:
        with gate.acknowledging(), gate.acknowledging():
            future = pool.submit(started.set)
            assert not started.wait(0.2)
        future.result(timeout=10)
    assert started.is_set()


def test_a_send_waits_only_for_the_requests_in_progress():
    gate = AckGate(max_wait=60, quiet=0)
    with gate.acknowledging():
        pass
    with AcksFirstExecutor(gate, max_workers=1) as pool:
        assert pool.submit(lambda: "sent").result(timeout=10) == "sent"


def test_a_stream_of_requests_cannot_hold_a_send_forever():
    gate = AckGate(max_wait=0.05, quiet=0)
    with gate.acknowledging(), AcksFirstExecutor(gate, max_workers=1) as pool:
        assert pool.submit(lambda: "sent").result(timeout=10) == "sent"


def test_errors_reach_the_future():
    gate = AckGate(max_wait=60, quiet=0)

    def fail() -> None:
        raise ValueError("boom")

    with AcksFirstExecutor(gate, max_workers=1) as pool:
        error = pool.submit(fail).exception(timeout=10)
    assert isinstance(error, ValueError)


def test_every_queued_send_starts_once_the_acks_end():
    gate = AckGate(max_wait=60, quiet=0)
    started = [threading.Event() for _ in range(5)]
    with AcksFirstExecutor(gate, max_workers=5) as pool:
        with gate.acknowledging():
            futures = [pool.submit(event.set) for event in started]
            assert not any(event.wait(0.05) for event in started)
        for future in futures:
            future.result(timeout=10)
    assert all(event.is_set() for event in started)
