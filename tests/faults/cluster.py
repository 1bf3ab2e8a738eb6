"""A throw-away PostgreSQL cluster for the fault suite: ``initdb`` in a temp dir, ``pg_ctl`` on a
free port of 127.0.0.1 — never the shared server on 5432, which the suite may stop and start.

initdb and the server refuse to run as root (CI runs as root), so there they run as the
``postgres`` OS user (``runuser -u postgres --``) in a temp dir that user owns. ``fsync=off``:
the suite kills the postmaster, not the machine, so the WAL in the page cache survives and crash
recovery still runs on every restart, at a fraction of the cost on a loaded 2-core machine.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_bindir() -> Path | None:
    """The newest PostgreSQL server binaries installed (Debian's layout), or None."""
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    found = [p for p in found if (p / "initdb").exists() and (p / "postgres").exists()]
    return found[-1] if found else None


OWNER = "owner.pid"  # the pytest process a cluster belongs to


def remove_stale(prefix: str = "kcbx-faults-pg-") -> int:
    """Clusters left by an earlier run that was killed outright (its owner is gone): stop and
    delete them, so a hard timeout in CI does not leave postmasters behind. Returns how many."""
    removed = 0
    for root in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        try:
            owner = int((root / OWNER).read_text())
            os.kill(owner, 0)
            continue  # its run is still going
        except ProcessLookupError:
            pass
        except PermissionError:
            continue  # alive, someone else's
        except (OSError, ValueError):
            if not (root / "data").exists():
                shutil.rmtree(root, ignore_errors=True)
                continue
        pid_file = root / "data" / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)
        removed += 1
    return removed


class PgCluster:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="kcbx-faults-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        (self.root / OWNER).write_text(str(os.getpid()))
        if self.as_root:
            pg = pwd.getpwnam("postgres")
            os.chown(self.root, pg.pw_uid, pg.pw_gid)
        self.stops = 0

    def _run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / argv[0]), *argv[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=self.root, check=False
        )

    def _checked(self, *argv: str, timeout: float = 120) -> None:
        got = self._run(*argv, timeout=timeout)
        if got.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} failed ({got.returncode}): {got.stderr or got.stdout}\n"
                f"{self.log_tail()}"
            )

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self._checked(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root}"
            " -c max_connections=300 -c fsync=off -c full_page_writes=off"
        )
        self._checked(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "120",
            "-o", options, "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """``immediate`` is a crash: no checkpoint, recovery from the WAL at the next start."""
        self.stops += 1
        self._checked("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status").returncode == 0

    def wait_ready(self, within: float = 60) -> None:
        give_up = time.monotonic() + within
        while time.monotonic() < give_up:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL not accepting connections:\n{self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def destroy(self) -> None:
        """Stop whatever is left (a failed ``pg_ctl`` too: the pid file names the postmaster)
        and remove the directory."""
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
            pid_file = self.data / "postmaster.pid"
            if pid_file.exists():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)
