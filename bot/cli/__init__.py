"""The `smsbot` command: one module per subcommand."""

from bot.cli.main import main

__all__ = ["main"]
