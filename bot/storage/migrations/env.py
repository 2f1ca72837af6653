"""Alembic environment: the bot runs migrations itself at start-up (see bot/db.py), on its own connection."""

from alembic import context

from bot.storage.ledger import metadata
from bot.storage.opt_outs import opt_outs  # noqa: F401  (registers its table in the metadata)
from bot.storage.retention import tasks  # noqa: F401  (registers its table in the metadata)

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
