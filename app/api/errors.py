"""Maps service errors to HTTP answers: 404/409/403/401 with ``detail``, 422 in FastAPI's
own shape (a list of ``{loc, msg, type}``) so clients parse one format."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.errors import AppError, Invalid, TooManyRequests, Unauthorized


async def _app_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    if isinstance(exc, Invalid):
        detail = [{"loc": list(p.loc), "msg": p.msg, "type": p.type} for p in exc.problems]
        return JSONResponse({"detail": detail}, status_code=422)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
