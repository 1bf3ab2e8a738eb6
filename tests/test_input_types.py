"""Every request body field uses the shared bounded types (app/core/types.py), so a new
endpoint cannot bring back a 500 for a NUL byte, an id beyond int32 or a date in year 9999."""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute
from pydantic import AwareDatetime, BaseModel, NaiveDatetime

from app.api import openapi
from app.core import text
from app.core import types as common
from app.main import create_app

# Fields whose own validator already refuses control characters (a pattern, a check
# character), or that never reach the database or an export (passwords, signing secrets),
# or the OAuth2 form (checked by the request guard: tests/test_hostile_input.py).
CHECKED_OTHERWISE = {
    "mobile",
    "password",
    "secret",
    "id_number",
    "student_no",
    "timezone",
    "client_id",
    "client_secret",
    "grant_type",
    "scope",
    "username",
}
TEXT_CHECKS = {text.check_line, text.check_text}
# pydantic's AwareDatetime is a class of its own, not a datetime: both are looked for.
DATETIMES = {dt.datetime, AwareDatetime, NaiveDatetime}


def _metadata(annotation: Any, out: list[Any]) -> None:
    if typing.get_origin(annotation) is typing.Annotated:
        for item in annotation.__metadata__:
            out.append(item)
            out.extend(getattr(item, "metadata", []))  # a FieldInfo's constraints
        _metadata(annotation.__origin__, out)
    for arg in typing.get_args(annotation):
        _metadata(arg, out)


def _bases(annotation: Any, out: set[Any]) -> None:
    if typing.get_origin(annotation) is typing.Annotated:
        _bases(annotation.__origin__, out)
    elif typing.get_origin(annotation) is None and isinstance(annotation, type):
        out.add(annotation)
    for arg in typing.get_args(annotation):
        _bases(arg, out)


def _routes(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from _routes(inner.routes) if inner is not None else [route]


def _body_models() -> set[type[BaseModel]]:
    app = create_app()
    app.openapi()
    # Bodies the routers read themselves are documented through openapi.ref (with answers).
    models = {m for name, m in openapi._MODELS.items() if name.endswith("In")}
    for route in _routes(app.routes):
        if isinstance(route, APIRoute) and route.body_field is not None:
            found: set[Any] = set()
            _bases(route.body_field.field_info.annotation, found)
            models |= {m for m in found if isinstance(m, type) and issubclass(m, BaseModel)}
    return models


def _problems(model: type[BaseModel], seen: set[type[BaseModel]], out: list[str]) -> None:
    if model in seen:
        return
    seen.add(model)
    for name, info in model.model_fields.items():
        meta = list(info.metadata)
        _metadata(info.annotation, meta)
        checks = {getattr(m, "func", None) for m in meta}
        bounded = any(getattr(m, "le", None) is not None for m in meta)
        instant = any(getattr(m, "ge", None) == common.INSTANT_MIN for m in meta) and any(
            getattr(m, "lt", None) == common.INSTANT_MAX for m in meta
        )
        bases: set[Any] = set()
        _bases(info.annotation, bases)
        where = f"{model.__name__}.{name}"
        for base in bases:
            if isinstance(base, type) and issubclass(base, BaseModel):
                _problems(base, seen, out)
            elif base is str and name not in CHECKED_OTHERWISE and not checks & TEXT_CHECKS:
                out.append(f"{where}: text without SafeLine/SafeText")
            elif base is dt.date and common._school_date not in checks:
                out.append(f"{where}: date without SchoolDate")
            elif base in DATETIMES and not instant:
                out.append(f"{where}: datetime without Instant")
            elif base is dt.time and common._local_time not in checks:
                out.append(f"{where}: time without LocalTime")
            elif base is int and name.endswith("_id") and not bounded:
                out.append(f"{where}: id without RefId")


def test_every_body_field_is_bounded() -> None:
    models = _body_models()
    assert len(models) > 30
    out: list[str] = []
    seen: set[type[BaseModel]] = set()
    for model in sorted(models, key=lambda m: m.__name__):
        _problems(model, seen, out)
    assert out == [], "\n".join(out)


def test_every_path_and_query_id_is_bounded() -> None:
    doc = create_app().openapi()
    loose = [
        (path, p["name"])
        for path, ops in doc["paths"].items()
        for op in ops.values()
        for p in op.get("parameters", [])
        if p["name"].endswith("_id")
        and p["in"] in ("path", "query")
        and not any(
            s.get("format") in ("int32", "int64")
            for s in [p["schema"], *p["schema"].get("anyOf", [])]
        )
    ]
    assert loose == []


def test_every_query_datetime_is_an_instant() -> None:
    found, loose = [], []
    for route in _routes(create_app().routes):
        if not isinstance(route, APIRoute):
            continue
        for param in route.dependant.query_params:
            bases: set[Any] = set()
            _bases(param.field_info.annotation, bases)
            if not bases & DATETIMES:
                continue
            meta = list(param.field_info.metadata)
            _metadata(param.field_info.annotation, meta)
            found.append((route.path, param.name))
            if not any(getattr(m, "ge", None) == common.INSTANT_MIN for m in meta):
                loose.append((route.path, param.name))
    assert ("/api/v1/access-logs", "since") in found
    assert loose == []
