"""The county's 适龄儿童台账 (register of school-age children): the import report and the
ledger. Definitions in app/reports/school_age.py."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from app.api.problems import ValidationProblem
from app.core.local_times import LocalTimes
from app.core.tables import ImportMode
from app.core.types import Row, Schema
from app.domain.school_age import ChildStatus, DeclaredStatus
from app.roster.imports_schemas import RowProblem, rows_rejected


class SchoolAgeImportReport(Schema):
    county_id: int
    school_year: int = Field(description="学年:school_year 年 9月1日 至 次年 8月31日")
    mode: ImportMode
    total: int = Field(description="数据行数 (data rows in the file, blank rows not counted)")
    imported: int = Field(description="已写入 (rows written: created + updated + unchanged)")
    created: int = Field(description="新增的儿童 (children added to the year's list)")
    updated: int = Field(description="已在名单上、信息有变 (on the list, details changed)")
    unchanged: int = Field(description="已在名单上、信息相同 (on the list, nothing changed)")
    rejected: int = Field(description="有问题的行数 (rows with at least one problem)")
    problems: list[RowProblem] = Field(
        default_factory=list, description="前 N 条问题,按行号 (first N problems by row)"
    )
    problem_count: int = Field(default=0, description="问题总数 (all problems, listed or not)")


class SchoolAgeImportRejected(ValidationProblem):
    """422 of an all-or-nothing import with bad rows, shaped like the student import's:
    a problem document with ``errors`` (loc = body, file, row, column) and the ``report``."""

    report: SchoolAgeImportReport | None = Field(
        default=None,
        description="有问题行时的完整报告 (absent when the file itself is refused)",
    )

    @classmethod
    def of(cls, report: SchoolAgeImportReport) -> SchoolAgeImportRejected:
        return cls(**rows_rejected(report.problems, report.rejected), report=report)


class SchoolAgeRow(Row):
    seq: int = Field(description="序号")
    child_id: int
    name: str = Field(description="姓名")
    gender: str = Field(description="性别 male | female(来自身份证号)")
    birth_date: date = Field(description="出生日期(来自身份证号)")
    id_number_masked: str = Field(description="身份证号(脱敏)")
    township_id: int
    township_name: str = Field(description="乡镇")
    village: str | None = Field(description="村(社区)")
    address: str | None = Field(description="户籍地址")
    guardian_name: str | None = Field(description="监护人")
    guardian_phone: str | None = Field(description="联系电话")
    declared: DeclaredStatus = Field(description="名单上填报的就学情况")
    status: ChildStatus = Field(description="就学状态(计算所得)")
    status_label: str = Field(description="就学状态(中文)")
    student_id: int | None = Field(description="对应的在籍学生(按身份证号匹配)")
    school_id: int | None
    school_name: str | None = Field(description="学校")
    class_id: int | None
    class_name: str | None = Field(description="班级")
    student_no: str | None = Field(description="学籍号")
    note: str | None = Field(description="备注")


class StatusCount(Row):
    status: ChildStatus
    label: str
    count: int


class TownshipCount(Row):
    township_id: int
    township_name: str
    total: int
    counts: dict[ChildStatus, int] = Field(description="每种就学状态的人数(含 0)")


class SchoolAgeSummary(Row):
    total: int
    by_status: list[StatusCount] = Field(description="按就学状态(所有状态,含 0)")
    by_township: list[TownshipCount] = Field(description="按乡镇(有儿童的乡镇)")


class SchoolAgeLedgerOut(LocalTimes):
    county_id: int
    county_name: str
    school_year: int
    title: str
    township_id: int | None = Field(description="筛选:乡镇")
    status: ChildStatus | None = Field(description="筛选:就学状态")
    generated_at: datetime
    summary: SchoolAgeSummary = Field(description="所列儿童的汇总 (of the rows listed)")
    rows: list[SchoolAgeRow]
