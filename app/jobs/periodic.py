"""The engine's periodic jobs, each on its own: its own transaction(s) and its own ``try``, so
one failing (a reminder that cannot be written) never stops another (the return-notice check,
the legal escalation). Each run's outcome is recorded in ``engine_job`` — last run, last
success, last error, failures since the last success — by whichever engine process ran it,
and ``GET /engine/health`` shows them.

A job is ``async def job(ctx) -> object`` (what it returns is only logged), so the runner can
schedule it on any clock; ``run_job`` wraps one run with the recording.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.access_logs import service as access_logs
from app.alerts.partial_days import escalate_overdue
from app.alerts.sweep import describe
from app.alerts.task_reminders import remind_tasks
from app.alerts.vacancies import remind_vacant_roles
from app.attendance.reminders import remind_missing_rolls
from app.casework.care_reminders import remind_mentors
from app.casework.return_notices import check_overdue_notices
from app.context import AppContext
from app.db import partitions
from app.guardians.notices import send_guardian_notices
from app.illness import certificates as illness_certificates
from app.illness import clusters as illness_clusters
from app.illness import detection as illness_detection
from app.jobs import repository as engine_jobs
from app.org.repository import active_school_ids
from app.reports.measures import compute_all as compute_measures
from app.reports.monthly_report_reminders import remind_late_reports
from app.settings import Settings
from app.transfers.moves import move_due_transfers

log = logging.getLogger("kcbx.engine")


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    label: str  # as the health page shows it
    every_seconds: int
    run: Callable[[AppContext], Awaitable[object]]
    # A setting overriding ``every_seconds`` (a deployment may want it sooner or later).
    every_setting: str | None = None

    def interval(self, settings: Settings) -> int:
        return (
            int(getattr(settings, self.every_setting)) if self.every_setting else self.every_seconds
        )


async def roll_reminders(ctx: AppContext) -> int:
    async with ctx.uow() as uow:
        schools = await active_school_ids(uow.session)
    return await remind_missing_rolls(ctx, schools)


async def return_notices(ctx: AppContext) -> object:
    # Return notices past their deadline go to the township (疑似辍学), then 辍学.
    return await check_overdue_notices(ctx)


async def task_reminders(ctx: AppContext) -> object:
    return await remind_tasks(ctx)


async def vacant_roles(ctx: AppContext) -> object:
    # 岗位空缺: once a day per school (the notice's key carries the date).
    async with ctx.uow() as uow:
        schools = await active_school_ids(uow.session)
    return await remind_vacant_roles(ctx, schools)


async def care_reminders(ctx: AppContext) -> int:
    return await remind_mentors(ctx)


async def monthly_report_reminders(ctx: AppContext) -> int:
    # 月报 not submitted by the county's due day: the school's managers and the county.
    async with ctx.uow() as uow:
        schools = await active_school_ids(uow.session)
    return await remind_late_reports(ctx, schools)


async def access_log_purge(ctx: AppContext) -> object:
    # Access-log rows past their retention go (idempotent).
    return await access_logs.purge(ctx)


async def illness_certificates_job(ctx: AppContext) -> object:
    # Children back from illness without a 复课证明: the 疫情报告人 hears once a school day.
    async with ctx.uow() as uow:
        schools = await active_school_ids(uow.session)
    return await illness_certificates.remind(ctx, schools)


async def illness_clusters_job(ctx: AppContext) -> object:
    # The cluster rules on the school days the roll marked (the roll never runs them).
    return await illness_detection.look_at_changed_days(ctx)


async def attendance_partitions(ctx: AppContext) -> object:
    # The attendance tables' months ahead exist before the roll reaches them (PostgreSQL;
    # a row of a month nobody created would sit in DEFAULT and block creating it later).
    return await partitions.ensure(ctx.engine, ctx.clock().date(), ahead=PARTITIONS_AHEAD)


# Six months: a job stopped for a term still leaves the roll its months.
PARTITIONS_AHEAD = 6


JOBS: tuple[Job, ...] = (
    Job("roll-reminders", "未点名提醒", 60, roll_reminders),
    Job("left-school-overdue", "离校未归联系超时", 60, escalate_overdue),
    Job("return-notices", "返校通知书逾期检查", 60, return_notices),
    Job("task-reminders", "任务到期提醒", 60, task_reminders),
    Job("vacant-roles", "岗位空缺提醒", 60, vacant_roles),
    Job("care-reminders", "关爱联系提醒", 3600, care_reminders),
    Job("absence-measures", "缺勤率与间歇性缺勤统计", 3600, compute_measures),
    Job("access-log-purge", "访问日志清理", 3600, access_log_purge),
    Job("monthly-report-reminders", "月报逾期提醒", 3600, monthly_report_reminders),
    Job("transfer-moves", "转学离校日生效", 60, move_due_transfers),
    Job("guardian-notices", "家长未到校通知", 60, send_guardian_notices),
    Job(
        "illness-clusters",
        "因病缺勤聚集检测",
        60,
        illness_clusters_job,
        every_setting="illness_detect_seconds",
    ),
    Job("illness-overdue", "疫情报告逾期上报", 60, illness_clusters.escalate_overdue),
    Job("illness-certificates", "复课证明提醒", 600, illness_certificates_job),
    Job("attendance-partitions", "考勤分区预建", 3600, attendance_partitions),
)
# The deadline sweep's row: each failure, and a success at most every 30 s per engine.
SWEEP_JOB = "deadline-sweep"
LABELS = {SWEEP_JOB: "期限扫描", **{job.name: job.label for job in JOBS}}


async def run_job(ctx: AppContext, job: Job) -> bool:
    """One run of ``job``, recorded; True when it succeeded. Never raises: a failure is
    logged and recorded, and the job runs again at its next turn (each is idempotent)."""
    started = ctx.clock()
    t0 = time.perf_counter()
    error: str | None = None
    try:
        result = await job.run(ctx)
    except Exception as exc:
        log.exception("job %s failed", job.name)
        error = describe(exc)
    else:
        log.debug("job %s: %s (%.0f ms)", job.name, result, (time.perf_counter() - t0) * 1000)
    try:
        async with ctx.uow() as uow:
            await engine_jobs.record(uow.session, job.name, started, error)
            await uow.commit()
    except Exception:  # the database itself is down: the log has it
        log.exception("could not record the run of job %s", job.name)
    return error is None
