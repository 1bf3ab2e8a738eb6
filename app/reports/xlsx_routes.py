"""Every report that answers JSON or, with ``format=xlsx``, an Excel file also has an XLSX twin
at ``<path>.xlsx``: one operation, one answer type. A client generator makes one function per
operation and parses one body per status, so ``?format=xlsx`` on the JSON operation would hand
it bytes it tries to read as JSON; the twin's function returns the file.

The twins are built here from the routers' own routes (no router changes): the same endpoint
called with ``format=xlsx``; the JSON operation's document no longer offers ``format``
(app/api/contract.py), though the parameter still works for existing callers."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any, get_type_hints

from fastapi import APIRouter
from fastapi.responses import Response
from fastapi.routing import APIRoute

from app.core.report_files import ReportFormat
from app.core.xlsx import XLSX_MEDIA_TYPE

SUFFIX = ".xlsx"
BINARY = {"type": "string", "format": "binary"}


def _takes_format(route: APIRoute) -> bool:
    return "GET" in (route.methods or ()) and any(
        p.alias == "format" for p in route.dependant.query_params
    )


def _as_xlsx(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    hints = get_type_hints(endpoint, include_extras=True)
    signature = inspect.signature(endpoint)
    params = [
        p.replace(annotation=hints.get(name, p.annotation))
        for name, p in signature.parameters.items()
        if name != "format"
    ]

    @functools.wraps(endpoint)
    async def xlsx(**kwargs: Any) -> Any:
        return await endpoint(**kwargs, format=ReportFormat.xlsx)

    xlsx.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=params, return_annotation=Response
    )
    xlsx.__annotations__ = {}
    del xlsx.__wrapped__  # FastAPI must read this signature, not the endpoint's
    return xlsx


def xlsx_twins(routers: Iterable[APIRouter]) -> APIRouter:
    twins = APIRouter()
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute) or not _takes_format(route):
                continue
            twins.add_api_route(
                route.path + SUFFIX,
                _as_xlsx(route.endpoint),
                methods=["GET"],
                name=f"{route.name}_xlsx",
                tags=list(route.tags),
                summary=f"{route.summary or route.name}(Excel 文件 XLSX)",
                description=f"与 `GET {route.path}` 相同的内容,为 Excel 文件 "
                f"(the same report as an XLSX download).\n\n{route.description or ''}",
                response_model=None,
                response_class=Response,
                responses={
                    200: {
                        "description": "Excel 文件 (an XLSX workbook)",
                        "content": {XLSX_MEDIA_TYPE: {"schema": BINARY}},
                    }
                },
            )
    return twins
