"""The service's own processes, started as a deployment starts them, each in a process group of
its own so a finaliser can always end it (and anything it started)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.faults.cluster import free_port

ROOT = Path(__file__).resolve().parents[2]


def clean_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a child: ours without any KCBX_/database variable a developer or CI
    may have set (never the shared server), then the suite's database and settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KCBX_") and k not in ("DATABASE_URL", "TEST_DATABASE_URL")
    }
    env.update(
        KCBX_DATABASE_URL=database_url,
        KCBX_ENVIRONMENT="test",
        KCBX_SEED_DEMO="false",
        PYTHONUNBUFFERED="1",
    )
    env.update({f"KCBX_{k.upper()}": v for k, v in settings.items()})
    return env


LIVE: set[Service] = set()  # started and not yet cleaned up: the SIGTERM handler ends them


class Service:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            out.write(f"--- start {self.name} {time.strftime('%H:%M:%S')}\n".encode())
            self.proc = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        LIVE.add(self)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """``kill -9`` of the process itself, as a crash or the OOM killer would."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.kills += 1

    def pause(self) -> None:
        """SIGSTOP: the process stands still (a harness control, not the fault)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def cleanup(self) -> None:
        LIVE.discard(self)
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=30)

    def tail(self, n: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""


class Api(Service):
    """``make run``'s entry point (``python -m app.cli.serve``: migrate, then uvicorn)."""

    def __init__(self, database_url: str, log: Path, *, engine_in_process: bool, **settings: str):
        self.port = free_port()
        env = clean_env(
            database_url,
            host="127.0.0.1",
            port=str(self.port),
            engine_in_process="true" if engine_in_process else "false",
            engine_poll_seconds="0.2",
            **settings,
        )
        super().__init__("api", [sys.executable, "-m", "app.cli.serve"], env, log)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def wait_ready(self, within: float = 90) -> float:
        """Poll ``/readyz`` until it answers 200; the seconds it took."""
        t0 = time.monotonic()
        async with httpx.AsyncClient(timeout=5) as c:
            while True:
                if not self.alive:
                    raise AssertionError(f"the API exited:\n{self.tail()}")
                try:
                    if (await c.get(f"{self.url}/readyz")).status_code == 200:
                        return time.monotonic() - t0
                except httpx.TransportError:
                    pass
                if time.monotonic() - t0 > within:
                    raise AssertionError(f"the API was not ready within {within} s:\n{self.tail()}")
                await asyncio.sleep(0.2)


class Engine(Service):
    """``python -m app.jobs``: the engine process beside API workers."""

    def __init__(self, name: str, database_url: str, log: Path, **settings: str) -> None:
        env = clean_env(database_url, engine_poll_seconds="0.2", **settings)
        super().__init__(name, [sys.executable, "-m", "app.jobs"], env, log)

    async def wait_ready(self, within: float = 90) -> float:
        """Until this run of the process has logged that it is running."""
        t0 = time.monotonic()
        marker = f"--- start {self.name}"
        while True:
            text = self.log_text()
            if "engine running" in text[text.rfind(marker) :]:
                return time.monotonic() - t0
            if not self.alive:
                raise AssertionError(f"engine {self.name} exited:\n{self.tail()}")
            if time.monotonic() - t0 > within:
                raise AssertionError(f"engine {self.name} not running within {within} s")
            await asyncio.sleep(0.1)


def local_tcp_ports(pid: int) -> set[int]:
    """The local ports of the TCP sockets process ``pid`` holds (from /proc): which database
    sessions are its (``pg_stat_activity.client_port``)."""
    inodes: set[str] = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        return set()
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 9 and parts[9] in inodes:
                ports.add(int(parts[1].rsplit(":", 1)[1], 16))
    return ports
