"""The printable 传染病疫情报告 (issue 21 item 4): one alert's report as a DOCX form the
疫情报告人 prints, signs and keeps (or faxes to the 疾控 where no webhook is set up).

Decisions:
- a filed report prints what was sent (the stored payload, never regenerated), with who filed
  it, when and to whom; before it is filed the form is a draft from the alert as it stands,
  titled so;
- it names children and their symptoms, so only those who read an alert's cases get it (the
  school's 疫情报告人, the principal, the county's health contact); anyone else who may see
  the alert is refused (403), and the access log ties the print to each child;
- times are the school's local time, the way people read them on paper.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.run import Run

from app.context import AppContext
from app.core import read_scope
from app.core.text import xml_safe
from app.db.models import School
from app.db.uow import UnitOfWork
from app.domain.access import Actor
from app.errors import Forbidden
from app.illness import alerts, repo
from app.illness.register import school_ref

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_CASE_COLUMNS = ("序号", "姓名", "发病日期", "发病时间", "症状")


def _font(run: Run, size: float, bold: bool = False) -> None:
    run.font.name = "宋体"
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")


def _local(iso: str | None, tz: ZoneInfo) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(tz).strftime("%Y-%m-%d %H:%M")


async def document(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, alert_id: int
) -> tuple[bytes, str, str]:
    """The form as DOCX: bytes, file name and an ASCII fallback name."""
    alert = await alerts.alert_for_reader(uow, actor, alert_id)
    if not alerts.sees_cases(actor, alert):
        raise Forbidden("疫情报告含学生健康信息,仅疫情报告人、校长、县卫生健康联络人可打印")
    tz = ZoneInfo((await school_ref(uow, ctx, alert.school_id)).timezone)
    filed = await repo.latest_report(uow.session, alert_id)
    if filed is not None:
        payload: dict[str, Any] = filed.payload
    else:
        school = await uow.session.get(School, alert.school_id)
        names = await alerts.names_of(uow, [alert])
        payload = alerts.report_payload(alert, school.name if school else "", names)
    read_scope.note(c["student_id"] for c in payload["cases"])

    doc = Document()
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run("学校传染病疫情报告" + ("" if filed else "(草稿,未报告)")), 20, True)
    what = payload["disease_label"] or "/".join(
        dict.fromkeys(s for c in payload["cases"] for s in c["symptom_labels"])
    )
    head = doc.add_table(rows=0, cols=2)
    head.style = "Table Grid"
    rows = [
        ("报告单位", payload["school_name"]),
        ("预警规则", payload["rule"]["name"]),
        ("范围", payload["scope_label"]),
        ("病种/症状", what),
        ("病例数", str(payload["count"])),
        ("时间窗", f"{payload['window_start']} 至 {payload['window_end']}"),
        ("发现时间", _local(payload["raised_at"], tz)),
        ("报告时限", _local(payload["report_due"], tz)),
    ]
    if filed is not None:
        rows += [
            ("报告人", filed.reported_by),
            ("报告时间", _local(filed.reported_at.isoformat(), tz)),
            ("报送对象", "、".join(filed.recipients) or "(未配置接收方)"),
            ("备注", filed.note or ""),
        ]
    for label, value in rows:
        cells = head.add_row().cells
        _font(cells[0].paragraphs[0].add_run(label), 11, True)
        _font(cells[1].paragraphs[0].add_run(xml_safe(str(value))), 11)
    doc.add_paragraph()
    _font(doc.add_paragraph().add_run("病例一览"), 14, True)
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, text in zip(
        table.rows[0].cells, ("序号", "姓名", "发病日期", "发病时间", "症状"), strict=True
    ):
        _font(cell.paragraphs[0].add_run(text), 11, True)
    for i, c in enumerate(payload["cases"], 1):
        cells = table.add_row().cells
        values = (
            str(i),
            c["student_name"],
            c["day"],
            _local(c["onset_at"], tz),
            "、".join(c["symptom_labels"]),
        )
        for cell, text in zip(cells, values, strict=True):
            _font(cell.paragraphs[0].add_run(xml_safe(text)), 11)
    doc.add_paragraph()
    _font(
        doc.add_paragraph().add_run("疫情报告人签字:____________    日期:______年____月____日"), 12
    )
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue(), f"传染病疫情报告-{alert_id}.docx", f"illness-report-{alert_id}.docx"
