"""Liveness (``/healthz``: the process answers) and readiness (``/readyz``: the database is
reachable and the migrations are at head)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.deps import Ctx
from app.db.migrations import current_revision, head_revision

router = APIRouter(tags=["运维 Operations"])


@router.get("/healthz", summary="进程存活 (liveness)")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


_READINESS = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["ready", "not ready"]},
        "checks": {"type": "object", "additionalProperties": True},
    },
    "required": ["status", "checks"],
}


@router.get(
    "/readyz",
    summary="可以服务 (readiness): database reachable, migrations at head",
    responses={
        200: {"content": {"application/json": {"schema": _READINESS}}},
        503: {
            "description": "not ready; the body says why",
            "content": {"application/json": {"schema": _READINESS}},
        },
    },
)
async def readyz(ctx: Ctx) -> JSONResponse:
    checks: dict[str, object] = {}
    try:
        async with ctx.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except (SQLAlchemyError, OSError) as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    current, head = await current_revision(ctx.engine), head_revision()
    checks["migrations"] = {"current": current, "head": head}
    ready = checks["database"] == "ok" and current == head
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )
