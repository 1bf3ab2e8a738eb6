"""All tables, importable from one place (Alembic's env imports this to see them)."""

from app.db.models.access_log import AccessLog, AccessLogStudent, SignInFailure
from app.db.models.alerts import (
    AbsenceCase,
    AbsenceReport,
    Alert,
    AlertPolicyRow,
    CaseEvent,
    CaseTask,
    Deadline,
    EngineJob,
    Notification,
    ParentContact,
)
from app.db.models.attendance import AttendanceEvent, LeaveRequest
from app.db.models.calendar import CalendarOverride, NationalYear, Term, TermBreak
from app.db.models.care import CareContact, MentorAssignment
from app.db.models.casework import HomeVisit, PersuasionTalk, ReturnPlan
from app.db.models.delivery import (
    ChannelTarget,
    Delivery,
    DeliveryAttempt,
    DeliverySettings,
    EngineHeartbeat,
    RateBucket,
    WebhookSubscription,
)
from app.db.models.dropout_status import DropoutStatusPeriod
from app.db.models.guardians import (
    GuardianAccount,
    GuardianAnswer,
    GuardianBindingCode,
    GuardianBindingEvent,
    GuardianChild,
    GuardianNotice,
    GuardianOptOut,
    GuardianSettings,
    StaffWechatCode,
    StaffWechatEvent,
)
from app.db.models.illness import (
    IllnessAlert,
    IllnessDayChange,
    IllnessRecord,
    IllnessReport,
    IllnessRule,
    ReturnCertificate,
)
from app.db.models.monthly_report import MonthlyReport
from app.db.models.patterns import AbsenceMeasure, LeftSchoolAlert
from app.db.models.return_notices import ReturnNotice
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
from app.db.models.school_age import SchoolAgeChild
from app.db.models.sim_clock import SimClockMove, SimClockRow
from app.db.models.township import TownshipAction, TownshipReport
from app.db.models.transfers import EnrollmentChange, Suspension, Transfer

__all__ = [
    "AbsenceCase",
    "AbsenceMeasure",
    "AbsenceReport",
    "AccessLog",
    "AccessLogStudent",
    "Alert",
    "AlertPolicyRow",
    "ApiKey",
    "AttendanceEvent",
    "CalendarOverride",
    "CareContact",
    "CaseEvent",
    "CaseTask",
    "ChannelTarget",
    "County",
    "Deadline",
    "Delivery",
    "DeliveryAttempt",
    "DeliverySettings",
    "DropoutStatusPeriod",
    "EngineHeartbeat",
    "EngineJob",
    "EnrollmentChange",
    "Grade",
    "Guardian",
    "GuardianAccount",
    "GuardianAnswer",
    "GuardianBindingCode",
    "GuardianBindingEvent",
    "GuardianChild",
    "GuardianNotice",
    "GuardianOptOut",
    "GuardianSettings",
    "HomeVisit",
    "IllnessAlert",
    "IllnessDayChange",
    "IllnessRecord",
    "IllnessReport",
    "IllnessRule",
    "LeaveRequest",
    "LeftSchoolAlert",
    "MentorAssignment",
    "MonthlyReport",
    "NationalYear",
    "Notification",
    "ParentContact",
    "PersuasionTalk",
    "RateBucket",
    "ReturnCertificate",
    "ReturnNotice",
    "ReturnPlan",
    "School",
    "SchoolAgeChild",
    "SchoolClass",
    "SignInFailure",
    "SimClockMove",
    "SimClockRow",
    "Staff",
    "StaffRole",
    "StaffWechatCode",
    "StaffWechatEvent",
    "Student",
    "Suspension",
    "Term",
    "TermBreak",
    "Township",
    "TownshipAction",
    "TownshipReport",
    "Transfer",
    "WebhookSubscription",
]
