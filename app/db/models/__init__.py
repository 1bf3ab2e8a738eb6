"""All tables, importable from one place (Alembic's env imports this to see them)."""

from app.db.models.attendance import AttendanceEvent, AttendanceMark, LeaveRequest
from app.db.models.calendar import CalendarOverride, NationalYear, Term, TermBreak
from app.db.models.roster import (
    ApiKey,
    County,
    Grade,
    Guardian,
    School,
    SchoolClass,
    Staff,
    StaffRole,
    Student,
    Township,
)

__all__ = [
    "ApiKey",
    "AttendanceEvent",
    "AttendanceMark",
    "CalendarOverride",
    "County",
    "Grade",
    "Guardian",
    "LeaveRequest",
    "NationalYear",
    "School",
    "SchoolClass",
    "Staff",
    "StaffRole",
    "Student",
    "Term",
    "TermBreak",
    "Township",
]
