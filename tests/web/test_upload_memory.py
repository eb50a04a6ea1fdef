"""End to end: a 50 MB upload through uvicorn, Starlette and the helper, measured from outside.

The app runs in its own process (``uvicorn``), so its peak resident memory (``VmHWM``) can be
read from ``/proc`` without the test client's own buffers getting in the way. The request body
is generated on the fly and sent chunked, so the client never holds it either.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Organisation
from joinedup.config import Settings
from joinedup.home import init_home
from tests.web.conftest import add_accounts

pytestmark = pytest.mark.slow

MIB = 1024 * 1024
FILE_BYTES = 50 * MIB
BOUNDARY = "joinedup-memory-test"
SERVER = """
import sys, uvicorn
from joinedup.config import load_settings
from joinedup.web.app import create_app
uvicorn.run(create_app(load_settings()), host="127.0.0.1", port=int(sys.argv[1]),
            log_level="warning", access_log=False)
"""


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{key} not in /proc/{pid}/status")


def _reset_peak(pid: int) -> None:
    """Reset the process's peak resident memory (VmHWM) to its current size (Linux 4.0+)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pytest.skip("cannot reset the server's peak memory (/proc/<pid>/clear_refs)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _body(size: int, standard: str) -> Iterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="standard"\r\n\r\n{standard}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    yield b"source_record_id,given_name,family_name,date_of_birth,postcode\n"
    line = b"P0000001,Ann,Smith,1980-01-02,SW1A 1AA\n"
    block = line * (64 * 1024 // len(line))
    sent = 0
    while sent + len(block) <= size:
        yield block
        sent += len(block)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int, Settings, str]]:
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to read the server's memory")
    settings = Settings(home=tmp_path / "home", max_upload_bytes=FILE_BYTES + 10 * MIB)
    init_home(settings)
    with session_scope(settings) as session:
        session.add(Organisation(code="lambeth", name="Lambeth", gss_code="E09000022"))
    accounts = add_accounts(settings, ("lam-owner",))
    token = accounts.token("lam-owner", ("ingest",))
    port = _free_port()
    env = {
        **os.environ,
        "JOINEDUP_HOME": str(settings.home),
        "JOINEDUP_MAX_UPLOAD_BYTES": str(settings.max_upload_bytes),
    }
    env.pop("JOINEDUP_DATABASE_URL", None)
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # generous: CI machines are loaded
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the app did not start under uvicorn")
            time.sleep(0.1)
        yield url, process.pid, settings, token
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_50_mb_upload_does_not_grow_the_server_by_its_size(
    server: tuple[str, int, Settings, str],
) -> None:
    url, pid, settings, token = server
    endpoint = f"{url}/api/v1/datasets/lambeth/people/versions"
    headers = {
        "content-type": f"multipart/form-data; boundary={BOUNDARY}",
        "authorization": f"Bearer {token}",
    }
    with httpx.Client(timeout=120) as client:
        # Warm up every code path on a small body first.
        warm = client.post(endpoint, content=_body(MIB, "nonsense"), headers=headers)
        assert warm.status_code == 422
        # Start the peak from now: an argon2 hash (sign-in's module makes one when imported)
        # takes 64 MiB for a moment, which is not the upload's doing.
        _reset_peak(pid)
        before = _status_kib(pid, "VmRSS")
        # The standard is invalid, so the whole body is streamed and checked, then refused
        # before any ingest runs: what is measured is the upload path alone.
        response = client.post(endpoint, content=_body(FILE_BYTES, "nonsense"), headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "standard"]
    peak = _status_kib(pid, "VmHWM")
    growth_mib = (peak - before) / 1024
    assert growth_mib < 20, f"the server grew by {growth_mib:.1f} MiB for a 50 MiB upload"
    assert list(settings.uploads_dir.iterdir()) == []
