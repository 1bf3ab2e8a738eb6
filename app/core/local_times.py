"""Every instant a person reads comes with the school's wall-clock time beside it.

An answer stores and sends instants in UTC (``raised_at: 2026-12-06T19:03:00Z``); a person
reading it for school day 12-07 needs ``raised_at_local: 2026-12-07T03:03:00+08:00``. Rather
than a hand-written ``*_local`` per schema, an answer's schema derives from ``LocalTimes``:
each field annotated ``datetime`` or ``datetime | None`` gets its ``<name>_local`` twin (same
instant, with the local offset; ``null`` when the instant is), filled when the answer is built.

The zone is the deployment's (``KCBX_DEFAULT_TIMEZONE``, set per request by
``app.api.deps.get_ctx``): the zone every school is created with unless it names its own. A
deployment whose schools span zones would need the school's zone per row; China's schools
share one (Asia/Shanghai), so the answer does not look it up per row.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from typing import Any, ClassVar, Self
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator

from app.core.types import Row
from app.domain.calendar import DEFAULT_TIMEZONE

answer_zone: ContextVar[str] = ContextVar("answer_zone", default=DEFAULT_TIMEZONE)
_INSTANTS = frozenset({"datetime", "datetime | None"})
LOCAL_DESCRIPTION = "同一时刻的学校当地时间(带时差) (the same instant in the school's local time)"


def set_zone(name: str) -> None:
    answer_zone.set(name)


def local(when: datetime | None) -> datetime | None:
    # ZoneInfo caches its instances: one lookup per zone name for the process
    return when.astimezone(ZoneInfo(answer_zone.get())) if when is not None else None


def local_wall_time(when: datetime) -> datetime:
    """The school's wall-clock time without an offset: what a spreadsheet cell shows."""
    return when.astimezone(ZoneInfo(answer_zone.get())).replace(tzinfo=None)


class LocalTimes(Row):
    """Base of an answer whose instants people read (see the module's docstring)."""

    local_fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Runs before pydantic collects the fields, so the twins become ordinary fields (in
        # the OpenAPI too). Annotations are text here (``from __future__ import annotations``).
        super().__init_subclass__(**kwargs)
        # the class's own mapping, to add to (inspect.get_annotations answers a copy)
        own = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
        names = [n for n, t in own.items() if str(t).strip() in _INSTANTS]
        for name in names:
            own[f"{name}_local"] = "datetime | None"
            setattr(cls, f"{name}_local", Field(default=None, description=LOCAL_DESCRIPTION))
        cls.local_fields = (*cls.local_fields, *names)

    @model_validator(mode="after")
    def _fill_local_times(self) -> Self:
        for name in self.local_fields:
            setattr(self, f"{name}_local", local(getattr(self, name)))
        return self
