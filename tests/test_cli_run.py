"""`smsbot run` that cannot start says so in one line (what failed, what to check), never a traceback.

Each test runs the real `python -m bot` process; nothing here reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version

import pytest

from tests.processes import clean_env, free_port

_INFO_LOG = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ INFO ")
_NO_PROXY = {"HTTPS_PROXY": "", "https_proxy": "", "HTTP_PROXY": "", "http_proxy": ""}


def smsbot(args: list[str], env: dict[str, str], tmp_path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=clean_env(env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run_bot(env: dict[str, str], tmp_path, *, http: bool = True) -> subprocess.CompletedProcess[str]:
    mode = ["--http", "--host", "127.0.0.1", "--port", "0"] if http else []
    return smsbot(["run", *mode], {**_NO_PROXY, **env}, tmp_path)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line the process printed besides INFO logs (e.g. a migration), failing the test if it
    printed more: a traceback, the SDK's own error lines, a second explanation."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip() and not _INFO_LOG.match(line)]
    assert len(lines) == 1, output
    return lines[0]


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    return free_port()


@pytest.fixture
def not_slack() -> Iterator[str]:
    """An HTTP server that answers every request with an HTML 404 page, as a wrong URL would."""

    class NotFound(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = b"<!DOCTYPE html><html><body>Not Found</body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_refused_bot_token_stops_start_up_naming_the_variable(env, tmp_path):
    result = run_bot({**env, "SLACK_BOT_TOKEN": "xoxb-revoked-token"}, tmp_path)

    assert result.returncode == 2
    assert "Slack refused SLACK_BOT_TOKEN" in one_line(result)
    assert "xoxb-revoked-token" not in result.stderr + result.stdout


def test_an_unreachable_database_stops_start_up_naming_the_variable(env, tmp_path):
    result = run_bot({**env, "DATABASE_URL": "postgresql://nobody:pw@127.0.0.1:9/none"}, tmp_path)

    assert result.returncode == 2
    assert "DATABASE_URL cannot be used" in one_line(result)
    assert ":pw@" not in result.stderr


@pytest.mark.parametrize("http", [True, False], ids=["http", "socket-mode"])
def test_slack_on_a_closed_port_stops_start_up_in_one_line(env, tmp_path, closed_port, http):
    url = f"http://127.0.0.1:{closed_port}/api/"
    result = run_bot({**env, "SLACK_API_URL": url, "SLACK_APP_TOKEN": "xapp-1-test"}, tmp_path, http=http)

    assert result.returncode == 1
    line = one_line(result)
    assert f"Slack's Web API at {url} cannot be reached (Connection refused)" in line
    assert "Check the network, any proxy (HTTPS_PROXY) and SLACK_API_URL" in line


def test_a_slack_host_that_does_not_resolve_stops_start_up_in_one_line(env, tmp_path):
    # `.invalid` never resolves (RFC 2606): the same failure as a machine without network or DNS.
    result = run_bot({**env, "SLACK_API_URL": "http://slack.invalid/api/"}, tmp_path)

    assert result.returncode == 1
    assert "Slack's Web API at http://slack.invalid/api/ cannot be reached" in one_line(result)


def test_a_proxy_that_does_not_answer_is_named_without_its_password(env, tmp_path, closed_port):
    proxy = {"HTTPS_PROXY": f"http://user:s3cret@127.0.0.1:{closed_port}"}
    result = run_bot({**env, **proxy, "SLACK_API_URL": "https://slack.com/api/"}, tmp_path)

    assert result.returncode == 1
    line = one_line(result)
    assert "cannot be reached" in line
    assert "the proxy in HTTPS_PROXY" in line
    assert "s3cret" not in line


@pytest.mark.parametrize("http", [True, False], ids=["http", "socket-mode"])
def test_a_url_that_is_not_slack_stops_start_up_naming_slack_api_url(env, tmp_path, not_slack, http):
    result = run_bot(
        {**env, "SLACK_API_URL": not_slack, "SLACK_APP_TOKEN": "xapp-1-test"}, tmp_path, http=http
    )

    assert result.returncode == 2
    line = one_line(result)
    assert f"{not_slack} answered HTTP 404, not as Slack's Web API does" in line
    assert "Check SLACK_API_URL" in line


def test_a_port_in_use_stops_start_up_in_one_line(env, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = smsbot(["run", "--http", "--host", "127.0.0.1", "--port", str(port)], env, tmp_path)

    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port} (Address already in use)" in one_line(result)


def test_smsbot_alone_prints_the_usage_and_the_commands(tmp_path):
    result = smsbot([], {}, tmp_path)

    assert result.returncode == 2
    assert result.stderr.startswith("usage: smsbot")
    for command in ("run", "check", "send"):
        assert f"\n    {command} " in result.stderr
    assert "required" not in result.stderr
    assert "Traceback" not in result.stderr


def test_version_prints_the_installed_version(tmp_path):
    result = smsbot(["--version"], {}, tmp_path)

    assert result.returncode == 0
    assert result.stdout == f"smsbot {version('smsbot')}\n"


def test_a_sqlite_file_that_cannot_be_created_says_what_to_check(env, tmp_path):
    result = run_bot({**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'missing' / 'smsbot.db'}"}, tmp_path)

    assert result.returncode == 2
    line = one_line(result)
    assert "the database in DATABASE_URL cannot be used (unable to open database file)" in line
    assert "Check that the file's folder exists and the bot may write there" in line
