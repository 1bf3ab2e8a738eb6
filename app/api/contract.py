"""The published contract, named once here so client generators get stable, readable names.

- Operation ids are written down in ``OPERATION_IDS`` (``alerts_verify``,
  ``attendance_events_create``…): a generated client's method names never follow a Python
  function or module rename. A route missing from the table is named ``<tag>_<function>``.
- Tags are ASCII identifiers (``alerts``) with the Chinese label as their description, so
  generated modules are ``api/alerts/…``.
- Every operation documents the 4xx it can answer (``documented_errors``), each an RFC 9457
  problem document (app/api/problems.py).
- Component names never carry a module path: form bodies are named after their operation.
- A field with a default is required in no request and always listed in an answer
  (app/api/defaults.py).

Routers stay as they are: this module rewrites the generated document (app/api/openapi.py)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute

from app.api import defaults
from app.api.problems import PROBLEM_MEDIA_TYPE

API_TITLE = "KCBX"
CLIENT_PACKAGE = "kcbx_client"

# The Chinese tag of each router → (ASCII tag, description).
TAGS: dict[str, tuple[str, str]] = {
    "登录 Sign-in": ("auth", "登录与当前用户 (sign-in)"),
    "考勤 Attendance": ("attendance", "考勤:一日三查点名、三个名单 (attendance)"),
    "预警 Alerts": ("alerts", "红黄蓝预警:查看、签收、核查 (alerts)"),
    "缺勤案例 Cases": ("cases", "缺勤案例:家长联系、书面报告、任务、复学 (absence cases)"),
    "劝返 Persuasion": ("casework", "劝返:联合家访、谈话记录、一人一策 (persuasion)"),
    "返校通知与销号 Return notices": ("return_notices", "辍学生返校通知书与销号 (return notices)"),
    "转学与休学 Transfers and suspensions": ("transfers", "转学、休学与学籍异动 (transfers)"),
    "学生 Students": ("students", "学生 (students)"),
    "批量导入 Import": ("imports", "批量导入花名册与教职工 (bulk imports)"),
    "学校、年级、班级 Schools, grades, classes": ("schools", "学校、年级、班级 (schools)"),
    "县与乡镇 Counties & townships": ("counties", "县与乡镇 (counties and townships)"),
    "教职工与密钥 Staff & API keys": ("staff", "教职工、角色与 API 密钥 (staff)"),
    "校历 School calendar": ("calendar", "校历与国家节假日 (school calendar)"),
    "请假 Leave": ("leaves", "请假 (leave)"),
    "特殊群体关爱 Care": ("care", "特殊群体关爱 (special-group care)"),
    "消息 Inbox": ("inbox", "站内消息 (inbox)"),
    "通知渠道 Delivery": ("delivery", "通知渠道与事件推送 (delivery)"),
    "预警规则与引擎 Alert policy & engine": ("engine", "预警规则与引擎 (alert policy, engine)"),
    "报表 Reports": ("reports", "报表:三个名单、周通报 (reports)"),
    "通报与研判 Bulletins & reviews": ("reviews", "月研判与县通报 (bulletins, reviews)"),
    "台账与指标 Ledgers & rates": ("ledgers", "台账与指标 (ledgers, rates)"),
    "适龄儿童台账 School-age children": ("school_age", "适龄儿童台账 (school-age children)"),
    "访问日志 Access log": ("access_logs", "访问日志 (access log)"),
    "运维 Operations": ("operations", "运维:存活与就绪 (operations)"),
}

OPERATION_IDS: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/attendance-events"): "attendance_events_create",
    ("POST", "/api/v1/attendance-events/batch"): "attendance_events_batch_create",
    ("POST", "/api/v1/attendance-events/single"): "attendance_events_single_create",
    ("GET", "/api/v1/classes/{class_id}/roll"): "classes_roll_get",
    ("GET", "/api/v1/attendance/lists"): "attendance_lists_get",
    ("GET", "/api/v1/students/{student_id}/attendance"): "students_attendance_get",
    ("GET", "/api/v1/students/{student_id}/attendance-events"): "students_attendance_events_list",
    ("GET", "/api/v1/attendance/compliance"): "attendance_compliance_get",
    ("GET", "/healthz"): "operations_healthz",
    ("GET", "/readyz"): "operations_readyz",
    ("POST", "/api/v1/auth/token"): "auth_token_create",
    ("POST", "/api/v1/auth/login"): "auth_login_create",
    ("GET", "/api/v1/auth/me"): "auth_me_get",
    ("POST", "/api/v1/counties"): "counties_create",
    ("GET", "/api/v1/counties"): "counties_list",
    ("GET", "/api/v1/counties/{county_id}"): "counties_get",
    ("PATCH", "/api/v1/counties/{county_id}"): "counties_update",
    ("DELETE", "/api/v1/counties/{county_id}"): "counties_deactivate",
    ("POST", "/api/v1/townships"): "townships_create",
    ("GET", "/api/v1/townships"): "townships_list",
    ("GET", "/api/v1/townships/{township_id}"): "townships_get",
    ("PATCH", "/api/v1/townships/{township_id}"): "townships_update",
    ("DELETE", "/api/v1/townships/{township_id}"): "townships_deactivate",
    ("POST", "/api/v1/schools"): "schools_create",
    ("GET", "/api/v1/schools"): "schools_list",
    ("GET", "/api/v1/schools/{school_id}"): "schools_get",
    ("PATCH", "/api/v1/schools/{school_id}"): "schools_update",
    ("DELETE", "/api/v1/schools/{school_id}"): "schools_deactivate",
    ("POST", "/api/v1/grades"): "grades_create",
    ("GET", "/api/v1/grades"): "grades_list",
    ("GET", "/api/v1/grades/{grade_id}"): "grades_get",
    ("PATCH", "/api/v1/grades/{grade_id}"): "grades_update",
    ("DELETE", "/api/v1/grades/{grade_id}"): "grades_deactivate",
    ("POST", "/api/v1/classes"): "classes_create",
    ("GET", "/api/v1/classes"): "classes_list",
    ("GET", "/api/v1/classes/{class_id}"): "classes_get",
    ("PATCH", "/api/v1/classes/{class_id}"): "classes_update",
    ("DELETE", "/api/v1/classes/{class_id}"): "classes_deactivate",
    ("POST", "/api/v1/students"): "students_create",
    ("GET", "/api/v1/students"): "students_list",
    ("GET", "/api/v1/students/{student_id}"): "students_get",
    ("PATCH", "/api/v1/students/{student_id}"): "students_update",
    ("DELETE", "/api/v1/students/{student_id}"): "students_deactivate",
    ("POST", "/api/v1/staff"): "staff_create",
    ("GET", "/api/v1/staff"): "staff_list",
    ("GET", "/api/v1/staff/{staff_id}"): "staff_get",
    ("PATCH", "/api/v1/staff/{staff_id}"): "staff_update",
    ("DELETE", "/api/v1/staff/{staff_id}"): "staff_deactivate",
    ("POST", "/api/v1/staff/{staff_id}/roles"): "staff_roles_grant",
    ("DELETE", "/api/v1/staff/{staff_id}/roles/{grant_id}"): "staff_roles_revoke",
    ("GET", "/api/v1/api-keys"): "api_keys_list",
    ("POST", "/api/v1/api-keys"): "api_keys_create",
    ("DELETE", "/api/v1/api-keys/{key_id}"): "api_keys_revoke",
    ("POST", "/api/v1/imports/students"): "imports_students_create",
    ("POST", "/api/v1/imports/roster"): "imports_roster_create",
    ("POST", "/api/v1/imports/staff"): "imports_staff_create",
    ("GET", "/api/v1/imports/templates/roster.xlsx"): "imports_roster_template",
    ("GET", "/api/v1/imports/templates/staff.xlsx"): "imports_staff_template",
    ("GET", "/api/v1/schools/{school_id}/calendar"): "calendar_school_get",
    ("POST", "/api/v1/schools/{school_id}/terms"): "terms_create",
    ("GET", "/api/v1/schools/{school_id}/terms"): "terms_list",
    ("GET", "/api/v1/terms/{term_id}"): "terms_get",
    ("PATCH", "/api/v1/terms/{term_id}"): "terms_update",
    ("DELETE", "/api/v1/terms/{term_id}"): "terms_delete",
    ("POST", "/api/v1/schools/{school_id}/calendar-overrides"): "calendar_overrides_create",
    ("GET", "/api/v1/schools/{school_id}/calendar-overrides"): "calendar_overrides_list",
    ("DELETE", "/api/v1/calendar-overrides/{override_id}"): "calendar_overrides_delete",
    ("GET", "/api/v1/national-calendar"): "national_calendar_get",
    ("GET", "/api/v1/national-calendar/{year}"): "national_calendar_year_get",
    ("PUT", "/api/v1/national-calendar/{year}"): "national_calendar_year_put",
    ("POST", "/api/v1/leaves"): "leaves_create",
    ("GET", "/api/v1/leaves"): "leaves_list",
    ("GET", "/api/v1/leaves/{leave_id}"): "leaves_get",
    ("POST", "/api/v1/leaves/{leave_id}/approve"): "leaves_approve",
    ("POST", "/api/v1/leaves/{leave_id}/reject"): "leaves_reject",
    ("POST", "/api/v1/leaves/{leave_id}/cancel"): "leaves_cancel",
    ("GET", "/api/v1/alert-policies/county/{county_id}"): "alert_policies_county_get",
    ("PUT", "/api/v1/alert-policies/county/{county_id}"): "alert_policies_county_put",
    ("GET", "/api/v1/alert-policies/school/{school_id}"): "alert_policies_school_get",
    ("PUT", "/api/v1/alert-policies/school/{school_id}"): "alert_policies_school_put",
    ("GET", "/api/v1/engine/health"): "engine_health_get",
    ("GET", "/api/v1/sim/clock"): "sim_clock_get",
    ("POST", "/api/v1/sim/clock"): "sim_clock_move",
    ("GET", "/api/v1/alerts"): "alerts_list",
    ("GET", "/api/v1/alerts/{alert_id}"): "alerts_get",
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): "alerts_acknowledge",
    ("POST", "/api/v1/alerts/{alert_id}/verify"): "alerts_verify",
    ("GET", "/api/v1/schools/{school_id}/left-school-alerts"): "left_school_alerts_list",
    ("POST", "/api/v1/left-school-alerts/{alert_id}/contact"): "left_school_alerts_contact",
    ("GET", "/api/v1/reports/early-warning"): "reports_early_warning_get",
    ("GET", "/api/v1/students/{student_id}/absence-measure"): "students_absence_measure_get",
    ("GET", "/api/v1/cases"): "cases_list",
    ("GET", "/api/v1/cases/{case_id}"): "cases_get",
    ("GET", "/api/v1/students/{student_id}/case"): "students_case_get",
    ("POST", "/api/v1/cases/{case_id}/contacts"): "cases_contacts_create",
    ("POST", "/api/v1/cases/{case_id}/reports"): "cases_reports_create",
    ("POST", "/api/v1/reports/{report_id}/accept"): "absence_reports_accept",
    ("POST", "/api/v1/reports/{report_id}/return"): "absence_reports_return",
    ("GET", "/api/v1/cases/{case_id}/tasks"): "cases_tasks_list",
    ("POST", "/api/v1/tasks/{task_id}/complete"): "tasks_complete",
    ("POST", "/api/v1/cases/{case_id}/reenrollment"): "cases_reenrollment_confirm",
    ("POST", "/api/v1/cases/{case_id}/home-visits"): "cases_home_visits_create",
    ("GET", "/api/v1/cases/{case_id}/home-visits"): "cases_home_visits_list",
    ("POST", "/api/v1/cases/{case_id}/talks"): "cases_talks_create",
    ("GET", "/api/v1/cases/{case_id}/talks"): "cases_talks_list",
    ("PUT", "/api/v1/cases/{case_id}/plan"): "cases_plan_put",
    ("GET", "/api/v1/cases/{case_id}/plan"): "cases_plan_get",
    ("POST", "/api/v1/cases/{case_id}/return-notice"): "return_notices_issue",
    ("GET", "/api/v1/cases/{case_id}/return-notice"): "return_notices_of_case_get",
    ("GET", "/api/v1/return-notices/{notice_id}/document"): "return_notices_document_get",
    ("POST", "/api/v1/return-notices/check"): "return_notices_check",
    ("POST", "/api/v1/return-notices/{notice_id}/escalate"): "return_notices_escalate",
    ("POST", "/api/v1/return-notices/{notice_id}/strike-off"): "return_notices_strike_off",
    ("POST", "/api/v1/return-notices/{notice_id}/delivery"): "return_notices_delivery_record",
    ("POST", "/api/v1/transfers"): "transfers_create",
    ("GET", "/api/v1/transfers"): "transfers_list",
    ("GET", "/api/v1/transfers/{transfer_id}"): "transfers_get",
    ("POST", "/api/v1/transfers/{transfer_id}/head-teacher-sign"): "transfers_head_teacher_sign",
    ("POST", "/api/v1/transfers/{transfer_id}/receiving-sign"): "transfers_receiving_sign",
    ("POST", "/api/v1/transfers/{transfer_id}/approve"): "transfers_approve",
    ("POST", "/api/v1/transfers/{transfer_id}/reject"): "transfers_reject",
    (
        "POST",
        "/api/v1/students/{student_id}/left-without-transfer",
    ): "students_left_without_transfer",
    ("GET", "/api/v1/students/{student_id}/enrollment-changes"): "students_enrollment_changes_list",
    ("POST", "/api/v1/students/{student_id}/suspensions"): "suspensions_create",
    ("GET", "/api/v1/students/{student_id}/suspensions"): "suspensions_list",
    ("POST", "/api/v1/suspensions/{suspension_id}/end"): "suspensions_end",
    ("GET", "/api/v1/cases/{case_id}/follow-ups"): "cases_follow_ups_list",
    ("POST", "/api/v1/students/{student_id}/mentor"): "students_mentor_assign",
    ("POST", "/api/v1/students/{student_id}/care-contacts"): "care_contacts_create",
    ("GET", "/api/v1/students/{student_id}/care-contacts"): "care_contacts_list",
    ("GET", "/api/v1/ledgers/special-groups"): "ledgers_special_groups_get",
    ("GET", "/api/v1/inbox"): "inbox_list",
    ("POST", "/api/v1/inbox/{notification_id}/read"): "inbox_mark_read",
    ("POST", "/api/v1/inbox/{notification_id}/acknowledge"): "inbox_acknowledge",
    ("GET", "/api/v1/schools/{school_id}/delivery"): "delivery_settings_get",
    ("PUT", "/api/v1/schools/{school_id}/delivery"): "delivery_settings_put",
    ("PUT", "/api/v1/schools/{school_id}/channels/{channel}"): "delivery_channel_put",
    ("GET", "/api/v1/webhook-subscriptions"): "webhook_subscriptions_list",
    ("POST", "/api/v1/webhook-subscriptions"): "webhook_subscriptions_create",
    ("DELETE", "/api/v1/webhook-subscriptions/{sub_id}"): "webhook_subscriptions_delete",
    ("GET", "/api/v1/notifications/{notification_id}/deliveries"): "notifications_deliveries_list",
    ("GET", "/api/v1/alerts/{alert_id}/deliveries"): "alerts_deliveries_list",
    ("GET", "/api/v1/reports/three-lists"): "reports_three_lists_get",
    ("GET", "/api/v1/reports/weekly-bulletin"): "reports_weekly_bulletin_get",
    ("GET", "/api/v1/reports/monthly-review"): "reports_monthly_review_get",
    ("GET", "/api/v1/reports/county-bulletin"): "reports_county_bulletin_get",
    ("GET", "/api/v1/reports/county-monthly-review"): "reports_county_monthly_review_get",
    ("GET", "/api/v1/ledgers/persuasion-talks"): "ledgers_persuasion_talks_get",
    ("GET", "/api/v1/ledgers/absence-tracking"): "ledgers_absence_tracking_get",
    ("GET", "/api/v1/ledgers/county"): "ledgers_county_get",
    ("GET", "/api/v1/reports/rates"): "reports_rates_get",
    ("GET", "/api/v1/reports/absence-trend"): "reports_absence_trend_get",
    ("POST", "/api/v1/schools/{school_id}/monthly-reports"): "monthly_reports_submit",
    (
        "POST",
        "/api/v1/schools/{school_id}/monthly-reports/{month}/corrections",
    ): "monthly_reports_correct",
    ("GET", "/api/v1/schools/{school_id}/monthly-reports"): "monthly_reports_get",
    ("GET", "/api/v1/counties/{county_id}/monthly-reports"): "monthly_reports_county_list",
    (
        "POST",
        "/api/v1/counties/{county_id}/school-age-children/import",
    ): "school_age_children_import",
    ("GET", "/api/v1/counties/{county_id}/ledgers/school-age-children"): "ledgers_school_age_get",
    ("GET", "/api/v1/access-logs"): "access_logs_list",
}

XLSX_SUFFIX = ".xlsx"
_METHODS = ("get", "put", "post", "delete", "patch")
_WRITES = {"post", "put", "patch", "delete"}
BINARY_MEDIA_TYPES = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)
LOCAL_TIME = {
    "type": "string",
    "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?$",
    "description": "学校当地时间,不带时区 (the school's local wall-clock time, HH:MM[:SS])",
    "examples": ["07:50:00"],
}


_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


def tag_name(tag: str) -> str:
    """The ASCII tag of a router's tag; a tag not in the table is named by its ASCII words."""
    if tag in TAGS:
        return TAGS[tag][0]
    words = re.sub(r"[^a-z0-9]+", "_", tag.encode("ascii", "ignore").decode().lower())
    return words.strip("_") or "default"


def operation_id(method: str, path: str) -> str | None:
    """The table's name; an XLSX twin (app/reports/xlsx_routes.py) is its JSON operation's name
    with ``_xlsx`` for ``_get``."""
    if (method, path) in OPERATION_IDS:
        return OPERATION_IDS[(method, path)]
    if path.endswith(XLSX_SUFFIX) and (method, path.removesuffix(XLSX_SUFFIX)) in OPERATION_IDS:
        return (
            OPERATION_IDS[(method, path.removesuffix(XLSX_SUFFIX))].removesuffix("_get") + "_xlsx"
        )
    return None


def unique_id(route: APIRoute) -> str:
    """FastAPI's ``generate_unique_id_function``: the table's name, else ``<tag>_<function>``."""
    for method in sorted(route.methods or ()):
        known = operation_id(method, route.path)
        if known is not None:
            return known
    tag = tag_name(str(route.tags[0])) if route.tags else "default"
    return f"{tag}_{route.name}"


def _problem(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


_ERRORS: dict[int, tuple[str, str]] = {
    400: ("Problem", "请求有误 (bad request)"),
    401: ("Problem", "未登录或凭据无效 (sign in first; code unauthorized)"),
    403: ("Problem", "角色无权执行此操作 (the caller's role may not do this; code forbidden)"),
    404: ("Problem", "对象不存在或不在调用者范围内 (unknown or out of scope; code not_found)"),
    409: (
        "Problem",
        "与当前状态或已有数据冲突 (conflicts with the current state; code conflict.*)",
    ),
    413: ("Problem", "内容过大 (content too large; code payload_too_large)"),
    422: ("ValidationProblem", "字段有误,errors 逐项说明 (invalid fields; code validation_failed)"),
    429: ("Problem", "请求过于频繁,请稍后再试 (too many attempts; code rate_limited, import.busy)"),
}

# Statuses an operation answers beyond what its shape implies (see documented_errors).
EXTRA_ERRORS: dict[str, set[int]] = {
    "auth_token_create": {401, 429},
    "auth_login_create": {401, 429},
    "attendance_events_create": {409, 413},
    "attendance_events_batch_create": {413},
    "attendance_events_single_create": {409},
    # WeChat sign-in: unbound without a code (401), not configured or unknown code (404), a
    # binding code used twice (409), the staff sign-in's throttle (429).
    "guardians_parent_sign_in": {401, 404, 409},
    "guardians_staff_sign_in": {401, 404, 429},
    # Imports: a file beyond a limit, or all import slots busy (app/api/uploads.py).
    **{
        op: {413, 429}
        for op in (
            "imports_students_create",
            "imports_roster_create",
            "imports_staff_create",
            "school_age_children_import",
        )
    },
}


def documented_errors(method: str, op: dict[str, Any]) -> set[int]:
    """The 4xx an operation can really answer, read from its shape: signed-in operations
    401/403; any that names an object (a path id, an ``*_id`` parameter, a body) 404; writes
    409 (state and uniqueness conflicts); anything with parameters or a body 422."""
    params = op.get("parameters", [])
    has_body = "requestBody" in op
    statuses = set(EXTRA_ERRORS.get(op.get("operationId", ""), set()))
    if op.get("security"):
        statuses |= {401, 403}
        names_object = any(
            p["in"] == "path" or p["name"].endswith("_id") or p["name"] == "year" for p in params
        )
        if names_object or has_body:
            statuses.add(404)
        if method in _WRITES:
            statuses.add(409)
    if params or has_body:
        statuses.add(422)
    for code in op.get("responses", {}):
        if code.isdigit() and 400 <= int(code) < 500:
            statuses.add(int(code))
    return statuses


def _walk(node: Any, visit: Any) -> None:
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            _walk(value, visit)


def _camel(snake: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_") if part)


def apply(doc: dict[str, Any]) -> None:
    """Rewrite FastAPI's document into the published contract, in place."""
    used_tags: dict[str, str] = {}
    renames: dict[str, str] = {}
    for path, item in doc.get("paths", {}).items():
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            old_id = op.get("operationId", "")
            op_id = operation_id(method.upper(), path) or old_id
            if method == "get" and path + XLSX_SUFFIX in doc["paths"]:
                _json_only(op, path)
            op["operationId"] = op_id
            tags = []
            for tag in op.get("tags", []):
                name = tag_name(tag)
                used_tags.setdefault(name, TAGS[tag][1] if tag in TAGS else tag)
                tags.append(name)
            op["tags"] = tags
            _document_errors(method, op)
            _declare_binary(op)
            body = op.get("requestBody", {}).get("content", {})
            for media in body.values():
                ref = media.get("schema", {}).get("$ref", "")
                name = ref.rsplit("/", 1)[-1]
                if name.startswith("Body_"):
                    renames[name] = f"{_camel(op_id)}Form"
    schemas = doc.get("components", {}).get("schemas", {})
    for name, schema in schemas.items():
        # generic models (``Page[AlertOut]``) are keyed ``Page_AlertOut_``; their title is the
        # name they chose (``AlertOutPage``, app/core/types.py)
        title = schema.get("title")
        fresh = title != name and title not in schemas
        if name not in renames and fresh and _IDENTIFIER.match(str(title)):
            renames[name] = str(title)
    for old, new in renames.items():
        if old in schemas:
            schemas[new] = schemas.pop(old)
            schemas[new]["title"] = new
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)

    def visit(node: dict[str, Any]) -> None:
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[-1]
            if name in renames:
                node["$ref"] = f"#/components/schemas/{renames[name]}"
        if node.get("type") == "string" and "contentMediaType" in node:
            node.setdefault("format", "binary")  # an upload: generators know files by this
        if node.get("type") == "string" and node.get("format") == "time":
            del node["format"]
            for key, value in LOCAL_TIME.items():
                node.setdefault(key, value)

    _walk(doc, visit)
    doc["tags"] = [{"name": n, "description": d} for n, d in sorted(used_tags.items())]
    defaults.settle(doc)  # no generator makes a caller send a field that has a default


def _document_errors(method: str, op: dict[str, Any]) -> None:
    responses = op.setdefault("responses", {})
    for status in sorted(documented_errors(method, op)):
        schema, description = _ERRORS.get(status, ("Problem", "请求有误 (client error)"))
        given = responses.get(str(status), {})
        content = given.get("content", {})
        if PROBLEM_MEDIA_TYPE in content:
            continue  # the route declared its own problem body
        fastapi_default = "HTTPValidationError" in str(content)
        if fastapi_default:
            given, content = {}, {}
        if "application/json" in content and not fastapi_default:  # the route's own model
            given["content"] = {PROBLEM_MEDIA_TYPE: content.pop("application/json")}
            continue
        responses[str(status)] = _problem(schema, given.get("description") or description)


def _json_only(op: dict[str, Any], path: str) -> None:
    """The JSON operation of a report with an XLSX twin: ``format`` is the twin's business."""
    op["parameters"] = [p for p in op.get("parameters", []) if p["name"] != "format"]
    ok = op.get("responses", {}).get("200", {})
    for media_type in BINARY_MEDIA_TYPES:
        ok.get("content", {}).pop(media_type, None)
    ok["description"] = f"JSON;Excel 文件见 GET {path}{XLSX_SUFFIX} (XLSX: the .xlsx twin)"


def _declare_binary(op: dict[str, Any]) -> None:
    for response in op.get("responses", {}).values():
        for media_type, media in response.get("content", {}).items():
            if media_type in BINARY_MEDIA_TYPES:
                media["schema"] = {"type": "string", "format": "binary"}
