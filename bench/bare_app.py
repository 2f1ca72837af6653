"""The floor: a Bolt app that only acknowledges `/sms` (publishes a fixed Home tab when it is opened, and
answers a form's keystroke with its view unchanged), served as the bot serves itself.

``python -m bench.bare_app --port N`` (environment: SLACK_BOT_TOKEN, SLACK_API_URL, SLACK_SIGNING_SECRET).
waitress with the bot's server settings (32 threads, backlog 2048), Bolt's own WSGI adapter, and the
listener pool of the bot's size: whatever the bot adds on top of this is the bot's own cost.
"""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from waitress import serve

SERVER_THREADS = 32  # `smsbot run --http`'s default
LISTENER_THREADS = 16  # the bot's listener pool (bot/app.py)


def main() -> None:
    """Serve until killed."""
    parser = argparse.ArgumentParser(prog="python -m bench.bare_app")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = App(
        client=WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS),
    )

    @app.command("/sms")
    def acknowledge(ack: Ack) -> None:
        ack()

    # The floor of the App Home: one fixed section, published as soon as the tab is opened.
    @app.event("app_home_opened")
    def publish_home(event: dict, client: WebClient) -> None:
        view = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hello"}}]}
        client.views_publish(user_id=event["user"], view=view)

    @app.block_action({"action_id": "value"})
    def refresh(ack: Ack, body: dict, client: WebClient) -> None:
        # The floor of a live form: acknowledge the keystroke and send the view back unchanged.
        ack()
        view = body["view"]
        kept = ("type", "title", "blocks", "close", "submit", "private_metadata", "callback_id")
        client.views_update(
            view_id=view["id"], hash=view["hash"], view={key: view[key] for key in kept if key in view}
        )

    handler = SlackRequestHandler(app)

    def application(environ, start_response):  # type: ignore[no-untyped-def]
        if environ.get("PATH_INFO") == "/health":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        return handler(environ, start_response)

    serve(
        application,
        host="127.0.0.1",
        port=args.port,
        threads=SERVER_THREADS,
        backlog=2048,
        ident="bare-bolt",
        clear_untrusted_proxy_headers=True,
        _quiet=True,
    )


if __name__ == "__main__":
    main()
