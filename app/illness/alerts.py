"""Cluster alerts as people read them, and the report (传染病疫情报告) that answers one."""

from __future__ import annotations

from typing import Any

from app.context import AppContext
from app.db.models import IllnessAlert, IllnessReport
from app.db.models import School as _School
from app.db.uow import UnitOfWork
from app.domain import health_access as health
from app.domain.access import Actor
from app.domain.attendance import Symptom
from app.domain.illness import DISEASE_LABELS, SCOPE_LABELS, Disease, Scope
from app.errors import Conflict, Forbidden, NotFound
from app.illness import repo
from app.illness.labels import SYMPTOM_LABELS
from app.illness.register import school_ref, symptom_labels
from app.illness.schemas import AlertCaseOut, IllnessAlertOut, IllnessReportIn, IllnessReportOut
from app.illness.webhook import cluster_event
from app.roster import repository as students_repo

STATUS_LABELS = {"open": "待报告", "reported": "已报告", "escalated": "逾期未报(已上报县)"}


def alert_out(alert: IllnessAlert, names: dict[int, str], visible: bool) -> IllnessAlertOut:
    assert alert.id is not None
    cases = [
        AlertCaseOut(
            student_id=c["student_id"],
            student_name=names.get(c["student_id"]) if visible else None,
            class_id=c["class_id"],
            day=c["day"],
            symptoms=symptom_labels(c["symptoms"]) if visible else None,
            onset_at=c["onset_at"] if visible else None,
        )
        for c in alert.cases
    ]
    return IllnessAlertOut(
        id=alert.id,
        school_id=alert.school_id,
        rule_code=alert.rule_code,
        rule_name=alert.rule_name,
        scope=Scope(alert.scope),
        scope_id=alert.scope_id,
        window_start=alert.window_start,
        window_end=alert.window_end,
        count=len(alert.cases),
        status=alert.status,
        status_label=STATUS_LABELS[alert.status],
        report_due=alert.report_due,
        reported_at=alert.reported_at,
        escalated_at=alert.escalated_at,
        masked=not visible,
        cases=cases,
    )


def _sees(actor: Actor, alert: IllnessAlert) -> bool:
    """Who reads an alert's cases: the school's 疫情报告人, principal, county health contact
    (a head teacher sees the alert only through the register of the class)."""
    return health.can_see_health(actor, alert.county_id, alert.school_id, -1)


async def _names(uow: UnitOfWork, alerts: list[IllnessAlert]) -> dict[int, str]:
    return await students_repo.student_names(
        uow.session, [c["student_id"] for a in alerts for c in a.cases]
    )


async def list_alerts(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, *, school_id: int | None, county_id: int | None
) -> list[IllnessAlertOut]:
    if school_id is not None:
        school = await school_ref(uow, ctx, school_id)
        if not health.can_read_school_illness(actor, school.county_id, school_id):
            raise NotFound("学校", school_id)
        rows = await repo.alerts_of(uow.session, [school_id], None)
    elif county_id is not None:
        if not health.can_read_county_illness(actor, county_id):
            raise NotFound("县", county_id)
        rows = await repo.alerts_of(uow.session, None, county_id)
    else:
        rows = await repo.alerts_of(
            uow.session, sorted(actor.managed_school_ids | actor.member_school_ids), None
        )
        rows = [a for a in rows if health.can_read_school_illness(actor, a.county_id, a.school_id)]
    names = await _names(uow, rows)
    return [alert_out(a, names, _sees(actor, a)) for a in rows]


def sees_cases(actor: Actor, alert: IllnessAlert) -> bool:
    return _sees(actor, alert)


async def names_of(uow: UnitOfWork, alerts: list[IllnessAlert]) -> dict[int, str]:
    return await _names(uow, alerts)


async def alert_for_reader(uow: UnitOfWork, actor: Actor, alert_id: int) -> IllnessAlert:
    """The alert, if ``actor`` may see it at all (404 otherwise)."""
    return await _alert(uow, actor, alert_id)


async def _alert(uow: UnitOfWork, actor: Actor, alert_id: int) -> IllnessAlert:
    alert = await uow.session.get(IllnessAlert, alert_id, with_for_update=True)
    if alert is None or not health.can_read_school_illness(actor, alert.county_id, alert.school_id):
        raise NotFound("疫情预警", alert_id)
    return alert


async def get_alert(uow: UnitOfWork, actor: Actor, alert_id: int) -> IllnessAlertOut:
    alert = await _alert(uow, actor, alert_id)
    return alert_out(alert, await _names(uow, [alert]), _sees(actor, alert))


def report_payload(alert: IllnessAlert, school_name: str, names: dict[int, str]) -> dict[str, Any]:
    """What the report says (stored as sent; the webhook's ``data``)."""
    return {
        "alert_id": alert.id,
        "school_id": alert.school_id,
        "school_name": school_name,
        "county_id": alert.county_id,
        "rule": {"code": alert.rule_code, "name": alert.rule_name},
        "scope": alert.scope,
        "scope_label": SCOPE_LABELS[Scope(alert.scope)],
        "scope_id": alert.scope_id,
        "disease": alert.disease,
        "disease_label": DISEASE_LABELS[Disease(alert.disease)] if alert.disease else None,
        "window_start": alert.window_start.isoformat(),
        "window_end": alert.window_end.isoformat(),
        "raised_at": alert.created_at.isoformat(),
        "report_due": alert.report_due.isoformat(),
        "count": len(alert.cases),
        "cases": [
            {
                "student_id": c["student_id"],
                "student_name": names.get(c["student_id"], ""),
                "class_id": c["class_id"],
                "day": c["day"],
                "onset_at": c["onset_at"],
                "symptoms": c["symptoms"],
                "symptom_labels": [SYMPTOM_LABELS[s] for s in map(Symptom, c["symptoms"])],
            }
            for c in alert.cases
        ],
    }


async def report(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, alert_id: int, data: IllnessReportIn
) -> IllnessReportOut:
    """The 疫情报告人 (or the principal) files the report: stored as sent, the alert
    ``reported``, and the ``illness.cluster`` event queued for the county's webhooks — all in
    one transaction (the outbox)."""
    alert = await _alert(uow, actor, alert_id)
    county = alert.county_id
    if not (
        actor.superuser
        or health.is_reporter(actor, county, alert.school_id)
        or (
            health.can_see_health(actor, county, alert.school_id, -1)
            and not health.is_health_contact(actor, county)
        )
    ):
        raise Forbidden("只有疫情报告人或校长可报告 (only the 疫情报告人 or the principal report)")
    if alert.status == "reported":
        raise Conflict("该预警已报告 (already reported)")
    school = await uow.session.get(_School, alert.school_id)
    now = ctx.clock()
    names = await _names(uow, [alert])
    payload = report_payload(alert, school.name if school else "", names)
    recipients = await cluster_event(uow, alert, payload, now)
    row = IllnessReport(
        alert_id=alert_id,
        county_id=county,
        school_id=alert.school_id,
        reported_by=actor.tag,
        reported_at=now,
        recipients=recipients,
        note=data.note,
        payload=payload,
    )
    alert.status = "reported"
    alert.reported_at = now
    alert.updated_at = now
    uow.session.add(alert)
    uow.session.add(row)
    await uow.flush()
    await uow.commit()
    assert row.id is not None
    return IllnessReportOut(
        id=row.id,
        alert_id=alert_id,
        school_id=row.school_id,
        reported_by=row.reported_by,
        reported_at=row.reported_at,
        recipients=row.recipients,
        note=row.note,
    )
