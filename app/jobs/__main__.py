"""``python -m app.jobs``: the engine as its own process, beside API workers that run with
``KCBX_ENGINE_IN_PROCESS=false``. Two or more may run against one PostgreSQL: deadlines are
claimed with SKIP LOCKED, so each fires once."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

from prometheus_client import start_http_server

from app.context import AppContext
from app.core import logs
from app.db import migrations
from app.jobs import sim_clock
from app.jobs.runner import EngineRunner
from app.settings import get_settings


async def _run() -> None:
    ctx = AppContext.from_settings(get_settings())
    await sim_clock.attach(ctx)  # drills: the deployment's clock, from the database
    runner = EngineRunner(ctx)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # What is built by now (modules, settings, pools) lives as long as the process: frozen
    # out of the collector's sight, each full collection while a backlog drains scans only
    # what the sweep allocates, not every object of the process again.
    gc.collect()
    gc.freeze()
    runner.start()
    logging.getLogger("kcbx.engine").info("engine running")
    await stop.wait()
    await runner.stop()
    await ctx.close()


def main() -> None:
    settings = get_settings()
    logs.configure(settings.log_format, settings.log_level)
    if settings.engine_metrics_port is not None:
        # This process's counters (fired, lateness, deliveries): an internal port, no token.
        start_http_server(settings.engine_metrics_port, addr=settings.host)
    migrations.upgrade(settings.database_url)
    asyncio.run(_run())


if __name__ == "__main__":
    main()
