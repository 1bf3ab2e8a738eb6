"""预警 (alerts) and 缺勤案例 (absence cases): reading them scoped by role, and casework."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from app.alerts import case_actions, case_service
from app.alerts.case_schemas import (
    AlertDetail,
    AlertOut,
    CaseDetail,
    CaseOut,
    ContactIn,
    ContactOut,
    DecisionIn,
    ReportIn,
    ReportOut,
    ReturnIn,
    TaskDoneIn,
    TaskOut,
    VerifyIn,
)
from app.api.deps import Ctx, CurrentActor, Limit, Offset, Uow
from app.core.types import Id, Page, SchoolDate
from app.domain.cases import AlertStatus, CaseStatus, Level

router = APIRouter(prefix="/api/v1")
ALERTS = "预警 Alerts"
CASES = "缺勤案例 Cases"

_WHO_ANSWERS = (
    "预警接收角色及其上级可办理:蓝色预警 班主任、分管副校长、校长;黄色预警 分管副校长、校长;"
    "红色预警 校长;以及县教育局。其他能查看该预警的人 403,API 密钥只读 (403)。"
)
_CASEWORK = (
    "本班班主任或学校管理者;API 密钥只读 (403)。案例已结案等不接受该操作时 409,且不写入任何记录。"
)


@router.get(
    "/alerts",
    tags=[ALERTS],
    summary="预警列表",
    description="按级别、状态、学校、班级、学生、发出日期筛选,最新的在前。`from`/`to` 为"
    "学校当地日期(含),按各预警所属学校的时区判断发出日期 (school-local dates, inclusive).",
)
async def list_alerts(
    uow: Uow,
    actor: CurrentActor,
    level: Level | None = None,
    status: AlertStatus | None = None,
    school_id: Id | None = None,
    class_id: Id | None = None,
    student_id: Id | None = None,
    case_id: Id | None = None,
    raised_from: SchoolDate | None = Query(
        default=None, alias="from", description="发出日期起(学校当地日期,含)"
    ),
    raised_to: SchoolDate | None = Query(
        default=None, alias="to", description="发出日期止(学校当地日期,含)"
    ),
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AlertOut]:
    return await case_service.list_alerts(
        uow,
        actor,
        level=level,
        status=status,
        school_id=school_id,
        class_id=class_id,
        student_id=student_id,
        case_id=case_id,
        raised_from=raised_from,
        raised_to=raised_to,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/alerts/{alert_id}",
    tags=[ALERTS],
    summary="预警详情:规则、计入日期、通知对象、期限与经过",
)
async def get_alert(alert_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor) -> AlertDetail:
    return await case_service.get_alert(uow, ctx, actor, alert_id)


@router.post(
    "/alerts/{alert_id}/acknowledge",
    tags=[ALERTS],
    summary="确认收到预警(不等于核查)",
    description="记录首次确认的人和时间;重复确认返回 200 且不改变任何内容。预警状态不变。"
    + _WHO_ANSWERS,
)
async def acknowledge_alert(alert_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor) -> AlertOut:
    return await case_actions.acknowledge_alert(uow, ctx, actor, alert_id)


@router.post(
    "/alerts/{alert_id}/verify",
    tags=[ALERTS],
    summary="核查预警",
    description="记录核查(48 小时内)。已核查或已撤回的预警 409。" + _WHO_ANSWERS,
)
async def verify_alert(
    alert_id: Id, data: VerifyIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> AlertOut:
    return await case_actions.verify_alert(uow, ctx, actor, alert_id, data)


@router.get("/cases", tags=[CASES], summary="缺勤案例列表")
async def list_cases(
    uow: Uow,
    actor: CurrentActor,
    status: CaseStatus | None = None,
    level: Level | None = None,
    school_id: Id | None = None,
    class_id: Id | None = None,
    student_id: Id | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[CaseOut]:
    return await case_service.list_cases(
        uow,
        actor,
        status=status,
        level=level,
        school_id=school_id,
        class_id=class_id,
        student_id=student_id,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/cases/{case_id}",
    tags=[CASES],
    summary="缺勤案例详情:经过、家长联系、书面报告、任务、工作组、预警、未完成期限",
)
async def get_case(case_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor) -> CaseDetail:
    return await case_service.get_case(uow, ctx, actor, case_id)


@router.get(
    "/students/{student_id}/case",
    tags=[CASES],
    summary="学生当前的缺勤案例(未结案;没有则 404)",
)
async def student_case(student_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor) -> CaseDetail:
    return await case_service.student_case(uow, ctx, actor, student_id)


@router.post(
    "/cases/{case_id}/contacts",
    tags=[CASES],
    status_code=status.HTTP_201_CREATED,
    summary="登记家长联系(电话核实)",
    description="未联系上则 1 小时后再次联系到期;联系上时可填写缺勤原因。" + _CASEWORK,
)
async def log_contact(
    case_id: Id, data: ContactIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> ContactOut:
    return await case_actions.log_contact(uow, ctx, actor, case_id, data)


@router.post(
    "/cases/{case_id}/reports",
    tags=[CASES],
    status_code=status.HTTP_201_CREATED,
    summary="提交书面缺勤报告(报教务处)",
    description=_CASEWORK,
)
async def submit_report(
    case_id: Id, data: ReportIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> ReportOut:
    return await case_actions.submit_report(uow, ctx, actor, case_id, data)


@router.post(
    "/reports/{report_id}/accept",
    tags=[CASES],
    summary="接收书面报告",
    description="教务处、校长、分管副校长。已处理的报告 409。",
)
async def accept_report(
    report_id: Id,
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
    data: DecisionIn | None = None,
) -> ReportOut:
    return await case_actions.accept_report(uow, ctx, actor, report_id, data)


@router.post(
    "/reports/{report_id}/return",
    tags=[CASES],
    summary="退回书面报告(需重新提交)",
    description="教务处、校长、分管副校长;须写明退回理由。已处理的报告 409。",
)
async def return_report(
    report_id: Id, data: ReturnIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> ReportOut:
    return await case_actions.return_report(uow, ctx, actor, report_id, data)


@router.get(
    "/cases/{case_id}/tasks", tags=[CASES], summary="案例任务(电话核实、联合家访、复学确认)"
)
async def list_tasks(case_id: Id, uow: Uow, actor: CurrentActor) -> list[TaskOut]:
    return await case_service.list_tasks(uow, actor, case_id)


@router.post(
    "/tasks/{task_id}/complete",
    tags=[CASES],
    summary="完成任务",
    description="任务对应角色(本校或本班)或学校管理者。完成“复学确认”即确认复学。"
    "已完成的任务 409。",
)
async def complete_task(
    task_id: Id, data: TaskDoneIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> TaskOut:
    return await case_actions.complete_task(uow, ctx, actor, task_id, data)


@router.post(
    "/cases/{case_id}/reenrollment",
    tags=[CASES],
    summary="确认复学(红色预警后返校)",
    description="仅适用于“已返校,待确认复学”的案例,否则 409;确认后结案。" + _CASEWORK,
)
async def confirm_reenrollment(case_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor) -> CaseDetail:
    return await case_actions.confirm_reenrollment(uow, ctx, actor, case_id)
