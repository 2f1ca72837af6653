"""Serving Slack's requests: HTTP mode, Socket Mode, and `/health`."""
