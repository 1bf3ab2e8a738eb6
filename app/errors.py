"""Errors the services raise; the API maps each to its HTTP status (no framework here)."""

from __future__ import annotations

from dataclasses import dataclass


class AppError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(AppError):
    """Unknown, or outside the caller's scope: the two are never told apart."""

    status = 404

    def __init__(self, what: str, ident: object | None = None) -> None:
        suffix = f" {ident}" if ident is not None else ""
        super().__init__(f"{what}{suffix} 不存在 (not found)")


class Conflict(AppError):
    status = 409


class Forbidden(AppError):
    """The object is visible to the caller, but their role may not do this to it."""

    status = 403


class Unauthorized(AppError):
    status = 401


class TooManyRequests(AppError):
    """429, answered with ``Retry-After`` (whole seconds)."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


@dataclass(frozen=True, slots=True)
class FieldProblem:
    loc: tuple[str | int, ...]
    msg: str
    type: str = "value_error"


class Invalid(AppError):
    """422 with one message per field, the same shape as FastAPI's validation errors."""

    status = 422

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(p.msg for p in problems))
        self.problems = problems

    @classmethod
    def field(cls, loc: tuple[str | int, ...], msg: str) -> Invalid:
        return cls([FieldProblem(loc, msg)])
