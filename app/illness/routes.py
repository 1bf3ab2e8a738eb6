"""因病缺勤 surveillance over HTTP (issue 21)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from fastapi.responses import Response

from app.api.deps import Ctx, CurrentActor, Uow
from app.core.report_files import ReportFormat
from app.core.types import Id, SchoolDate
from app.core.xlsx import content_disposition
from app.illness import alerts, certificates, register, report_form, rules, summary
from app.illness.schemas import (
    CertificateIn,
    CertificateOut,
    CountySummaryOut,
    FollowUpIn,
    IllnessAlertOut,
    IllnessReportIn,
    IllnessReportOut,
    RegisterEntryOut,
    RegisterOut,
    ReturnOut,
    RuleIn,
    RuleOut,
    SummaryOut,
)
from app.reports.files import XLSX_RESPONSES, Format, xlsx_file

RuleCode = Annotated[
    str, Path(pattern=r"^[a-z0-9_]{1,40}$", description="规则代码 (a default's code replaces it)")
]

router = APIRouter(prefix="/api/v1/illness", tags=["因病缺勤 Illness"])


@router.get(
    "/register",
    summary="因病缺勤登记 (illness register: the roll's illness absences and sick leave)",
    description="症状、发病时间、诊断仅疫情报告人、校长、本班班主任、县卫生健康联络人可见,"
    "其他人看到的条目 `masked`。",
)
async def get_register(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    school_id: Id,
    start: SchoolDate,
    end: SchoolDate,
    class_id: Id | None = None,
) -> RegisterOut:
    return await register.register(
        uow, ctx, actor, school_id=school_id, class_id=class_id, start=start, end=end
    )


@router.post(
    "/records/{record_id}/follow-up",
    summary="病因追查 (the head teacher's follow-up of an illness absence)",
)
async def follow_up(
    record_id: Id, data: FollowUpIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> RegisterEntryOut:
    return await register.follow_up(uow, ctx, actor, record_id, data)


@router.get("/alerts", summary="疫情预警 (illness cluster alerts)")
async def list_alerts(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    school_id: Id | None = None,
    county_id: Id | None = None,
) -> list[IllnessAlertOut]:
    return await alerts.list_alerts(uow, ctx, actor, school_id=school_id, county_id=county_id)


@router.get("/alerts/{alert_id}", summary="疫情预警详情")
async def get_alert(alert_id: Id, uow: Uow, actor: CurrentActor) -> IllnessAlertOut:
    return await alerts.get_alert(uow, actor, alert_id)


@router.get(
    "/alerts/{alert_id}/report-form",
    summary="传染病疫情报告(DOCX,可打印;未报告时为草稿)",
    description="含学生姓名与症状:仅疫情报告人、校长、县卫生健康联络人(其他人 403)。",
    response_class=Response,
    responses={200: {"content": {report_form.DOCX_MEDIA_TYPE: {}}}},
)
async def report_document(alert_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor) -> Response:
    content, filename, fallback = await report_form.document(uow, ctx, actor, alert_id)
    return Response(
        content=content,
        media_type=report_form.DOCX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(filename, fallback)},
    )


@router.post(
    "/alerts/{alert_id}/report",
    status_code=status.HTTP_201_CREATED,
    summary="提交传染病疫情报告 (file the report: stored, webhook illness.cluster)",
)
async def report(
    alert_id: Id, data: IllnessReportIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> IllnessReportOut:
    return await alerts.report(uow, ctx, actor, alert_id, data)


@router.get(
    "/summary",
    summary="因病缺勤日报 (班级汇总表 today and the last 3 school days by symptom; 零报告)",
    description="仅人数,不含学生姓名;学校管理者、疫情报告人、县教育局、县卫生健康联络人可查看。",
    response_model=SummaryOut,
    responses=XLSX_RESPONSES,
)
async def school_summary(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    school_id: Id,
    day: SchoolDate,
    format: Format = ReportFormat.json,
) -> SummaryOut | Response:
    out = await summary.school_summary(uow, ctx, actor, school_id, day)
    if format is ReportFormat.xlsx:
        return xlsx_file(summary.school_summary_xlsx(out))
    return out


@router.get(
    "/county-summary",
    summary="全县因病缺勤日报 (every school's summary)",
    response_model=CountySummaryOut,
    responses=XLSX_RESPONSES,
)
async def county_summary(
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    county_id: Id,
    day: SchoolDate,
    format: Format = ReportFormat.json,
) -> CountySummaryOut | Response:
    out = await summary.county_summary(uow, ctx, actor, county_id, day)
    if format is ReportFormat.xlsx:
        return xlsx_file(summary.county_summary_xlsx(out))
    return out


@router.post(
    "/records/{record_id}/certificate",
    status_code=status.HTTP_201_CREATED,
    summary="登记复课证明 (record the return-to-school certificate)",
)
async def record_certificate(
    record_id: Id, data: CertificateIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> CertificateOut:
    return await certificates.record_certificate(uow, ctx, actor, record_id, data)


@router.get(
    "/returns-without-certificate",
    summary="返校未交复课证明名单 (children back from illness without a certificate)",
)
async def returns_without_certificate(
    uow: Uow, ctx: Ctx, actor: CurrentActor, school_id: Id
) -> list[ReturnOut]:
    return await certificates.without_certificate(uow, ctx, actor, school_id)


@router.get("/counties/{county_id}/rules", summary="聚集性疫情规则 (the county's cluster rules)")
async def list_rules(county_id: Id, uow: Uow, actor: CurrentActor) -> list[RuleOut]:
    return await rules.list_rules(uow, actor, county_id)


@router.put(
    "/counties/{county_id}/rules/{code}",
    summary="设置聚集性疫情规则 (add a rule, or replace or switch off a default by its code)",
)
async def put_rule(
    county_id: Id, code: RuleCode, data: RuleIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> RuleOut:
    return await rules.put_rule(uow, ctx, actor, county_id, code, data)
