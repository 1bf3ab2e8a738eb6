"""The timezone a service reads days and stamps in when no school's own timezone applies
(county-wide ledgers, registers, file names): the configured ``KCBX_DEFAULT_TIMEZONE``."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from app.context import AppContext


def default_zone(ctx: AppContext) -> ZoneInfo:
    return ZoneInfo(ctx.settings.default_timezone)
