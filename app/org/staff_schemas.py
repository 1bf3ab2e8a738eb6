"""Staff, their role grants, sign-in and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BeforeValidator, Field, StringConstraints

from app.core.local_times import LocalTimes
from app.core.types import Labels, LabelSpec, LineStr, Mobile, Name, RefId, SafeLine, Schema, Title
from app.domain.roles import ROLE_LABELS, Role

Password = Annotated[str, Field(min_length=8, max_length=128)]


class GrantIn(Schema):
    """A role and its scope: ``county_admin`` needs ``county_id``; principal, vice principal
    and 教务处 need ``school_id``; head and subject teachers need ``class_id``; a township
    officer (乡镇人民政府) needs ``township_id``."""

    role: Role
    county_id: RefId | None = None
    school_id: RefId | None = None
    class_id: RefId | None = None
    township_id: RefId | None = None


class GrantOut(Labels, Schema):
    labels: ClassVar[LabelSpec] = {"role_label": ("role", ROLE_LABELS)}

    id: int
    role: Role
    role_label: str
    county_id: int
    school_id: int | None
    class_id: int | None
    township_id: int | None = None


class StaffIn(Schema):
    county_id: RefId | None = Field(default=None, description="defaults to the school's county")
    school_id: RefId | None = Field(default=None, description="null for county staff")
    name: Name = Field(examples=["李老师"])
    mobile: Mobile
    password: Password | None = Field(default=None, description="初始密码; null: cannot sign in")
    roles: list[GrantIn] = Field(default_factory=list, max_length=50)


class StaffUpdate(Schema):
    name: Name | None = None
    mobile: Mobile | None = None
    password: Password | None = Field(
        default=None,
        description="新密码; revokes every token of the person issued before (sign in again)",
    )
    current_password: LineStr | None = Field(
        default=None, max_length=128, description="当前密码: required to change one's own"
    )
    wechat_openid: LineStr | None = Field(
        default=None, max_length=64, description="小程序 openid, for subscribe messages"
    )


class StaffOut(Schema):
    id: int
    county_id: int
    school_id: int | None
    name: str
    mobile: str
    active: bool
    is_superuser: bool
    roles: list[GrantOut] = Field(default_factory=list)


class LoginIn(Schema):
    """The JSON sign-in: the same two fields as the OAuth2 form, for clients that send JSON."""

    username: Annotated[str, StringConstraints(min_length=1, max_length=64), SafeLine] = Field(
        description="手机号 (the staff member's mobile number)", examples=["13800000002"]
    )
    password: Annotated[str, Field(min_length=1, max_length=128)] = Field(
        description="密码", examples=["demo1234"]
    )


class TokenOut(Schema):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds")


# Keep in step with ``access.KeyScope`` (tests/org/test_api_key_scopes.py checks).
ApiKeyScope = Literal[
    "student_no", "staff_mobile", "calendar", "leave_approve", "school_settings", "drill"
]


def _split_scopes(value: object) -> object:
    return value.split() if isinstance(value, str) else value


class ApiKeyIn(Schema):
    name: Title = Field(examples=["县教育局学籍系统"])
    county_id: RefId | None = None
    school_id: RefId | None = Field(default=None, description="bind to one school instead")
    scopes: list[ApiKeyScope] = Field(
        default_factory=list,
        max_length=6,
        description="额外权限 (a key syncs; these let it read or act beyond that): "
        "`student_no` shows full 学籍号 (masked otherwise); `staff_mobile` shows staff "
        "mobiles (masked otherwise); `calendar` writes terms, closures and make-up days; "
        "`leave_approve` approves, rejects and files pre-approved leave; `school_settings` "
        "creates and edits schools (and the county's townships and record); "
        "`drill` may move the simulation clock of a drill deployment (county keys only)",
    )


class ApiKeyOut(LocalTimes, Schema):
    id: int
    name: str
    prefix: str
    county_id: int
    school_id: int | None
    created_at: datetime
    revoked_at: datetime | None
    scopes: Annotated[list[str], BeforeValidator(_split_scopes)] = Field(default_factory=list)


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="shown once: store it now, it cannot be read again")


class MeStaff(StaffOut):
    """``GET /auth/me`` for a signed-in staff member: the staff record."""

    kind: Literal["staff"] = "staff"


class MeApiKey(ApiKeyOut):
    """``GET /auth/me`` with ``X-API-Key``: the key itself (never a staff member)."""

    kind: Literal["api_key"] = "api_key"


MeOut = Annotated[MeStaff | MeApiKey, Field(discriminator="kind")]
