"""Slack: the Web API client, Block Kit, posting audit trails, and the listeners for what Slack sends."""
