"""Errors the services raise; the API maps each to its HTTP status (no framework here).

Every error carries a stable machine-readable ``code`` (the API answers it in an RFC 9457
problem document): a client branches on the code, people read the message."""

from __future__ import annotations

from dataclasses import dataclass


class AppError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFound(AppError):
    """Unknown, or outside the caller's scope: the two are never told apart."""

    status = 404
    code = "not_found"

    def __init__(self, what: str, ident: object | None = None) -> None:
        suffix = f" {ident}" if ident is not None else ""
        super().__init__(f"{what}{suffix} 不存在 (not found)")


class Conflict(AppError):
    """``code`` is ``conflict`` or a refinement such as ``conflict.duplicate_student_no``."""

    status = 409
    code = "conflict"


class Forbidden(AppError):
    """The object is visible to the caller, but their role may not do this to it."""

    status = 403
    code = "forbidden"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


class RateLimited(AppError):
    """429, answered with ``Retry-After`` (whole seconds) when ``retry_after`` is given."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = None if retry_after is None else max(1, retry_after)


TooManyRequests = RateLimited  # the sign-in throttle's name for it


@dataclass(frozen=True, slots=True)
class FieldProblem:
    loc: tuple[str | int, ...]
    msg: str
    type: str = "value_error"


class Invalid(AppError):
    """422 with one message per field, the same items as FastAPI's validation errors."""

    status = 422
    code = "validation_failed"

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(p.msg for p in problems))
        self.problems = problems

    @classmethod
    def field(cls, loc: tuple[str | int, ...], msg: str) -> Invalid:
        return cls([FieldProblem(loc, msg)])
