"""Slack listeners, one module per kind of request Slack sends; each binds its handlers in ``register``."""

from slack_bolt import App

from bot.slack.listeners import commands, views


def register_listeners(app: App, command_deps: commands.CommandDeps, view_deps: views.ViewDeps) -> None:
    """Bind every listener to the app, each with only what it needs."""
    commands.register(app, command_deps)
    views.register(app, view_deps)
