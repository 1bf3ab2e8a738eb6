"""What a running service holds once: settings, the database, the cipher and the clocks.

``clock`` is the one place *business* time comes from (what is due, what day it is), so tests
and the simulation clock can replace it. ``wall_clock`` is real time, for whatever another
party checks against its own clock: signatures and timestamps sent to platforms, token
lifetimes, leases and rate limits. A drill a week ahead moves ``clock`` only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.cache import ReferenceCache
from app.core.clock import SharedClock
from app.core.tables import ImportSlots
from app.db.engine import make_engine, make_session_factory
from app.db.uow import UnitOfWork
from app.security.crypto import DataCipher
from app.settings import Settings


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class AppContext:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    cipher: DataCipher
    cache: ReferenceCache
    clock: Callable[[], datetime] = field(default=wall_clock)
    # Always an aware UTC datetime from the real clock, whatever ``clock`` is.
    wall_clock: Callable[[], datetime] = field(default=wall_clock)
    # The imports running in this process (app/api/uploads.py: bounded_import).
    import_slots: ImportSlots = field(default_factory=ImportSlots)

    @classmethod
    def from_settings(cls, settings: Settings) -> AppContext:
        engine = make_engine(settings.database_url, echo=settings.database_echo)
        ctx = cls(
            settings=settings,
            engine=engine,
            session_factory=make_session_factory(engine),
            cipher=DataCipher(settings.data_key),
            cache=ReferenceCache(settings.reference_cache_seconds, settings.actor_cache_seconds),
        )
        if settings.simulation_clock:
            # Loaded from the database before first use (app/jobs/sim_clock.attach).
            ctx.clock = SharedClock()
        return ctx

    def default_zone(self) -> ZoneInfo:
        """The timezone a service reads days and stamps in when no school's own timezone
        applies (county-wide ledgers, registers, file names): ``KCBX_DEFAULT_TIMEZONE``."""
        return ZoneInfo(self.settings.default_timezone)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.cache.tables_changed)

    async def close(self) -> None:
        await self.engine.dispose()
