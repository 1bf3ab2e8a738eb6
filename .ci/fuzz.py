"""Schemathesis over the whole OpenAPI, against a live server, as two roles.

    python .ci/fuzz.py [--database-url URL] [--max-examples N] [--max-time S]

Starts ``python -m app.cli.serve`` (migrations + the demo seed) on a free 127.0.0.1 port,
signs in as the demo's head teacher and county admin, and runs ``schemathesis run`` once per
role with the checks ``not_a_server_error`` and ``response_schema_conformance``. The head
teacher goes first: the county admin's run may change that teacher's password or deactivate
them. Prints one figure line per role (operations, test cases, failures) and exits non-zero
when a run found any failure or could not run. Cases that would change the signed-in
person's own staff record are dropped (.ci/fuzz_hooks.py): they would end the session.

Without ``--database-url`` the server uses a fresh SQLite file in a temporary folder. A
PostgreSQL URL must name a database the script may drop and recreate (CI uses ``fuzz``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The demo seed's sign-ins (app/seed/demo.py): staff are created in this order.
ROLES = (("head_teacher", "13800000005"), ("county_admin", "13800000001"))
DEMO_PASSWORD = "demo1234"
CHECKS = "not_a_server_error,response_schema_conformance"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _recreate_pg(url: str) -> None:
    import asyncio

    import asyncpg

    parts = urllib.parse.urlsplit(url.replace("+asyncpg", ""))
    name = parts.path.lstrip("/")
    if name in ("", "test", "postgres") or not re.fullmatch(r"\w+", name):
        sys.exit(f"refusing to drop database {name!r}: give the fuzz run its own")

    async def recreate() -> None:
        conn = await asyncpg.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password,
            database="postgres",
        )
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(recreate())


def _wait_ready(base: str, server: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server exited with {server.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    sys.exit("the server was not ready in time")


def _token(base: str, mobile: str) -> tuple[str, int]:
    """A bearer token for the demo sign-in, and the staff id it belongs to."""
    form = urllib.parse.urlencode({"username": mobile, "password": DEMO_PASSWORD}).encode()
    req = urllib.request.Request(f"{base}/api/v1/auth/token", data=form, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        token = str(json.load(r)["access_token"])
    me = urllib.request.Request(f"{base}/api/v1/auth/me")
    me.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(me, timeout=30) as r:
        return token, int(json.load(r)["id"])


def _run_role(
    base: str, role: str, login: tuple[str, int], args: argparse.Namespace, out: Path
) -> tuple[int, str]:
    token, staff_id = login
    junit = out / f"{role}.xml"
    cmd = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{base}/openapi.json",
        "--checks",
        CHECKS,
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        str(args.max_examples),
        "--max-time",
        str(args.max_time),
        "--phases",
        "examples,coverage,fuzzing",
        # One worker: hypothesis' lambda descriptions are not thread-safe (a spurious
        # "AST constructor recursion depth mismatch" runtime error with two).
        "--workers",
        "1",
        "--seed",
        str(args.seed),
        "--suppress-health-check",
        "all",
        "--request-timeout",
        "30",
        "--report",
        "junit",
        "--report-junit-path",
        str(junit),
        "--output-truncate",
        "true",
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": str(ROOT / ".ci" / "fuzz_hooks.py"),
        "FUZZ_OWN_STAFF_ID": str(staff_id),
    }
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=out, env=env)
    log = out / f"{role}.log"
    log.write_text(proc.stdout + proc.stderr, encoding="utf-8")
    cases = re.search(r"Test cases:\s*\n\s*(.+)", proc.stdout)
    tested = re.search(r"Tested:\s*(\d+)", proc.stdout)
    failures = re.findall(r"❌ (ST\d+ [^:\n]+): (\d+)", proc.stdout)
    line = (
        f"operations tested: {tested.group(1) if tested else '?'}; "
        f"test cases: {cases.group(1).strip() if cases else '?'}; "
        f"failures: {', '.join(f'{name} {n}' for name, n in failures) or 'none'}"
    )
    code = proc.returncode
    # Schemathesis also exits 1 when its own generator crashes (hypothesis's engine raising
    # inside hypothesis/internal, e.g. "Index 75 out of range" while shrinking): that says
    # nothing about the API. With no check failed and no other error, it is reported, not
    # failed; any failed check, server error or other runtime error still fails the run.
    runtime = re.findall(r"🚫 Runtime Error: (\d+)", proc.stdout)
    other_errors = re.findall(r"🚫 (?!Runtime Error)([^:\n]+): (\d+)", proc.stdout)
    internal = "hypothesis/internal" in proc.stdout or "schemathesis/generation" in proc.stdout
    if code and not failures and runtime and not other_errors and internal:
        line += f"; the fuzzer's own runtime errors (not the API's): {runtime[0]} (see {log})"
        code = 0
    if code:
        line += "\n" + proc.stdout[-4000:]
    return code, line


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--max-time", type=int, default=120, help="seconds per role")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--out", default=str(ROOT / "build" / "fuzz"))
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="kcbx-fuzz-"))
    url = args.database_url or f"sqlite+aiosqlite:///{tmp}/fuzz.db"
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    if dialect == "postgresql":
        _recreate_pg(url)
    out = Path(args.out) / dialect
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    port = _free_port()
    env = {
        **os.environ,
        "KCBX_DATABASE_URL": url,
        "KCBX_ENVIRONMENT": "development",
        "KCBX_SEED_DEMO": "true",
        "KCBX_HOST": "127.0.0.1",
        "KCBX_PORT": str(port),
        "KCBX_DEMO_PASSWORD": DEMO_PASSWORD,
    }
    base = f"http://127.0.0.1:{port}"
    server_log = (out / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli.serve"],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    failed: list[str] = []
    try:
        _wait_ready(base, server)
        logins = {role: _token(base, mobile) for role, mobile in ROLES}
        for role, _mobile in ROLES:
            started = time.monotonic()
            code, text = _run_role(base, role, logins[role], args, out)
            took = time.monotonic() - started
            verdict = "ok" if code == 0 else f"FAILED (exit {code})"
            print(f"fuzz {dialect} {role}: {verdict} in {took:.0f}s — {text}", flush=True)
            if code:
                failed.append(role)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        server_log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    log = (out / "server.log").read_text(encoding="utf-8", errors="replace")
    # A request that raised (uvicorn logs it): schemathesis saw its 500 too.
    errors = log.count("Exception in ASGI application")
    # Not failures of this run, but reported: a background job's errors (the engine meeting
    # the fuzzer's data), and last-resort 422s (app/api/guards.py), each naming a missing bound.
    background = log.count("Traceback") - errors
    last_resort = log.count("last-resort 422")
    print(
        f"fuzz {dialect}: requests that raised: {errors}; other tracebacks (background jobs,"
        f" access log): {background}; last-resort 422s: {last_resort}; logs in {out}"
    )
    if failed or errors:
        sys.exit(f"fuzz {dialect}: failures for {', '.join(failed) or 'none'}")


if __name__ == "__main__":
    main()
