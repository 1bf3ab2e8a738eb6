"""Shapes shared by every endpoint: pages, field types with Chinese-first messages."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.schemas.dates import refuse_numbers

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


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _dates_as_text(cls, data: Any) -> Any:
        return refuse_numbers(cls, data)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="匹配的总数 (total matching rows)")
    limit: int
    offset: int

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        # ``AlertOutPage``, not pydantic's ``Page[AlertOut]`` (``Page_AlertOut_`` in OpenAPI)
        return "".join(getattr(p, "__name__", str(p)) for p in params) + "Page"


class PageParams(BaseModel):
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)
