"""The one error shape of the API: RFC 9457 problem details (``application/problem+json``).

``type`` is ``urn:kcbx:problem:<code>``, ``code`` the same stable identifier for programs
(``not_found``, ``conflict.duplicate_student_no``, ``rate_limited``, ``validation_failed``…),
``detail`` a sentence for people (Chinese first, then English). A 422 lists each field in
``errors``; an import rejected as a whole adds its ``report``."""

from __future__ import annotations

from pydantic import BaseModel, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_type(code: str) -> str:
    return f"urn:kcbx:problem:{code}"


class FieldError(BaseModel):
    loc: list[str | int] = Field(
        description="出错位置:body/query/path/header 及字段名或行列 (where: part, then field)",
        examples=[["body", "birth_date"]],
    )
    msg: str = Field(examples=["出生日期不能晚于今天 (birth date in the future)"])
    type: str = Field(description="错误种类 (error kind)", examples=["value_error"])


class Problem(BaseModel):
    type: str = Field(
        description="问题类型 URI (problem type)", examples=["urn:kcbx:problem:not_found"]
    )
    title: str = Field(description="HTTP 状态的简短说明", examples=["未找到 (Not Found)"])
    status: int = Field(ge=400, le=599, examples=[404])
    detail: str = Field(description="给人看的说明 (human-readable)", examples=["学生 7 不存在"])
    code: str = Field(
        description="稳定的错误代码,供程序判断 (stable code for programs)",
        examples=["not_found", "conflict.duplicate_student_no", "rate_limited"],
    )


class ValidationProblem(Problem):
    errors: list[FieldError] = Field(description="每个有问题的字段一条 (one per field)")


TITLES = {
    503: "服务暂不可用 (Service Unavailable)",
    400: "请求有误 (Bad Request)",
    401: "未登录 (Unauthorized)",
    403: "无权限 (Forbidden)",
    404: "未找到 (Not Found)",
    405: "方法不允许 (Method Not Allowed)",
    409: "冲突 (Conflict)",
    413: "内容过大 (Content Too Large)",
    415: "不支持的媒体类型 (Unsupported Media Type)",
    422: "内容有误 (Unprocessable Content)",
    429: "请求过于频繁 (Too Many Requests)",
}

CODES = {
    503: "service_unavailable",
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}


def title_of(status: int) -> str:
    return TITLES.get(status, "请求有误 (Bad Request)" if status < 500 else "服务错误 (Error)")


def code_of(status: int) -> str:
    return CODES.get(status, "bad_request" if status < 500 else "server_error")
