"""Slack listeners, one module per kind of request Slack sends; each binds its handlers in ``register``."""

from slack_bolt import App

from bot.slack.listeners import actions, commands, confirm, scheduled, shortcuts, summary, views
from bot.slack.request_ids import refuse_malformed_ids


def register_listeners(
    app: App,
    command_deps: commands.CommandDeps,
    view_deps: views.ViewDeps,
    shortcut_deps: shortcuts.ShortcutDeps,
    action_deps: actions.ActionDeps,
    summary_deps: summary.SummaryDeps,
    scheduled_deps: scheduled.ScheduledDeps,
) -> None:
    """Bind every listener to the app, each with only what it needs."""
    app.use(refuse_malformed_ids)  # before any listener reads an id
    commands.register(app, command_deps)
    views.register(app, view_deps)
    shortcuts.register(app, shortcut_deps)
    actions.register(app, action_deps)
    summary.register(app, summary_deps)
    scheduled.register(app, scheduled_deps)
    if command_deps.confirm is not None:
        confirm.register(app, command_deps.confirm)
