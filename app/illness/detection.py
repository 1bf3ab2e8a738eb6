"""The engine's ``illness-clusters`` job: the cluster rules applied to each school day the roll
marked (``illness_day_change``), off the roll's path.

Decisions:
- one transaction per school: claim its markers (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
  a second engine passes over a school the first is looking at), ``clusters.look`` at each
  day in date order (a later day's case joins the alert an earlier day opened, as when the
  roll looked), clear the markers, commit. Two engines never look at one school at once;
- a look that fails rolls back with its markers: the days are looked at again on the next
  run, other schools go on, and the failure is recorded on the job's row
  (``GET /engine/health``);
- a roll that marks a day while it is being looked at waits for that look's commit and then
  writes its marker again (an upsert, ``repo.write_roll``): its cases are looked at next run;
- the job runs every ``KCBX_ILLNESS_DETECT_SECONDS`` (default 60): with the roll's commit
  that is the issue's "within a minute of the third roll". An alert's report deadline runs
  from when it is raised (when the 疫情报告人 is told);
- oldest change first, at most ``limit`` schools a run; the rest wait for the next run.
"""

from __future__ import annotations

import logging

from app.context import AppContext
from app.illness import clusters, repo
from app.illness.register import school_ref

log = logging.getLogger("kcbx.illness")


class DetectionFailed(RuntimeError):
    """Some schools' days could not be looked at; their markers stay for the next run."""


async def look_at_changed_days(ctx: AppContext, limit: int = 500) -> int:
    """Look at the marked days; returns how many were looked at (alerts opened or not)."""
    async with ctx.uow() as uow:
        schools = await repo.changed_schools(uow.session, limit)
    looked = 0
    failed: list[str] = []
    for school_id in schools:
        try:
            async with ctx.uow() as uow:
                days = await repo.claim_days(uow.session, school_id)
                if not days:
                    continue  # looked at already, or another engine is looking
                school = await school_ref(uow, ctx, school_id)
                for day in days:
                    await clusters.look(uow, ctx, school, day)
                await repo.clear_days(uow.session, school_id, days)
                await uow.commit()
        except Exception as exc:
            log.exception("cluster look at school %s failed", school_id)
            failed.append(f"school {school_id}: {type(exc).__name__}: {exc}")
            continue
        looked += len(days)
    if failed:
        left = f"{len(failed)} school(s) left for the next run: {'; '.join(failed)}"
        raise DetectionFailed(left[:500])
    return looked
