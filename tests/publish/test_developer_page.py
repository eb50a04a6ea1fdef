"""The developer page's examples work as shown: every curl, ckanapi (Python) and ckanapi
command example on ``/open-data/developers`` is run, as the page shows it, against a live
uvicorn server on 127.0.0.1."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.publish.server import serve
from tests.regions import Region

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page(demo_home: Region) -> Iterator[tuple[str, dict[str, list[str]]]]:
    with serve(demo_home.settings) as site:
        answer = httpx.get(f"{site}/open-data/developers")
        assert answer.status_code == 200
        found: dict[str, list[str]] = {}
        for kind, code in re.findall(r'<code data-example="(\w+)">(.*?)</code>', answer.text, re.S):
            found.setdefault(kind, []).append(html.unescape(code))
        yield site, found


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, cwd=cwd, env=env
    )


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_curl_examples_work(page, tmp_path: Path) -> None:
    site, examples = page
    assert len(examples["curl"]) >= 6
    for code in examples["curl"]:
        assert site in code  # the page shows this server's own address
        done = _run(["bash", "-c", code], tmp_path)
        assert done.returncode == 0, (code, done.stderr)
        if "/api/3/action/" in code:
            assert json.loads(done.stdout)["success"] is True, (code, done.stdout[:500])
        elif code.startswith("curl -sI"):
            assert done.stdout.startswith("HTTP/1.1 200") and "etag:" in done.stdout.lower()
        else:
            assert "dcat:Dataset" in done.stdout


def test_the_ckanapi_examples_work(page, tmp_path: Path) -> None:
    _, examples = page
    assert len(examples["python"]) == 2
    for code in examples["python"]:
        done = _run([sys.executable, "-c", code], tmp_path)
        assert done.returncode == 0, (code, done.stderr)
        assert done.stdout.strip()
    for code in examples["cli"]:
        done = _run(code.split(), tmp_path)
        assert done.returncode == 0, (code, done.stderr)
    dumped = (tmp_path / "datasets.jsonl").read_text().splitlines()
    assert len(dumped) == 3 and all(json.loads(line)["resources"] for line in dumped)
