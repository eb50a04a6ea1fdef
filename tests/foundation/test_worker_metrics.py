"""``joinedup worker`` as a deployment runs it: its own metrics listener
(``JOINEDUP_METRICS_BIND``) shows the jobs it ran, and it logs one JSON line per job."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from joinedup.config import Settings
from joinedup.jobs.runner import get_job, submit

JOINEDUP = Path(sys.executable).parent / "joinedup"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _jobs_done(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "joinedup_job_duration_seconds_count"
        and s.labels == {"kind": "store.verify", "outcome": "succeeded"}
    )


def test_a_worker_serves_its_metrics_and_logs_its_jobs(
    home_settings: Settings, tmp_path: Path
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "JOINEDUP_HOME": str(home_settings.home),
        "JOINEDUP_SECRET_KEY": home_settings.secret_key,
        "JOINEDUP_METRICS_BIND": f"127.0.0.1:{port}",
    }
    env.pop("JOINEDUP_DATABASE_URL", None)
    log = tmp_path / "worker.log"
    with log.open("w") as stderr:
        worker = subprocess.Popen(
            [str(JOINEDUP), "worker", "--poll", "0.2"], env=env, stderr=stderr, cwd=tmp_path
        )
        try:
            job_id = submit(home_settings, "store.verify", {})
            deadline = time.monotonic() + 120
            done = 0.0
            while time.monotonic() < deadline:
                try:
                    done = _jobs_done(port)
                except OSError:  # the listener is not up yet
                    done = 0.0
                if done >= 1:
                    break
                time.sleep(0.2)
            assert done == 1
            assert get_job(home_settings, job_id).status == "succeeded"
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    jobs = [line for line in lines if line["message"] == "job"]
    assert [(j["job_id"], j["kind"], j["outcome"]) for j in jobs] == [
        (job_id, "store.verify", "succeeded")
    ]
