"""The engine process starts under its name, ``python -m app.jobs``, and under the name
deployments used before the move, ``python -m app.alerts``; it stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", ["app.jobs", "app.alerts"])
def test_the_engine_process_runs_and_stops_on_sigterm(module: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCBX_")}
    env.update(
        KCBX_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'engine.db'}",
        KCBX_ENVIRONMENT="test",
        KCBX_ENGINE_POLL_SECONDS="0.2",
        KCBX_SEED_DEMO="false",
    )
    log = tmp_path / "engine.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", module], cwd=ROOT, env=env, stdout=out, stderr=out
        )
        try:
            deadline = time.monotonic() + 60
            while "engine running" not in log.read_text() and time.monotonic() < deadline:
                assert proc.poll() is None, log.read_text()
                time.sleep(0.1)
            assert "engine running" in log.read_text(), log.read_text()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0, log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
