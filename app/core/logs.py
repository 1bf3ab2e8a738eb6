"""One logging configuration for every process: the API (``app.cli.serve``, uvicorn), the
engine (``python -m app.jobs``) and the command-line tools.

Decisions (README, "Operations"):
- one handler on the root logger, to stderr; ``KCBX_LOG_FORMAT=json`` writes one JSON object
  a line (``time``, ``level``, ``logger``, ``message``, and ``request_id``, ``school_id``,
  ``case_id`` when known), ``plain`` (the default, ``make run``) one readable line;
  ``KCBX_LOG_LEVEL`` (INFO) sets the level. uvicorn's own loggers go through the same handler;
- the ids come from context variables: the request id is set for each HTTP request
  (``app/api/request_id.py``: the caller's ``X-Request-ID`` when it is a plain token, else a
  new one, echoed in the answer), the school and case ids where the request's path or the
  engine's work names them. Only ids: the app never logs names, ID numbers or mobiles in full
  (the sign-in throttle masks them).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["plain", "json"]

request_id: ContextVar[str | None] = ContextVar("kcbx_request_id", default=None)
school_id: ContextVar[int | None] = ContextVar("kcbx_school_id", default=None)
case_id: ContextVar[int | None] = ContextVar("kcbx_case_id", default=None)
_FIELDS = (("request_id", request_id), ("school_id", school_id), ("case_id", case_id))


class ContextFilter(logging.Filter):
    """Puts the known ids on every record (absent ones are left off)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _FIELDS:
            value = var.get()
            if value is not None and not hasattr(record, name):
                setattr(record, name, value)
        return True


class PlainFormatter(logging.Formatter):
    """``2026-09-01 08:30:00,123 INFO kcbx.engine fired 3 … [request_id=… case_id=7]``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        known = [f"{n}={getattr(record, n)}" for n, _ in _FIELDS if hasattr(record, n)]
        if not known:
            return text
        first, _, rest = text.partition("\n")
        return f"{first} [{' '.join(known)}]" + (f"\n{rest}" if rest else "")


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )


class Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Ours, to stderr: configuring again replaces it and leaves others' handlers be."""


_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")
# APScheduler logs every run of every job at INFO (five lines a second): its warnings only.
_QUIET = "WARNING"


def config(log_format: LogFormat = "plain", level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dictionary; uvicorn takes it as ``log_config``."""
    formatter = (
        {"()": "app.core.logs.json_formatter"}
        if log_format == "json"
        else {"()": "app.core.logs.PlainFormatter"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "app.core.logs.ContextFilter"}},
        "formatters": {"kcbx": formatter},
        "handlers": {
            "stderr": {
                "class": "app.core.logs.Handler",
                "formatter": "kcbx",
                "filters": ["context"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            **{name: {"handlers": [], "propagate": True} for name in _UVICORN},
            "apscheduler": {"level": _QUIET},
        },
    }


def configure(
    log_format: LogFormat = "plain", level: str = "INFO", *, unless_set: bool = False
) -> None:
    """For every process (also when a server other than ``app.cli.serve`` runs the app, and
    for the CLI tools): our handler on the root logger, in place of an earlier one of ours;
    uvicorn's loggers hand their lines to it. ``unless_set``: leave a root logger that already
    has handlers as it is (a CLI's ``main`` called by a host that logs its own way)."""
    root = logging.getLogger()
    if unless_set and root.handlers:
        return
    for old in [h for h in root.handlers if isinstance(h, Handler)]:
        root.removeHandler(old)
    handler = Handler(sys.stderr)
    handler.setFormatter(json_formatter() if log_format == "json" else PlainFormatter())
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _UVICORN:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("apscheduler").setLevel(_QUIET)


@contextmanager
def bound(var: ContextVar[int | None], value: int | None) -> Iterator[None]:
    """``with bound(case_id, 7):`` — log lines inside name the case."""
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)
