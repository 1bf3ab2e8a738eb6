"""One-step onboarding: a school's roster in the shape of the national 学籍 system's student
export, and its staff with their roles (app/roster/onboarding.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.api.problems import ValidationProblem
from app.core.tables import ImportMode
from app.domain.roles import Role
from app.roster.imports_schemas import RowProblem, rows_rejected


class MovedStudent(BaseModel):
    row: int
    student_no: str
    name: str
    from_class: str = Field(description="原班级 (class before)")
    to_class: str = Field(description="新班级 (class in the file)")


class RosterReport(BaseModel):
    school_id: int
    mode: ImportMode
    dry_run: bool = Field(description="演练:只报告,不写入 (a dry run writes nothing)")
    total: int = Field(description="数据行数 (data rows)")
    grades_created: list[str] = Field(description="新建的年级 (grades created, or that would be)")
    classes_created: list[str] = Field(description="新建的班级,如 三年级1班 (classes created)")
    students_created: int = Field(description="新建的学生 (students created)")
    students_moved: list[MovedStudent] = Field(description="调班的学生 (students moved class)")
    unchanged: int = Field(description="已在册且无变化 (already there, nothing to change)")
    rejected: int = Field(description="有问题的行数 (rows with a problem)")
    problems: list[RowProblem] = Field(default_factory=list)

    @property
    def changes(self) -> int:
        return (
            len(self.grades_created)
            + len(self.classes_created)
            + self.students_created
            + len(self.students_moved)
        )


class RosterRejected(ValidationProblem):
    """422 of an all-or-nothing roster import with problems: nothing was written."""

    report: RosterReport | None = Field(
        default=None, description="有问题行时的完整报告 (absent when the request itself is refused)"
    )

    @classmethod
    def of(cls, report: RosterReport) -> RosterRejected:
        return cls(**rows_rejected(report.problems, report.rejected), report=report)


class GrantPlanned(BaseModel):
    row: int
    name: str
    role: Role
    role_label: str
    class_name: str | None = Field(default=None, description="班主任、任课教师的班级")


class StaffReport(BaseModel):
    school_id: int
    mode: ImportMode
    dry_run: bool = Field(description="演练:只报告,不写入 (a dry run writes nothing)")
    total: int = Field(description="数据行数 (data rows)")
    staff_created: list[str] = Field(description="新建的教职工 (people created, or that would be)")
    grants_added: list[GrantPlanned] = Field(description="新授予的角色 (roles granted)")
    unchanged: int = Field(description="已有的角色 (roles already held)")
    rejected: int = Field(description="有问题的行数 (rows with a problem)")
    problems: list[RowProblem] = Field(default_factory=list)


class StaffRejected(ValidationProblem):
    """422 of an all-or-nothing staff import with problems: nothing was written."""

    report: StaffReport | None = Field(
        default=None, description="有问题行时的完整报告 (absent when the request itself is refused)"
    )

    @classmethod
    def of(cls, report: StaffReport) -> StaffRejected:
        return cls(**rows_rejected(report.problems, report.rejected), report=report)
