"""What the bench measures, and what it runs against.

The bot (``python -m bot run --http``, as deployed) and the bare Bolt app (:mod:`bench.bare_app`) each run
in a process of their own, so that each one's CPU is its own: the bench's process holds only the fake
Slack and OVH servers and the client threads.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from bench.measure import cpu_seconds, free_port, proc_status
from bench.traffic import USERS
from bot.domain.records import AuditStatus, SendStatus
from bot.storage.ledger import sends
from tests.fakes.ovh_api import FakeOvh
from tests.fakes.slack_api import FakeSlack
from tests.harness import SIGNING_SECRET

ROOT = Path(__file__).absolute().parent.parent


class Fakes:
    """The fake Slack Web API and OVH API, and the environment of an app wired to them."""

    def __init__(self) -> None:
        self.slack = FakeSlack().start()
        self.ovh = FakeOvh().start()
        self.ovh.credits_left = 1e12  # thousands of sends: never the limit here

    def env(self, database_url: str, **overrides: str) -> dict[str, str]:
        """The bot's variables: the fakes, 200 allowed users, Spanish numbers, ``database_url``."""
        return {
            "SLACK_BOT_TOKEN": self.slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.slack.api_url,
            "OVH_ENDPOINT": self.ovh.endpoint,
            "OVH_APPLICATION_KEY": self.ovh.application_key,
            "OVH_APPLICATION_SECRET": self.ovh.application_secret,
            "OVH_CONSUMER_KEY": self.ovh.consumer_key,
            "OVH_SMS_SERVICE": self.ovh.services[0],
            "SMS_DEFAULT_REGION": "ES",
            "SMS_ALLOWED_COUNTRIES": "ES",
            "SMS_ALLOWED_USERS": ",".join(USERS),
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "WARNING",
            **overrides,
        }

    def close(self) -> None:
        self.slack.stop()
        self.ovh.stop()


class Databases:
    """Fresh, empty ledgers: SQLite files in a temporary folder, or scratch PostgreSQL databases
    created on the server of ``--database-url`` and dropped at the end."""

    def __init__(self, folder: Path, postgres_url: str | None) -> None:
        self._folder = folder
        self._admin: sa.Engine | None = None
        self._created: list[str] = []
        self._count = 0
        if postgres_url:
            url = sa.engine.make_url(postgres_url)
            if url.drivername in ("postgresql", "postgres"):
                url = url.set(drivername="postgresql+psycopg")
            self._base = url
            self._admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")

    @property
    def kind(self) -> str:
        return "PostgreSQL" if self._admin is not None else "SQLite"

    def fresh(self) -> str:
        """The URL of a new, empty database."""
        self._count += 1
        if self._admin is None:
            return f"sqlite:///{self._folder / f'bench-{self._count}.db'}"
        name = f"smsbot_bench_{uuid.uuid4().hex[:12]}"
        with self._admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        self._created.append(name)
        return self._base.set(database=name).render_as_string(hide_password=False)

    def close(self) -> None:
        if self._admin is None:
            return
        with self._admin.connect() as conn:
            for name in self._created:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


class AppProcess:
    """An HTTP app in a process of its own, ready once its /health answers 200."""

    name = "app"

    def __init__(
        self, command: list[str], env: dict[str, str], folder: Path, port: int, root: Path = ROOT
    ) -> None:
        self.port = port
        self._log_path = folder / f"{self.name}-{port}.log"
        self._log = self._log_path.open("w")
        started = time.perf_counter()
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            command,
            cwd=folder,  # no .env here: the environment alone configures it
            env={**os.environ, "PYTHONPATH": str(root), **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_healthy(started)
        except BaseException:
            self.kill()
            raise
        self.ready = time.perf_counter() - started

    def _wait_healthy(self, started: float) -> None:
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.output()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    return
            if time.perf_counter() - started > 60:
                raise RuntimeError(f"{self.name} was not ready within 60 s:\n{self.output()}")
            time.sleep(0.005)

    def output(self) -> str:
        """The end of what the process printed."""
        self._log.flush()
        return self._log_path.read_text()[-3000:]

    @property
    def rss(self) -> int:
        return proc_status(self.process.pid).get("VmRSS", 0)

    @property
    def cpu_seconds(self) -> float:
        """User + system CPU time of the whole process, all threads."""
        return cpu_seconds(self.process.pid)

    def stop(self) -> tuple[float, int]:
        """SIGTERM, as an orchestrator stops it: seconds until it exited, and its exit status."""
        stopping = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=60)
        finally:
            self.kill()
        return time.perf_counter() - stopping, code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()

    def __enter__(self) -> AppProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.kill()


class BotProcess(AppProcess):
    """`python -m bot run --http`, as deployed, logging at INFO (a few lines per send) to a file.

    ``root`` is the folder its ``bot`` package is imported from: another checkout, to compare with.
    """

    name = "bot"

    def __init__(
        self, fakes: Fakes, database_url: str, folder: Path, *, root: Path = ROOT, **env: str
    ) -> None:
        port = free_port()
        self.database_url = database_url
        command = [sys.executable, "-m", "bot", "run", "--http", "--host", "127.0.0.1", "--port", str(port)]
        super().__init__(command, fakes.env(database_url, LOG_LEVEL="INFO", **env), folder, port, root)


class BareProcess(AppProcess):
    """:mod:`bench.bare_app`: the floor, a Bolt app that only acknowledges."""

    name = "bare"

    def __init__(self, fakes: Fakes, folder: Path) -> None:
        port = free_port()
        command = [sys.executable, "-m", "bench.bare_app", "--port", str(port)]
        super().__init__(command, fakes.env("sqlite://"), folder, port)


def settled(engine: sa.Engine) -> int:
    """Sends settled with OVH's answer and with their audit trail posted (or given up on)."""
    query = (
        sa.select(sa.func.count())
        .select_from(sends)
        .where(sends.c.status != SendStatus.PENDING.value, sends.c.audit_status != AuditStatus.PENDING.value)
    )
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def wait_settled(engine: sa.Engine, count: int, timeout: float = 60.0, poll: float = 0.01) -> float:
    """Wait until ``count`` sends are settled and audited; return when (perf_counter)."""
    deadline = time.perf_counter() + timeout
    while True:
        if settled(engine) >= count:
            return time.perf_counter()
        if time.perf_counter() > deadline:
            query = sa.select(sends.c.status, sends.c.audit_status, sa.func.count()).group_by(
                sends.c.status, sends.c.audit_status
            )
            with engine.connect() as conn:
                states = ", ".join(f"{n} {status}/{audit}" for status, audit, n in conn.execute(query))
            raise RuntimeError(
                f"only {settled(engine)} of {count} sends settled within {timeout:g} s (status/audit: {states})"
            )
        time.sleep(poll)
