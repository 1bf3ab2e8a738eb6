"""Every 4xx answers one shape: an RFC 9457 problem document (app/schemas/problems.py), from
service errors, FastAPI's validation, and Starlette's HTTP errors (unknown path, 405, …)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import AppError, Invalid, RateLimited, Unauthorized
from app.schemas.problems import PROBLEM_MEDIA_TYPE, code_of, problem_type, title_of


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


def _summary(errors: list[dict[str, Any]]) -> str:
    first = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:3])
    more = f" (+{len(errors) - 3})" if len(errors) > 3 else ""
    return f"请求内容有误 (invalid request): {first}{more}"


def validation_problem(errors: list[dict[str, Any]]) -> JSONResponse:
    return problem_response(422, _summary(errors), "validation_failed", errors=errors)


async def _app_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    if isinstance(exc, Invalid):
        errors = [{"loc": list(p.loc), "msg": p.msg, "type": p.type} for p in exc.problems]
        return problem_response(422, _summary(errors), exc.code, errors=errors)
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


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
