"""``joinedup serve --workers N``: several uvicorn processes share the port, each building the
app from the environment; the metrics listener, which serves one process, is refused then."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.config import Settings
from tests.support import free_port

HOST = "127.0.0.1"
#: Seconds of a pause longer than uvicorn's default keep-alive (5 s).
KEEP_ALIVE_PAUSE = 6.5


def test_the_metrics_listener_is_refused_with_several_workers(home_settings: Settings) -> None:
    env = {"JOINEDUP_HOME": str(home_settings.home), "JOINEDUP_METRICS_BIND": f"{HOST}:0"}
    result = CliRunner().invoke(app, ["serve", "--workers", "2"], env=env)
    assert result.exit_code == 1
    assert "metrics listener" in result.output and "Traceback" not in result.output
    refused = CliRunner().invoke(app, ["serve", "--workers", "0"], env=env)
    assert refused.exit_code == 2


@pytest.mark.slow
def test_two_workers_serve_the_home(home_settings: Settings, tmp_path: Path) -> None:
    port = free_port(HOST)
    env = {
        **os.environ,
        "JOINEDUP_HOME": str(home_settings.home),
        "JOINEDUP_SECRET_KEY": home_settings.secret_key,
        "JOINEDUP_LOG_FORMAT": "json",
    }
    env.pop("JOINEDUP_METRICS_BIND", None)
    command = [str(Path(sys.executable).with_name("joinedup")), "serve", "--host", HOST]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [*command, "--port", str(port), "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 180  # two processes import the app on a busy machine
            while log.read_text().count("Application startup complete") < 2:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
            for _ in range(6):
                response = httpx.get(f"http://{HOST}:{port}/healthz", timeout=30)
                assert response.status_code == 200, response.text
            assert httpx.get(f"http://{HOST}:{port}/sign-in", timeout=30).status_code == 200
        finally:
            server.terminate()
            server.wait(timeout=60)
    assert log.read_text().count("Started server process") == 2


def _get(connection: http.client.HTTPConnection) -> int:
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    response.read()
    return response.status


@pytest.mark.slow
def test_an_idle_connection_outlives_a_pause_to_read_the_page(
    home_settings: Settings, tmp_path: Path
) -> None:
    """A client that pauses between requests (a person reading a page) finds its connection
    still open: with uvicorn's 5 s the server closed it as clients reused it (the load
    benchmark's think-time runs had "no response" errors)."""
    port = free_port(HOST)
    env = {**os.environ, "JOINEDUP_HOME": str(home_settings.home)}
    env["JOINEDUP_SECRET_KEY"] = home_settings.secret_key
    env.pop("JOINEDUP_METRICS_BIND", None)
    command = [str(Path(sys.executable).with_name("joinedup")), "serve", "--host", HOST]
    with (tmp_path / "serve.log").open("wb") as out:
        server = subprocess.Popen(
            [*command, "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                connection = http.client.HTTPConnection(HOST, port, timeout=30)
                try:
                    assert _get(connection) == 200
                    break
                except ConnectionRefusedError:
                    assert server.poll() is None and time.monotonic() < deadline
                    time.sleep(0.3)
            try:
                sock = connection.sock
                time.sleep(KEEP_ALIVE_PAUSE)
                # http.client does not reconnect: RemoteDisconnected if the server closed it
                assert _get(connection) == 200
                assert connection.sock is sock  # the same connection
            finally:
                connection.close()
        finally:
            server.terminate()
            server.wait(timeout=60)
