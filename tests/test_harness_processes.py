"""The harness that starts real bot processes: a free port taken before the bot binds it is replaced."""

from __future__ import annotations

import socket

from tests.processes import HttpBotProcess


def test_a_port_taken_before_the_bot_binds_it_is_replaced(env, tmp_path, monkeypatch):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))  # bound, not listening: as the local port of another connection
    picked: list[int] = []
    pick_free = HttpBotProcess._pick_port

    def pick(self: HttpBotProcess) -> None:
        if picked:
            pick_free(self)
        else:  # the first pick is the port taken meanwhile
            self.port, self.url = taken.getsockname()[1], f"http://127.0.0.1:{taken.getsockname()[1]}"
        picked.append(self.port)

    monkeypatch.setattr(HttpBotProcess, "_pick_port", pick)
    bot = HttpBotProcess(env, tmp_path, "retry")
    try:
        bot.wait_ready()
        assert picked == [taken.getsockname()[1], bot.port] and bot.port != picked[0]
    finally:
        bot.stop()
        taken.close()
