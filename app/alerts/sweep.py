"""The deadline sweep: fires due deadlines through the case machine, sets aside the ones that
raise, and folds notices fired long after their time into digests.

Deadlines are rows. ``sweep`` claims due ones with ``FOR UPDATE SKIP LOCKED`` (a second engine
skips them), locks their cases in id order (the same order everywhere, so engines cannot
deadlock), fires each in due order and records its lateness. A deadline whose obligation has
been met meanwhile is closed as ``cancelled`` without effect; after downtime the backlog fires
in due order, each marked with how late it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from app.alerts import deadlines_repo
from app.alerts import engine_repo as repo
from app.alerts.engine import Outbox, apply_effects, apply_notices, only_notices, plain_to_domain
from app.context import AppContext
from app.core import logs
from app.db.models import AbsenceCase, Alert
from app.db.uow import UnitOfWork
from app.delivery import outbox
from app.delivery.outbox import Notice
from app.delivery.wording import DIGEST_LATE_TOPIC, TemplateError, late_digest_text, topic_label
from app.domain.cases import (
    DeadlineDue,
    DeadlineKind,
    Effect,
    Level,
    Timeline,
    TimelineKind,
    transition,
)
from app.domain.roles import Role

log = logging.getLogger("kcbx.engine")

LATE_AFTER = timedelta(seconds=60)

# --- the sweep ------------------------------------------------------------------------------

MAX_LATENESS_MS = 2**63 - 1
_KINDS = {m.value: m for m in DeadlineKind}  # a lookup, not ``DeadlineKind(word)`` per row
RETRY_CAP = timedelta(hours=1)


@dataclass
class SweepResult:
    fired: int = 0
    cancelled: int = 0
    # Set aside: their firing raised; each is retried later, the others fired meanwhile.
    failed: int = 0
    # Notices of deadlines fired beyond the digest horizon, and the digests they went into.
    folded: int = 0
    digests: int = 0
    lateness_ms: list[int] = field(default_factory=list)

    def add(self, other: SweepResult) -> None:
        self.fired += other.fired
        self.cancelled += other.cancelled
        self.failed += other.failed
        self.folded += other.folded
        self.digests += other.digests
        self.lateness_ms += other.lateness_ms

    def count(self, fired: bool, lateness_ms: int) -> None:
        """One deadline of a batch: fired (its lateness kept), or cancelled as stale."""
        if fired:
            self.fired += 1
            self.lateness_ms.append(lateness_ms)
        else:
            self.cancelled += 1

    @property
    def claimed(self) -> int:
        return self.fired + self.cancelled + self.failed


async def sweep(ctx: AppContext, now: datetime | None = None, limit: int = 500) -> SweepResult:
    """Fire every deadline due at ``now`` (default: the clock), in batches of ``limit``, in
    due order; then those set aside earlier whose retry time has come; then fold the late
    notices into digests.

    On PostgreSQL ``engine_sweep_lanes`` batches are in flight at once, each its own
    transaction (as that many engines would: SKIP LOCKED gives each its own deadlines, and
    each locks its cases in id order), so one batch's Python runs while another's statements
    run in the database. Due order holds within a batch and between the batches one lane
    claims; two deadlines of one case claimed by two lanes fire in the order their cases'
    locks are granted.

    A batch that raises is rolled back and fired again one deadline per transaction: the
    deadline that raises again is set aside (``failed``, its error, a retry time) and every
    other one fires. A database that is unreachable is not a deadline's fault: that error
    goes up (once every lane has stopped) and the rows stay as they were, for the next tick."""
    total = SweepResult()

    async def lane() -> deadlines_repo.Chores:
        while True:
            got, chores = await _sweep_once(ctx, now or ctx.clock(), limit)
            total.add(got)
            if got.claimed < limit:
                return chores

    # The first batch alone: an idle tick stays one transaction; a full one means a backlog,
    # drained by the lanes together.
    got, chores = await _sweep_once(ctx, now or ctx.clock(), limit)
    total.add(got)
    done = [chores]
    if got.claimed >= limit:
        pg = ctx.engine.dialect.name == "postgresql"
        lanes = max(1, ctx.settings.engine_sweep_lanes) if pg else 1
        ended = await asyncio.gather(*(lane() for _ in range(lanes)), return_exceptions=True)
        for outcome in ended:
            if isinstance(outcome, BaseException):
                raise outcome
        done = [c for c in ended if isinstance(c, deadlines_repo.Chores)]
    if any(c.retry for c in done):
        total.add(await _retry_failed(ctx, now or ctx.clock(), limit))
    if any(c.digest for c in done) or total.folded:
        total.digests += await fold_digests(ctx)
    return total


async def _sweep_once(
    ctx: AppContext, now: datetime, limit: int
) -> tuple[SweepResult, deadlines_repo.Chores]:
    """One batch; the last one (fewer than ``limit`` due) also asks, in the same statement
    round, whether set-aside deadlines are due again or late notices await a digest: an idle
    tick stays one transaction."""
    chores = deadlines_repo.Chores(False, False)
    async with ctx.uow() as uow:
        fired_at = ctx.clock()
        due = await deadlines_repo.claim_fired(uow.session, now, limit, fired_at, MAX_LATENESS_MS)
        marked = due is not None
        if due is None:
            due = await deadlines_repo.claim_due(uow.session, now, limit)
        if len(due) < limit:
            chores = await deadlines_repo.chores(uow.session, now)
        if not due:
            return SweepResult(), chores
        try:
            return await _fire(uow, ctx, now, due, fired_at if marked else None), chores
        except Exception as exc:
            if _transient(exc):
                raise
            log.warning("a sweep batch of %d failed (%s): firing them one by one", len(due), exc)
    # The batch's transaction is rolled back: its rows are pending and unlocked again.
    return await _fire_singly(ctx, now, [d.id for d in due], ("pending",)), chores


async def _retry_failed(ctx: AppContext, now: datetime, limit: int) -> SweepResult:
    async with ctx.uow() as uow:
        ids = await deadlines_repo.failed_due(uow.session, now, limit)
    return await _fire_singly(ctx, now, ids, ("failed",)) if ids else SweepResult()


async def _fire_singly(
    ctx: AppContext, now: datetime, ids: Sequence[int], states: tuple[str, ...]
) -> SweepResult:
    """Each deadline in its own transaction; one that raises is set aside."""
    result = SweepResult()
    for deadline_id in ids:
        error: Exception | None = None
        async with ctx.uow() as uow:
            due = await deadlines_repo.claim_ids(uow.session, [deadline_id], states)
            if not due:
                continue  # fired meanwhile by another engine
            try:
                result.add(await _fire(uow, ctx, now, due))
            except Exception as exc:
                if _transient(exc):
                    raise
                error = exc
        if error is not None:
            await _set_aside(ctx, deadline_id, error)
            result.failed += 1
    return result


async def _set_aside(ctx: AppContext, deadline_id: int, error: Exception) -> None:
    log.error("deadline %d failed to fire: %r", deadline_id, error)
    text = describe(error)
    async with ctx.uow() as uow:
        attempts = await deadlines_repo.fail_deadline(uow.session, deadline_id, text)
        if attempts is not None:
            delay = timedelta(seconds=ctx.settings.engine_retry_seconds) * 2 ** (attempts - 1)
            await deadlines_repo.retry_deadline_at(
                uow.session, deadline_id, ctx.clock() + min(delay, RETRY_CAP)
            )
        await uow.commit()


def describe(exc: BaseException) -> str:
    """An error as health shows it: its kind and first line, never the statement and the
    parameters a database error carries (they may hold names)."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}"[:500]


def _transient(exc: BaseException) -> bool:
    """The database, not the deadline: unreachable, restarting, a deadlock or a busy lock."""
    if isinstance(exc, OSError | ConnectionError | TimeoutError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc, OperationalError):
            return True
        orig = exc.orig
        code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or ""
        # 08 connection, 40 deadlock/serialization, 53 resources, 57 shutdown/cancel.
        return str(code)[:2] in ("08", "40", "53", "57")
    return False


async def _fire(
    uow: UnitOfWork,
    ctx: AppContext,
    now: datetime,
    due: list[deadlines_repo.Due],
    marked_at: datetime | None = None,
) -> SweepResult:
    """Fire the claimed ``due`` deadlines in this transaction and commit. ``marked_at``: the
    claim already wrote them as fired then (``deadlines_repo.claim_fired``), so only the stale
    ones are written again, as cancelled.

    The cases are read as plain rows (no ORM objects): a deadline's transition leaves the case
    as it was and only notifies and records (``only_notices``), written from the plain row
    into the batch's outbox, one statement per kind of row for the whole batch. A transition
    that would change the case goes through ``apply_effects`` with the case's ORM row, read
    then (already locked); the batch's later deadlines of that case follow it there."""
    result = SweepResult()
    rows = await repo.case_rows_for_update(uow.session, {d.case_id for d in due})
    alerts = await repo.alert_rows(uow.session, rows.keys())
    cases = {cid: plain_to_domain(r, alerts[cid]) for cid, r in rows.items()}
    orm: dict[int, tuple[AbsenceCase, list[Alert]]] = {}
    marks: list[tuple[int, str, datetime, int]] = []
    outbox = Outbox()
    outbox.expect(list(rows.values()))
    fired_at = ctx.clock() if marked_at is None else marked_at
    horizon = timedelta(minutes=ctx.settings.engine_digest_after_minutes)
    for d in due:
        logs.case_id.set(d.case_id)  # this batch's lines name the case being fired
        late = fired_at - d.due_at
        lateness = deadlines_repo.lateness_ms(fired_at, d.due_at, MAX_LATENESS_MS)
        case = cases.get(d.case_id)
        effects: list[Effect] = []
        if case is not None:
            event = DeadlineDue(_KINDS.get(d.kind) or DeadlineKind(d.kind), d.key)
            new, effects = transition(case, event, now, case.policy)
            if effects:
                effects += _late_note(late, lateness)
                before = len(outbox.folded)
                trigger, hold = f"deadline:{d.id}", late > horizon
                if d.case_id not in orm and only_notices(case, new, effects):
                    by_key = {a.key: a for a in alerts[d.case_id]}
                    await apply_notices(
                        uow,
                        rows[d.case_id],
                        by_key,
                        effects,
                        now=now,
                        trigger=trigger,
                        box=outbox,
                        hold=hold,
                    )
                else:
                    if d.case_id not in orm:
                        orm[d.case_id] = await _orm_case(uow, d.case_id)
                    row, orm_alerts = orm[d.case_id]
                    await apply_effects(
                        uow,
                        row,
                        orm_alerts,
                        new,
                        effects,
                        now=now,
                        actor=None,
                        trigger=trigger,
                        outbox=outbox,
                        unchanged=new is case,
                        hold_for_digest=hold,
                    )
                result.folded += len(outbox.folded) - before
                cases[d.case_id] = new
        marks.append((d.id, "fired" if effects else "cancelled", fired_at, lateness))
        result.count(bool(effects), lateness)
    logs.case_id.set(None)
    await outbox.write(uow)
    await _write_marks(uow, marks, marked_at)
    await uow.commit()
    return result


async def _write_marks(
    uow: UnitOfWork, marks: list[tuple[int, str, datetime, int]], marked_at: datetime | None
) -> None:
    """The batch's deadlines as fired or cancelled; when the claim already wrote them all as
    fired (``marked_at``), only the stale ones, as cancelled."""
    if marked_at is None:
        await deadlines_repo.mark_deadlines(uow.session, marks)
        return
    stale = [i for i, state, _, _ in marks if state == "cancelled"]
    await deadlines_repo.cancel_fired(uow.session, stale)


def _late_note(late: timedelta, lateness_ms: int) -> list[Effect]:
    """A deadline fired after an outage says so on the case's timeline."""
    if late <= LATE_AFTER:
        return []
    return [Timeline(TimelineKind.deadline_late, f"因停机延迟 {_delay_text(lateness_ms)} 触发")]


async def _orm_case(uow: UnitOfWork, case_id: int) -> tuple[AbsenceCase, list[Alert]]:
    """A case of the batch (locked by its claim) as ORM rows, for ``apply_effects``."""
    found = await repo.cases_by_id(uow.session, [case_id], lock=False)
    return found[case_id], (await repo.alerts_of(uow.session, [case_id]))[case_id]


def _delay_text(ms: int) -> str:
    seconds = ms // 1000
    if seconds < 3600:
        return f"{seconds} 秒"
    if seconds < 86400:
        return f"{seconds // 3600} 小时 {seconds % 3600 // 60} 分"
    return f"{seconds // 86400} 天 {seconds % 86400 // 3600} 小时"


# --- digests of late notices ---------------------------------------------------------------

_DIGEST_BATCH = 2000


async def fold_digests(ctx: AppContext) -> int:
    """One digest per recipient (and route: school and role) of the late notices awaiting
    one; returns how many digests were written. The digest's key names the first notice it
    folds, and the notices are released in the same transaction, so a pass cut short or run
    by two engines writes each digest once."""
    written = 0
    while True:
        now = ctx.clock()
        async with ctx.uow() as uow:
            held = await repo.awaiting_digest(uow.session, _DIGEST_BATCH)
            if not held:
                return written
            groups: dict[tuple[int, int | None, str | None], list[repo.Held]] = defaultdict(list)
            for n in held:
                groups[(n.staff_id, n.school_id, n.role)].append(n)
            digests = [_digest(key, items, now) for key, items in groups.items()]
            await outbox.enqueue(uow.session, digests)
            await repo.release_digested(uow.session, [n.id for n in held])
            await uow.commit()
        written += len(digests)
        if len(held) < _DIGEST_BATCH:
            return written


def _label(topic: str) -> str:
    try:
        return topic_label(topic)
    except TemplateError:  # a topic without a template still counts, under its own name
        return topic


def _digest(
    key: tuple[int, int | None, str | None], items: list[repo.Held], now: datetime
) -> Notice:
    staff_id, school_id, role = key
    by_topic: dict[str, int] = {}
    for n in items:
        by_topic[_label(n.topic)] = by_topic.get(_label(n.topic), 0) + 1
    levels = [n.level for n in items if n.level]
    top = max(levels, key=lambda lv: ("blue", "yellow", "red").index(lv), default=None)
    lines = [" ".join(n.title.split()) or _label(n.topic) for n in items]  # one line each
    title, body = late_digest_text(lines, by_topic)
    return Notice(
        idem_key=f"digest:{items[0].id}:{staff_id}",
        staff_id=staff_id,
        role=Role(role) if role else None,
        topic=DIGEST_LATE_TOPIC,
        title=title,
        body=body,
        level=Level(top) if top else None,
        school_id=school_id,
        created_at=now,
    )
