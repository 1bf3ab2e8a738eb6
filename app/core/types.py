"""Shapes shared by every endpoint: pages, field types with Chinese-first messages."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, ClassVar, Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from app.core import read_scope
from app.core.dates import refuse_numbers
from app.core.text import line_text, multiline_text
from app.errors import NotFound

T = TypeVar("T")

# Column ranges (see app/db/models/base.py): most keys are INTEGER, a few tables' BIGINT.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
# Rows a list may skip: beyond it a page is empty anyway, and no database overflows.
OFFSET_MAX = INT32_MAX

# Dates a school can mean (terms, rolls, reports, leaves): outside them → 422, so date
# arithmetic never overflows and the calendar is never asked about year 1 or 9999.
DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2100, 12, 31)
# Moments the same way, judged on their UTC instant (whatever the offset says): from
# 2000-01-01T00:00Z up to, not including, 2101-01-01T00:00Z. ``0001-01-01T00:00:00+14:00``
# (a UTC instant before year 1, which no driver can send) is a 422 naming the field.
INSTANT_MIN = datetime(2000, 1, 1, tzinfo=UTC)
INSTANT_MAX = datetime(2101, 1, 1, tzinfo=UTC)


def _id_in(maximum: int) -> Any:
    def check(value: int) -> int:
        # An id no row can have is an unknown id: 404, like any other (never a 500).
        if not 1 <= value <= maximum:
            raise NotFound("记录", value)
        return value

    return AfterValidator(check)


# Path and query ids: beyond the column's range → 404.
Id = Annotated[int, _id_in(INT32_MAX), Field(json_schema_extra={"format": "int32"})]
BigId = Annotated[int, _id_in(INT64_MAX), Field(json_schema_extra={"format": "int64"})]
# Ids inside request bodies: beyond the column's range → 422 naming the field.
RefId = Annotated[int, Field(ge=1, le=INT32_MAX)]


def _school_date(value: date) -> date:
    if not DATE_MIN <= value <= DATE_MAX:
        raise ValueError(
            f"日期须在 {DATE_MIN} 至 {DATE_MAX} 之间 (date must lie in {DATE_MIN}..{DATE_MAX})"
        )
    return value


def _local_time(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError(
            "时间为学校当地时间,不带时区 (a school-local time: give it without an offset)"
        )
    return value


SchoolDate = Annotated[date, AfterValidator(_school_date)]
# A moment in time: must carry its offset (a naive time is ambiguous → 422), its UTC instant
# within the range. Every datetime a request carries is one (tests/test_input_types.py).
# The bounds are pydantic's own (compared in its core, offsets applied, no Python validator
# per value: the roll carries one per event).
Instant = Annotated[AwareDatetime, Field(ge=INSTANT_MIN, lt=INSTANT_MAX)]
# A wall-clock time in the school's timezone ("08:00"): no offset, no JSON-Schema "time"
# format (RFC 3339's full-time requires an offset, which a school's bell does not have).
LocalTime = Annotated[
    time,
    AfterValidator(_local_time),
    WithJsonSchema(
        {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$", "examples": ["08:00"]}
    ),
]

Mobile = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^1[3-9]\d{9}$"),
    Field(description="手机号 (mainland mobile, 11 digits)", examples=["13800138000"]),
]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50), line_text()
]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), line_text()
]
Code = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=20, pattern=r"^[\w-]+$"),
    line_text(),
]


URL_MAX = 500  # the url columns (app/db/models/delivery.py)


def _url_fits(value: HttpUrl) -> HttpUrl:
    # Checked after normalisation: punycode and percent-encoding make a URL longer.
    if len(str(value)) > URL_MAX:
        raise ValueError(f"地址过长,最多 {URL_MAX} 个字符 (URL longer than {URL_MAX} characters)")
    return value


StoredUrl = Annotated[HttpUrl, AfterValidator(_url_fits), Field(max_length=URL_MAX)]

# Any other text a client sends: one line (reasons, relations, labels) or free text (notes,
# reports); the Field beside it sets the length. See app/core/text.py.
# Put SafeLine/SafeText after a StringConstraints (so it sees the stripped value):
# ``Annotated[str, StringConstraints(max_length=200), SafeLine]``.
SafeLine = line_text()
SafeText = multiline_text()
LineStr = Annotated[str, SafeLine]
TextStr = Annotated[str, SafeText]


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"未知时区 (unknown timezone) {value!r}") from exc
    return value


TimezoneName = Annotated[
    str, AfterValidator(_timezone), Field(examples=["Asia/Shanghai"], max_length=64)
]


class Row(BaseModel):
    """An answer shape that may name a student (``student_id``): building one inside a
    logged read tells the access log the read concerned that student (app/core/read_scope.py).
    A shape that only mentions students, such as the access log's own rows, opts out."""

    ties_student: ClassVar[bool] = True
    _names_student: ClassVar[bool] = False

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._names_student = cls.ties_student and "student_id" in cls.model_fields

    def model_post_init(self, context: Any, /) -> None:
        if self._names_student:
            read_scope.note_one(getattr(self, "student_id", None))


class Schema(Row):
    model_config = ConfigDict(from_attributes=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _dates_as_text(cls, data: Any) -> Any:
        return refuse_numbers(cls, data)


LabelSpec = Mapping[str, tuple[str, Mapping[Any, str]]]


class _Labelled:
    """A row read by attribute, with its labels beside its own attributes."""

    def __init__(self, row: Any, labels: dict[str, str]) -> None:
        self._row, self._labels = row, labels

    def __getattr__(self, name: str) -> Any:
        labels = self.__dict__["_labels"]
        return labels[name] if name in labels else getattr(self.__dict__["_row"], name)


class Labels(BaseModel):
    """An answer built from an ORM row (``model_validate(row, from_attributes=True)``) whose
    ``<x>_label`` fields are looked up from the row's own values: ``labels`` maps a label field
    to (the field it labels, its table). The label fields stay required in the OpenAPI; built
    from keywords, the caller passes them."""

    labels: ClassVar[LabelSpec] = {}

    @model_validator(mode="before")
    @classmethod
    def _fill_labels(cls, data: Any) -> Any:
        if isinstance(data, dict) or not cls.labels:
            return data
        found = {name: table[getattr(data, of)] for name, (of, table) in cls.labels.items()}
        return _Labelled(data, found)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="匹配的总数 (total matching rows)")
    limit: int
    offset: int

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        # ``AlertOutPage``, not pydantic's ``Page[AlertOut]`` (``Page_AlertOut_`` in OpenAPI)
        return "".join(getattr(p, "__name__", str(p)) for p in params) + "Page"
