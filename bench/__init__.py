"""Performance figures for smsbot, measured against the project's fake Slack and OVH servers.

``make bench`` (``python -m bench.run``) prints them next to their targets; ``python -m bench.profile``
says where a send's CPU goes, phase by phase. Nothing here is part of the tests, and nothing asserts.

Read in this order:

- :mod:`bench.run`: the command line, and the order of the measurements.
- :mod:`bench.scenarios`: each measurement (acks next to a bare Bolt app, a burst against a slow OVH,
  a 1,000-receiver send, start-up, memory, CPU per request, SIGTERM).
- :mod:`bench.apps`: what is measured, each in a process of its own as deployed: the bot
  (``python -m bot run --http``) and :mod:`bench.bare_app`, a Bolt app that only acknowledges; with the
  fakes and fresh databases they run against.
- :mod:`bench.traffic`: signed `/sms` requests as Slack sends them, one at a time or in bursts.
- :mod:`bench.measure` (percentiles, memory, CPU of a process) and :mod:`bench.report` (the tables).
- :mod:`bench.socket_mode` (``python -m bench.socket_mode``), on its own: Socket Mode through Slack's
  refreshes, lost and dead connections and SIGTERM, next to slack_sdk's built-in client.
"""
