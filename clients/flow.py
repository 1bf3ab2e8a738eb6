"""A county integrator's first day, written with nothing but the generated client.

``python clients/flow.py http://127.0.0.1:PORT`` against a server with the demo seeded: sign in,
set up a school and import its roster, take a roll with one absence, read the alert, log the
call to the parents, verify the alert, download the absence-tracking ledger as XLSX.

Only ``kcbx_client`` (generated from /openapi.json by .ci/client) and the standard library are
imported: .ci/client refuses the flow if it imports anything else."""

from __future__ import annotations

import io
import sys
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from kcbx_client import AuthenticatedClient, Client
from kcbx_client.api.alerts import alerts_list, alerts_verify
from kcbx_client.api.attendance import attendance_events_batch_create
from kcbx_client.api.auth import auth_token_create
from kcbx_client.api.calendar import calendar_school_get, terms_create
from kcbx_client.api.cases import cases_contacts_create, students_case_get
from kcbx_client.api.counties import townships_list
from kcbx_client.api.imports import imports_roster_create, imports_staff_create
from kcbx_client.api.ledgers import ledgers_absence_tracking_xlsx
from kcbx_client.api.schools import schools_create
from kcbx_client.api.students import students_list
from kcbx_client.models import (
    AlertOutPage,
    AttendanceBatchIn,
    AttendanceEventIn,
    AuthTokenCreateForm,
    BatchResult,
    CaseDetail,
    Check,
    ContactIn,
    ContactOut,
    ImportsRosterCreateForm,
    ImportsStaffCreateForm,
    Mark,
    ReasonCategory,
    RosterReport,
    SchoolCalendarOut,
    SchoolIn,
    SchoolKind,
    SchoolOut,
    StaffReport,
    StudentOutPage,
    TermIn,
    TermOut,
    TokenOut,
    TownshipOutPage,
    VerifyIn,
)
from kcbx_client.types import File

T = TypeVar("T")
BEIJING = timezone(timedelta(hours=8))
OPS = ("13800000000", "demo1234")  # the demo's operator (app/seed/demo.py)
HEAD_TEACHER = ("13912340001", "client-flow-pass-1")


def expect(kind: type[T], answer: Any, step: str) -> T:
    """The answer a step must get; anything else (a problem document, None) stops the flow."""
    if not isinstance(answer, kind):
        sys.exit(f"{step}: expected {kind.__name__}, got {answer!r}")
    print(f"ok  {step}")
    return answer


def sign_in(base_url: str, who: tuple[str, str]) -> AuthenticatedClient:
    form = AuthTokenCreateForm(username=who[0], password=who[1])
    token = expect(TokenOut, auth_token_create.sync(client=Client(base_url), body=form), "sign in")
    return AuthenticatedClient(base_url, token=token.access_token)


def id_number(first17: str) -> str:
    """GB 11643: the 18th character is the mod-11 check of the first 17."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


PUPILS = (("李明", "20170304001", "李大山", "父亲"), ("王芳", "20170506002", "王小红", "母亲"))
PUPILS += (("张伟", "20170708003", "张强", "父亲"),)


def roster() -> bytes:
    """The 学籍 system's student export, trimmed to three pupils."""
    lines = ["序号,姓名,全国学籍号,身份证件号,民族,年级,班级,成员1姓名,成员1关系,成员1联系电话"]
    for n, (name, born_seq, guardian, relation) in enumerate(PUPILS, start=1):
        number = id_number(f"530122{born_seq}")
        lines.append(
            f"{n},{name},G{number},{number},汉族,三年级,(1)班,{guardian},{relation},137000{n:05d}"
        )
    return ("\n".join(lines) + "\n").encode()


def staff() -> bytes:
    return (
        "姓名,手机号,职务,年级,班级,初始密码\n"
        "孙校长,13912340009,校长,,,\n"
        f"刘老师,{HEAD_TEACHER[0]},班主任,三年级,1班,{HEAD_TEACHER[1]}\n"
    ).encode()


def main(base_url: str) -> None:
    ops = sign_in(base_url, OPS)
    today = datetime.now(BEIJING).date()
    townships = expect(TownshipOutPage, townships_list.sync(client=ops), "list townships")
    township = townships.items[0]

    school = expect(
        SchoolOut,
        schools_create.sync(
            client=ops,
            body=SchoolIn(
                township_id=township.id,
                name="客户端示例小学",
                code=f"CL-{uuid.uuid4().hex[:6]}",
                kind=SchoolKind.PRIMARY,
            ),
        ),
        "create a school",
    )
    upload = File(payload=io.BytesIO(roster()), file_name="学籍.csv", mime_type="text/csv")
    form = ImportsRosterCreateForm(file=upload, school_id=school.id)
    report = expect(RosterReport, imports_roster_create.sync(client=ops, body=form), "roster")
    assert report.students_created == 3 and report.classes_created == ["三年级1班"], report
    upload = File(payload=io.BytesIO(staff()), file_name="教职工.csv", mime_type="text/csv")
    staff_form = ImportsStaffCreateForm(file=upload, school_id=school.id)
    people = expect(StaffReport, imports_staff_create.sync(client=ops, body=staff_form), "staff")
    assert len(people.staff_created) == 2, people
    term = TermIn(name="本学期", start_date=today - timedelta(40), end_date=today + timedelta(7))
    expect(TermOut, terms_create.sync(school.id, client=ops, body=term), "open a term")

    teacher = sign_in(base_url, HEAD_TEACHER)
    calendar = expect(
        SchoolCalendarOut,
        calendar_school_get.sync(
            school.id, client=teacher, start=today - timedelta(days=14), end=today
        ),
        "read the calendar",
    )
    day = max(d.date for d in calendar.days if d.is_school_day and d.date < today)
    students = expect(
        StudentOutPage, students_list.sync(client=teacher), "list the head teacher's class"
    )
    absent = next(s for s in students.items if s.name == "张伟")
    at = datetime.combine(day, datetime.min.time(), BEIJING).replace(hour=8, minute=5)
    events = [
        AttendanceEventIn(
            event_id=uuid.uuid4(),
            student_id=s.id,
            school_date=day,
            check=Check.MORNING,
            status=Mark.ABSENT if s.id == absent.id else Mark.PRESENT,
            occurred_at=at,
        )
        for s in students.items
    ]
    # The batch operation answers a BatchResult and nothing else (or a problem on a 4xx).
    result = attendance_events_batch_create.sync(
        client=teacher, body=AttendanceBatchIn(events=events)
    )
    batch = expect(BatchResult, result, f"post the {day} morning roll")
    assert batch.accepted == 3 and batch.rejected == 0, batch

    alerts = expect(AlertOutPage, alerts_list.sync(client=teacher), "list alerts")
    blue = next(a for a in alerts.items if a.student_id == absent.id)
    print(f"    {blue.level_label} for {blue.student_name}: {blue.status_label}")
    case = expect(CaseDetail, students_case_get.sync(absent.id, client=teacher), "the case")
    call = ContactIn(reached=True, answered_by="父亲", reason_category=ReasonCategory.ILLNESS)
    expect(ContactOut, cases_contacts_create.sync(case.id, client=teacher, body=call), "log a call")
    verified = alerts_verify.sync(blue.id, client=teacher, body=VerifyIn(note="已电话核实:发烧"))
    expect(type(blue), verified, "verify the alert")

    ledger = ledgers_absence_tracking_xlsx.sync(client=ops, school_id=school.id, start=day, end=day)
    xlsx = expect(File, ledger, "download the absence-tracking ledger (XLSX)")
    content = xlsx.payload.read()
    assert content[:2] == b"PK", content[:20]
    print(f"    {len(content)} bytes of XLSX")


if __name__ == "__main__":
    main(sys.argv[1])
