"""Command-line entry points: ``serve`` (make run), the roster import, onboarding, the
attendance partitions (``python -m app.cli.partitions``)."""

from __future__ import annotations

from app.core import logs
from app.settings import get_settings


def cli_logging() -> None:
    """The CLI tools log as the service does (KCBX_LOG_FORMAT, KCBX_LOG_LEVEL)."""
    settings = get_settings()
    logs.configure(settings.log_format, settings.log_level, unless_set=True)
