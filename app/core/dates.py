"""Dates are written ``YYYY-MM-DD``, nothing else: pydantic's lax mode would read ``0`` (or
``"0"``) as 1970-01-01, a Unix timestamp nobody at a school means. Models built on
``app.core.types.Schema`` refuse a number in a date field; query parameters are checked by
``app.api.dates``."""

from __future__ import annotations

import re
import types
from datetime import date, datetime
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MESSAGE = "应为 YYYY-MM-DD 格式的日期 (a date written YYYY-MM-DD)"


def is_date(annotation: Any) -> bool:
    """``date``, ``date | None`` or an ``Annotated`` date, but not a datetime."""
    if get_origin(annotation) is Annotated:
        return is_date(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return any(is_date(a) for a in get_args(annotation) if a is not type(None))
    return (
        isinstance(annotation, type)
        and issubclass(annotation, date)
        and not issubclass(annotation, datetime)
    )


def is_iso_text(value: object) -> bool:
    return isinstance(value, date) or (isinstance(value, str) and bool(ISO_DATE.match(value)))


def date_error(loc: tuple[str | int, ...], value: object) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("date_format", MESSAGE), loc=loc, input=value)


def refuse_numbers(model: type[BaseModel], data: Any) -> Any:
    """A ``mode="before"`` model validator: a date field given as anything but its text."""
    if not isinstance(data, dict):
        return data
    errors = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        value = data.get(key)
        if value is not None and is_date(field.annotation) and not is_iso_text(value):
            errors.append(date_error((key,), value))
    if errors:
        raise ValidationError.from_exception_data(model.__name__, errors)
    return data
