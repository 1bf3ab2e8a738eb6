"""复课证明: a child back from an illness absence of ``KCBX_ILLNESS_CERTIFICATE_DAYS`` school
days or more, or from any notifiable disease, needs the certificate of a medical institution,
checked and filed by the school (who, which institution, its date); the 疫情报告人 keeps the
list of children back without one, and is reminded of it each school morning.

"Back" is the first present (or late) mark after the illness record's last day; sick leave
alone does not say when a child came back, so only illness recorded at the roll is listed.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from app.alerts import engine_repo as alerts_repo
from app.context import AppContext
from app.db.models import IllnessRecord, ReturnCertificate
from app.db.uow import UnitOfWork
from app.delivery import outbox
from app.delivery.outbox import Notice
from app.domain import health_access as health
from app.domain.access import Actor
from app.domain.illness import Disease, notifiable
from app.domain.roles import Role
from app.domain.schools import SchoolRef
from app.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from app.illness import repo
from app.illness.register import school_ref, visible_record
from app.illness.schemas import CertificateIn, CertificateOut, ReturnOut
from app.roster import repository as students_repo

TOPIC = "illness.no_certificate"
NOTICE_HOUR = 8
LOOK_BACK_DAYS = 30


def _out(c: ReturnCertificate) -> CertificateOut:
    return CertificateOut.model_validate(c, from_attributes=True)


async def record_certificate(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, record_id: int, data: CertificateIn
) -> CertificateOut:
    record, _ = await visible_record(uow, ctx, actor, record_id)
    if data.issued_on < record.school_date:
        raise Invalid(
            [
                FieldProblem(
                    ("body", "issued_on"),
                    "复课证明日期早于缺勤开始 (issued_on is before the illness absence began)",
                )
            ]
        )
    if await repo.certificates(uow.session, [record_id]):
        raise Conflict("该次因病缺勤已登记复课证明 (a certificate is on file already)")
    row = ReturnCertificate(
        record_id=record_id,
        student_id=record.student_id,
        institution=data.institution,
        issued_on=data.issued_on,
        recorded_by=actor.tag,
        recorded_at=ctx.clock(),
    )
    uow.session.add(row)
    await uow.commit()
    return _out(row)


def school_days_ill(school: SchoolRef, record: IllnessRecord) -> int:
    return len(school.calendar.school_days_between(record.school_date, record.last_day))


def needs_certificate(school: SchoolRef, record: IllnessRecord, min_days: int) -> bool:
    disease = Disease(record.diagnosis) if record.diagnosis else None
    return notifiable(disease) or school_days_ill(school, record) >= min_days


async def _missing(
    uow: UnitOfWork, ctx: AppContext, school: SchoolRef, today: date
) -> list[IllnessRecord]:
    back = await repo.returned_between(
        uow.session, [school.id], today - timedelta(days=LOOK_BACK_DAYS), today
    )
    needing = [
        r for r in back if needs_certificate(school, r, ctx.settings.illness_certificate_days)
    ]
    filed = await repo.certificates(uow.session, [r.id for r in needing if r.id is not None])
    return [r for r in needing if r.id not in filed]


async def without_certificate(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, school_id: int
) -> list[ReturnOut]:
    school = await school_ref(uow, ctx, school_id)
    if not health.can_read_school_illness(actor, school.county_id, school_id):
        raise NotFound("学校", school_id)
    if not health.can_see_health(actor, school.county_id, school_id, -1):
        raise Forbidden("复课证明名单仅疫情报告人、校长和县卫生健康联络人可查看")
    today = ctx.clock().astimezone(ZoneInfo(school.timezone)).date()
    missing = await _missing(uow, ctx, school, today)
    names = await students_repo.student_names(uow.session, [r.student_id for r in missing])
    out = []
    for r in missing:
        assert r.id is not None and r.returned_on is not None
        out.append(
            ReturnOut(
                record_id=r.id,
                student_id=r.student_id,
                student_name=names.get(r.student_id, ""),
                class_id=r.class_id,
                start_date=r.school_date,
                last_date=r.last_day,
                school_days=school_days_ill(school, r),
                returned_on=r.returned_on,
                notifiable=notifiable(Disease(r.diagnosis) if r.diagnosis else None),
            )
        )
    return out


async def remind(ctx: AppContext, school_ids: list[int]) -> int:
    """Each school morning, the 疫情报告人 (or, vacant, the principal) of a school with
    children back without a certificate hears how many; once a day (the key has the date)."""
    now = ctx.clock()
    rows: list[Notice] = []
    async with ctx.uow() as uow:
        for school_id in school_ids:
            school = await school_ref(uow, ctx, school_id)
            local = now.astimezone(ZoneInfo(school.timezone))
            if local.hour < NOTICE_HOUR or not school.calendar.is_school_day(local.date()):
                continue
            missing = await _missing(uow, ctx, school, local.date())
            if not missing:
                continue
            people = []
            for role in (Role.epidemic_reporter, Role.principal):
                people = await alerts_repo.recipients(
                    uow.session, role, county_id=school.county_id, school_id=school_id, class_id=0
                )
                if people:
                    break
            key = f"illness-cert:{school_id}:{local.date().isoformat()}"
            title = f"复课证明待查验:{len(missing)} 名学生因病缺勤后返校,未登记复课证明"
            for staff_id, _ in people:
                rows.append(
                    Notice(
                        idem_key=f"{key}:{staff_id}",
                        staff_id=staff_id,
                        role=role,
                        topic=TOPIC,
                        title=title,
                        school_id=school_id,
                        created_at=now,
                    )
                )
        await outbox.enqueue(uow.session, rows)
        await uow.commit()
    return len(rows)
