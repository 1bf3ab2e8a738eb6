"""Shapes shared by every endpoint: pages, field types with Chinese-first messages."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app import read_scope

T = TypeVar("T")

Mobile = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^1[3-9]\d{9}$"),
    Field(description="手机号 (mainland mobile, 11 digits)", examples=["13800138000"]),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20, pattern=r"^[\w-]+$")
]


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
    logged read tells the access log the read concerned that student (app/read_scope.py).
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


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="匹配的总数 (total matching rows)")
    limit: int
    offset: int


class Problem(BaseModel):
    detail: str


class PageParams(BaseModel):
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)
