"""``python -m app.jobs``: the engine as its own process, beside API workers that run with
``KCBX_ENGINE_IN_PROCESS=false``. Two or more may run against one PostgreSQL: deadlines are
claimed with SKIP LOCKED, so each fires once."""

from __future__ import annotations

import asyncio
import logging
import signal

from app.context import AppContext
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
    runner.start()
    logging.getLogger("kcbx.engine").info("engine running")
    await stop.wait()
    await runner.stop()
    await ctx.close()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    migrations.upgrade(get_settings().database_url)
    asyncio.run(_run())


if __name__ == "__main__":
    main()
