"""The database: engine and migrations, the send ledger, the opt-out list."""
