"""``make run`` and the Docker image: migrate the database, seed the demo once (development),
and serve the API, trusting proxy headers from ``KCBX_TRUSTED_PROXIES`` only.

Migrations run here, before the event loop starts, because Alembic's async env runs its own.
"""

from __future__ import annotations

import asyncio
import sys

import uvicorn
from pydantic import ValidationError

from app.context import AppContext
from app.core import logs
from app.db import migrations
from app.jobs import sim_clock
from app.seed.demo import OPS_MOBILE, seed_demo
from app.settings import Settings, get_settings


async def _seed(settings: Settings) -> None:
    ctx = AppContext.from_settings(settings)
    try:
        # A drill deployment seeds its demo at the simulated start (KCBX_SIMULATION_CLOCK_START).
        await sim_clock.attach(ctx)
        logins = await seed_demo(ctx)
    finally:
        await ctx.close()
    base = f"http://{settings.host}:{settings.port}"
    if logins is None:
        print(f"演示数据已存在 (demo data already there). 运维账号 {OPS_MOBILE}")
    else:
        print("已创建演示数据 (demo created). 登录账号 (sign-ins):")
        for login in logins:
            print(f"  {login.mobile}  {login.name:<6} {login.role}")
    print(f"密码 (password): {settings.demo_password}")
    print(f"API 文档 (docs): {base}/docs  —  POST {base}/api/v1/auth/token")


def main() -> None:
    try:
        settings = get_settings()
    except ValidationError as exc:
        # Refusing to start is the point (demo secret or data outside development): say why.
        reasons = "; ".join(str(e["msg"]) for e in exc.errors())
        sys.exit(f"配置不安全,拒绝启动 (refusing to start): {reasons}")
    logs.configure(settings.log_format, settings.log_level, unless_set=True)
    migrations.upgrade(settings.database_url)
    if settings.seed_demo:
        asyncio.run(_seed(settings))
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        # X-Forwarded-For/-Proto believed from these only (the throttle reads the same list).
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
        log_config=logs.config(settings.log_format, settings.log_level),
    )


if __name__ == "__main__":
    main()
