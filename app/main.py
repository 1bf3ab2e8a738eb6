"""The FastAPI application."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import Depends, FastAPI

from app.access_logs import routes as access_logs
from app.access_logs.middleware import AccessLogMiddleware
from app.alerts import case_routes as cases
from app.alerts import partial_days_routes as left_school
from app.alerts import policy_routes as alert_policies
from app.api import contract, errors, guards, headers, openapi
from app.api import health_routes as health
from app.api.dates import strict_query_dates
from app.api.request_id import RequestIdMiddleware
from app.attendance import leaves_routes as leaves
from app.attendance import routes as attendance
from app.calendar import routes as calendar
from app.casework import care_routes as care
from app.casework import return_notices_routes as legal
from app.casework import routes as casework
from app.casework import township_routes as township
from app.console import docs as console_docs
from app.console import routes as console
from app.context import AppContext
from app.core import logs
from app.delivery import inbox_routes as inbox
from app.delivery import routes as delivery
from app.guardians import account_routes as guardian_accounts
from app.guardians import routes as guardians
from app.illness import routes as illness
from app.jobs import routes as engine_jobs
from app.jobs import sim_clock
from app.jobs.runner import EngineRunner
from app.jobs.sim_clock_middleware import SimClockMiddleware
from app.org import auth_routes as auth
from app.org import counties_routes as counties
from app.org import schools_routes as schools
from app.org import staff_routes as staff
from app.reports import absence_trend_routes as absence_trend
from app.reports import bulletin_routes as reports
from app.reports import early_warning_routes as early_warning
from app.reports import ledgers_routes as ledgers
from app.reports import monthly_report_routes as monthly_reports
from app.reports import reviews_routes as reviews
from app.reports import school_age_routes as school_age
from app.reports.xlsx_routes import xlsx_twins
from app.roster import enrollment_routes as enrollment_changes
from app.roster import imports_routes as imports
from app.roster import onboarding_routes as onboarding
from app.roster import students_routes as students
from app.seed.demo import refuse_demo_in_production
from app.settings import Settings, get_settings
from app.transfers import routes as transfers

DESCRIPTION = """
控辍保学 KCBX(辍学预防)后台:一日三查考勤、缺勤预警、劝返复学。

Sign in with **POST /api/v1/auth/token** (username = 手机号) and use the bearer token, or send
a county system's key as `X-API-Key`. Every object outside the caller's scope answers 404.

Every 4xx is an RFC 9457 problem document (`application/problem+json`) with a stable `code`;
a 422 lists its fields in `errors`. Generated Python client: package `kcbx_client`.
"""


# Attendance first: routes are matched in order and the roll is by far the busiest.
ROUTE_MODULES = (
    attendance,
    health,
    auth,
    counties,
    schools,
    students,
    staff,
    imports,
    onboarding,
    calendar,
    leaves,
    alert_policies,
    engine_jobs,
    cases,
    left_school,
    casework,
    legal,
    township,
    transfers,
    enrollment_changes,
    care,
    inbox,
    delivery,
    reports,
    absence_trend,
    reviews,
    early_warning,
    ledgers,
    monthly_reports,
    school_age,
    access_logs,
    guardians,
    guardian_accounts,
    illness,
)


def create_app(ctx: AppContext | None = None, settings: Settings | None = None) -> FastAPI:
    """``ctx`` is injected by tests; otherwise it is built from the settings at start-up."""
    app = FastAPI(
        title=contract.API_TITLE,
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=_lifespan(ctx, settings),
        generate_unique_id_function=contract.unique_id,
        dependencies=[Depends(strict_query_dates)],
        docs_url=None,  # served from the package's own files (app/console/docs.py)
        redoc_url=None,
    )
    if ctx is not None:
        app.state.ctx = ctx
    _install_plumbing(app)
    _include_routes(app)
    return app


def _lifespan(
    ctx: AppContext | None, settings: Settings | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start-up and shutdown: an injected ``ctx`` is the caller's (nothing started, nothing
    closed); otherwise the context is built from the settings, logging configured, the demo
    refused in production, the simulation clock attached, the engine started in the process
    when configured, and all of it closed at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = ctx is None
        app.state.ctx = ctx or AppContext.from_settings(settings or get_settings())
        if own:
            s = app.state.ctx.settings
            logs.configure(s.log_format, s.log_level)  # whatever server runs the app
            await refuse_demo_in_production(app.state.ctx)
            await sim_clock.attach(app.state.ctx)
        runner = None
        if own and app.state.ctx.settings.engine_in_process:
            runner = EngineRunner(app.state.ctx)
            runner.start()
        if own:
            # What start-up built lives as long as the process: out of the collector's sight,
            # each full collection no longer walks it (1-2 ms of every roll batch otherwise).
            gc.freeze()
        try:
            yield
        finally:
            if runner is not None:
                await runner.stop()
            if own:
                await app.state.ctx.close()

    return lifespan


def _install_plumbing(app: FastAPI) -> None:
    """Errors, the OpenAPI document and the middleware, innermost first."""
    errors.install(app)
    openapi.install(app)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(SimClockMiddleware)
    app.add_middleware(RequestIdMiddleware)  # the log lines of the request name it
    guards.install(app)  # outermost: a body over the cap is refused before anything reads it
    headers.install(app)  # around all: nosniff, no-store, HSTS, CORS on every answer


def _include_routes(app: FastAPI) -> None:
    """Every feature's routes in ``ROUTE_MODULES`` order, their XLSX twins, then the docs
    and the console."""
    for module in ROUTE_MODULES:
        app.include_router(module.router)
    app.include_router(xlsx_twins(module.router for module in ROUTE_MODULES))
    console_docs.install(app)  # /, /docs, /redoc and /static: no external URL
    app.include_router(console.router)
