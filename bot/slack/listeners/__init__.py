"""Slack listeners, one module per kind of request Slack sends."""

from slack_bolt import App

from bot.services import Services
from bot.slack.listeners import commands, views


def register_listeners(app: App, services: Services) -> None:
    """Bind every listener to the app."""
    commands.register(app, services)
    views.register(app, services)
