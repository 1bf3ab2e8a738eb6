"""Every 4xx answers one shape: an RFC 9457 problem document (app/api/problems.py), from
service errors, FastAPI's validation, and Starlette's HTTP errors (unknown path, 405, …)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.problems import PROBLEM_MEDIA_TYPE, code_of, problem_type, title_of
from app.errors import AppError, Invalid, RateLimited, Unauthorized

log = logging.getLogger("kcbx.api")


def problem_body(status: int, detail: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    code = code or code_of(status)
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title_of(status),
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update(extra)
    return body


def problem_response(
    status: int,
    detail: str,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(
        jsonable_encoder(problem_body(status, detail, code, **extra)),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def field_errors(items: list[Any]) -> list[dict[str, Any]]:
    """FastAPI's error items reduced to the declared ``{loc, msg, type}`` (``input`` and
    ``ctx`` would echo what was sent, and the contract does not promise them)."""
    return [
        {"loc": list(item["loc"]), "msg": str(item["msg"]), "type": str(item["type"])}
        for item in items
    ]


def summary(errors: list[dict[str, Any]]) -> str:
    first = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:3])
    more = f" (+{len(errors) - 3})" if len(errors) > 3 else ""
    return f"请求内容有误 (invalid request): {first}{more}"


def validation_problem(errors: list[dict[str, Any]]) -> JSONResponse:
    return problem_response(422, summary(errors), "validation_failed", errors=errors)


async def _app_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    if isinstance(exc, Invalid):
        errors = [{"loc": list(p.loc), "msg": p.msg, "type": p.type} for p in exc.problems]
        return problem_response(422, summary(errors), exc.code, errors=errors)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        headers = {"Retry-After": str(exc.retry_after)}
    return problem_response(exc.status, exc.message, exc.code, headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return validation_problem(field_errors(list(exc.errors())))


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 422:  # a 422 always says where (the declared ValidationProblem)
        errors = [{"loc": ["body"], "msg": detail, "type": "value_error"}]
        return problem_response(422, detail, headers=exc.headers, errors=errors)
    return problem_response(exc.status_code, detail, headers=exc.headers)


# The database is away (restarting, failing over, refusing connections): the request changed
# nothing, and the client should try again shortly — 503 with Retry-After, never a 500.
_DB_AWAY = (OSError, ConnectionError, InterfaceError, OperationalError)


async def _database_away(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable for %s %s: %r", request.method, request.url.path, exc)
    return problem_response(
        503,
        "数据库暂不可用,请稍后重试 (database unavailable: retry shortly)",
        "service_unavailable",
        headers={"Retry-After": "5"},
    )


async def _dbapi_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if exc.connection_invalidated or _connection_lost(exc.orig):
        return await _database_away(request, exc)
    raise exc


def _connection_lost(orig: BaseException | None) -> bool:
    """SQLAlchemy's asyncpg adapter wraps the driver's error in its own ``Error``: look at
    the driver's error under it too, and at the SQLSTATE class (08 connection exception,
    57 operator intervention: shutting down, or still starting after a crash)."""
    for err in (orig, orig.__cause__ if orig is not None else None):
        if err is None:
            continue
        if isinstance(err, OSError | ConnectionError) or type(err).__name__ in _LOST_NAMES:
            return True
        code = str(getattr(err, "sqlstate", None) or getattr(err, "pgcode", None) or "")
        if code[:2] in ("08", "57") and code != "57014":  # 57014: a cancelled statement
            return True
    return False


# asyncpg's own names for a connection that went away (matched by name: no asyncpg import
# needed on SQLite deployments).
_LOST_NAMES = frozenset(
    {
        "ConnectionDoesNotExistError",
        "CannotConnectNowError",
        "ConnectionFailureError",
        "AdminShutdownError",
        "CrashShutdownError",
        "TooManyConnectionsError",
        "InterfaceError",
    }
)


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    for kind in _DB_AWAY:
        app.add_exception_handler(kind, _database_away)
    app.add_exception_handler(DBAPIError, _dbapi_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
