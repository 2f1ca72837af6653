"""Slack listeners, one module per kind of request Slack sends."""

from slack_bolt import App

from bot.listeners import commands, views
from bot.services import Services


def register_listeners(app: App, services: Services) -> None:
    """Bind every listener to the app."""
    commands.register(app, services)
    views.register(app, services)
