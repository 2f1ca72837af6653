"""HTTP mode: Bolt behind waitress, a multi-threaded production WSGI server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import create_server, wasyncore

from bot.app import SmsBot
from bot.health import HealthCheck

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/health"
StartResponse = Callable[..., Any]


def wsgi_app(bot: SmsBot) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """``POST /slack/events`` goes to Bolt; ``GET /health`` reports the database and Slack."""
    slack = SlackRequestHandler(bot.app, path=EVENTS_PATH)
    health = HealthCheck(bot.services)

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") == "GET":
            result = health.check()
            payload = json.dumps({"status": "ok" if result.ok else "error", **result.details}).encode()
            status = "200 OK" if result.ok else "503 Service Unavailable"
            start_response(
                status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
            )
            return [payload]
        return slack(environ, start_response)

    return application


class HttpServer:
    """waitress serving the bot; :meth:`stop` may be called from any thread."""

    def __init__(self, bot: SmsBot, host: str, port: int, threads: int = 16) -> None:
        self._server = create_server(
            wsgi_app(bot),
            host=host,
            port=port,
            threads=threads,
            backlog=2048,  # Slack sends bursts; the standard library's default of 5 refuses them
            ident="smsbot",
            clear_untrusted_proxy_headers=True,
        )

    @property
    def port(self) -> int:
        """The port listened on (useful with port 0)."""
        return int(self._server.effective_port)

    def serve(self) -> None:
        """Serve until :meth:`stop` or a KeyboardInterrupt; requests in progress are finished."""
        try:
            self._server.run()
        finally:
            self._server.task_dispatcher.shutdown()

    def stop(self) -> None:
        """Close the sockets from inside the server's loop (closing them from another thread races)."""
        self._server.trigger.pull_trigger(lambda: wasyncore.close_all(self._server._map))
