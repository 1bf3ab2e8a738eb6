"""The wording of messages, per topic and per language: the topic catalogue (``TOPICS``),
the shared layouts, and the labels taken from them. Rendering is in
``app.delivery.templates``.

An unknown topic or language is a ``TemplateError`` — an ``Invalid``, so the API answers 422.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.domain.cases import LEVEL_LABELS, Level
from app.errors import FieldProblem, Invalid

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
DIGEST_TOPIC = "digest"
# The engine's digest of notices held back after an outage (see ``sweep.fold_digests``): the
# notice's title carries the counts, its body the lines; sent like any other notice.
DIGEST_LATE_TOPIC = "backlog.digest"

# The late-notice digest's own text (the engine folds the notices, this says them).
DIGEST_BODY_LIMIT = 2000


def late_digest_text(titles: list[str], counts: dict[str, int]) -> tuple[str, str]:
    """The digest's title (how many, by topic label) and body (one line per notice, cut to
    the notice body's limit with how many there are in all)."""
    summary = " · ".join(f"{label} {count}" for label, count in counts.items())
    title = f"停机期间积压的逾期提醒 {len(titles)} 条:{summary}"[:200]
    body = "\n".join(titles)
    if len(body) > DIGEST_BODY_LIMIT:
        body = (
            body[: DIGEST_BODY_LIMIT - 50].rsplit("\n", 1)[0]
            + f"\n……共 {len(titles)} 条,请在系统中查看"
        )
    return title, body


LEVEL_TEXT: dict[str, dict[Level, str]] = {
    "zh": dict(LEVEL_LABELS),
    "en": {Level.blue: "Blue alert", Level.yellow: "Yellow alert", Level.red: "Red alert"},
}


class TemplateError(Invalid):
    """A message that cannot be rendered; the API turns it into a 422."""

    def __init__(self, loc: str, message: str) -> None:
        super().__init__([FieldProblem((loc,), message)])


# --- the wording ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wording:
    """Format strings over: school, class_name, student, who (class and student),
    level_label, reason, due."""

    label: str  # the topic in a few words (digest lines, the ``topic`` param)
    title: str
    headline: str
    action: str = ""


@dataclass(frozen=True, slots=True)
class Topic:
    text: Mapping[str, Wording]
    needs_level: bool = False


TOPICS: dict[str, Topic] = {
    "alert.raised": Topic(
        {
            "zh": Wording(
                "预警",
                "{level_label}:{who}",
                "{student}同学触发{level_label},请按时核查。",
                "核查缺勤原因并在系统中登记",
            ),
            "en": Wording(
                "Alert",
                "{level_label}: {who}",
                "{level_label} raised for {student}; please verify it in time.",
                "Verify the absence and record the reason",
            ),
        },
        needs_level=True,
    ),
    "alert.escalated": Topic(
        {
            "zh": Wording(
                "预警逾期未核查",
                "预警逾期未核查:{who}",
                "{student}同学的{level_label}逾期未核查,现上报给您。",
                "督促核查并跟进处理",
            ),
            "en": Wording(
                "Alert not verified",
                "Alert not verified: {who}",
                "The {level_label} for {student} was not verified in time and is escalated to you.",
                "See that it is verified and followed up",
            ),
        },
        needs_level=True,
    ),
    "alert.withdrawn": Topic(
        {
            "zh": Wording(
                "预警撤回",
                "预警撤回:{who}",
                "{student}同学的{level_label}已撤回。",
                "无需继续处理",
            ),
            "en": Wording(
                "Alert withdrawn",
                "Alert withdrawn: {who}",
                "The {level_label} for {student} has been withdrawn.",
                "Nothing more to do",
            ),
        },
        needs_level=True,
    ),
    "alert.verified": Topic(
        {
            "zh": Wording(
                "预警已核查", "预警已核查:{who}", "{student}同学的{level_label}已完成核查。"
            ),
            "en": Wording(
                "Alert verified",
                "Alert verified: {who}",
                "The {level_label} for {student} has been verified.",
            ),
        },
        needs_level=True,
    ),
    "guardian.unknown": Topic(
        {
            "zh": Wording(
                "家长不清楚孩子去向",
                "家长不清楚孩子去向:{who}",
                "{student}同学今日未到校,家长回复不清楚孩子去向。",
                "立即核实孩子去向",
            ),
            "en": Wording(
                "Guardian does not know where the child is",
                "Guardian does not know: {who}",
                "{student} is absent and the guardian does not know where they are.",
                "Find the child now",
            ),
        }
    ),
    "contact.overdue": Topic(
        {
            "zh": Wording(
                "联系家长超时",
                "联系家长超时:{who}",
                "班主任未在规定时间内联系{student}同学的家长。",
                "督促班主任立即联系家长核实原因",
            ),
            "en": Wording(
                "Guardian not contacted",
                "Guardian not contacted: {who}",
                "The head teacher has not phoned the guardian of {student} in time.",
                "Have the head teacher phone the guardian now",
            ),
        }
    ),
    "roll.missing": Topic(
        {
            "zh": Wording(
                "未按时点名",
                "未按时点名:{reason}",
                "检查时间已过,班级点名尚未提交。",
                "请尽快完成点名并提交",
            ),
            "en": Wording(
                "Roll not taken",
                "Roll not taken: {reason}",
                "The check time has passed and the class roll is not in.",
                "Take the roll and submit it now",
            ),
        }
    ),
    "report.overdue": Topic(
        {
            "zh": Wording(
                "书面报告逾期",
                "书面报告逾期:{who}",
                "{student}同学的书面缺勤报告逾期未交。",
                "督促尽快提交书面缺勤报告",
            ),
            "en": Wording(
                "Report overdue",
                "Report overdue: {who}",
                "The written absence report for {student} is overdue.",
                "See that the report is submitted",
            ),
        }
    ),
    "report.submitted": Topic(
        {
            "zh": Wording(
                "书面报告待审核",
                "书面报告待审核:{who}",
                "收到{student}同学的书面缺勤报告。",
                "审核书面缺勤报告",
            ),
            "en": Wording(
                "Report to review",
                "Report to review: {who}",
                "The written absence report for {student} has been submitted.",
                "Review the report",
            ),
        }
    ),
    "report.returned": Topic(
        {
            "zh": Wording(
                "书面报告被退回",
                "书面报告被退回:{who}",
                "{student}同学的书面缺勤报告被退回。",
                "补充后重新提交",
            ),
            "en": Wording(
                "Report returned",
                "Report returned: {who}",
                "The written absence report for {student} was returned.",
                "Complete it and submit it again",
            ),
        }
    ),
    "case.opened": Topic(
        {
            "zh": Wording(
                "建立缺勤追踪", "建立缺勤追踪:{who}", "{student}同学无故缺勤,已建立追踪。"
            ),
            "en": Wording(
                "Absence case opened",
                "Absence case opened: {who}",
                "An absence case was opened for {student}.",
            ),
        }
    ),
    "case.returned": Topic(
        {
            "zh": Wording("学生返校", "学生返校:{who}", "{student}同学已返校。", "一周内确认复学"),
            "en": Wording(
                "Student back",
                "Student back: {who}",
                "{student} is back at school.",
                "Confirm re-enrolment within a week",
            ),
        }
    ),
    "case.closed": Topic(
        {
            "zh": Wording("缺勤追踪结束", "缺勤追踪结束:{who}", "{student}同学的缺勤追踪已结束。"),
            "en": Wording(
                "Absence case closed",
                "Absence case closed: {who}",
                "The absence case for {student} is closed.",
            ),
        }
    ),
    "reenroll.overdue": Topic(
        {
            "zh": Wording(
                "复学确认逾期",
                "复学确认逾期:{who}",
                "{student}同学返校一周仍未确认复学。",
                "尽快确认复学",
            ),
            "en": Wording(
                "Re-enrolment overdue",
                "Re-enrolment overdue: {who}",
                "{student} has been back a week and re-enrolment is not confirmed.",
                "Confirm re-enrolment",
            ),
        }
    ),
    "task.due": Topic(
        {
            "zh": Wording(
                "任务到期", "任务到期:{who}", "{student}同学:{reason}。", "完成后在系统中登记"
            ),
            "en": Wording(
                "Task due",
                "Task due: {who}",
                "{student}: {reason}.",
                "Record it in the system when done",
            ),
        }
    ),
    "care.due": Topic(
        {
            "zh": Wording(
                "关爱联系逾期", "关爱联系逾期:{who}", "{reason}。", "联系学生或家长并登记关爱记录"
            ),
            "en": Wording(
                "Care contact overdue",
                "Care contact overdue: {who}",
                "{reason}.",
                "Contact the student or family and record it",
            ),
        }
    ),
    "left_school.raised": Topic(
        {
            "zh": Wording(
                "离校未归",
                "离校未归:{who}",
                "{student}同学早上已到校,{reason}。",
                "请在 1 小时内联系家长核实去向",
            ),
            "en": Wording(
                "Left during the day",
                "Left during the day: {who}",
                "{student} was at school this morning: {reason}.",
                "Phone the guardian within the hour",
            ),
        }
    ),
    "left_school.overdue": Topic(
        {
            "zh": Wording(
                "离校未归联系超时",
                "离校未归联系超时:{who}",
                "{student}同学离校未归,班主任未在规定时间内联系家长。",
                "督促班主任立即联系家长核实去向",
            ),
            "en": Wording(
                "Left during the day: guardian not contacted",
                "Guardian not contacted: {who}",
                "{student} left during the day and the guardian has not been phoned in time.",
                "Have the head teacher phone the guardian now",
            ),
        }
    ),
    "left_school.withdrawn": Topic(
        {
            "zh": Wording(
                "离校未归撤回",
                "离校未归撤回:{who}",
                "后续点名{student}同学已到校或已说明原因。",
                "无需处理",
            ),
            "en": Wording(
                "Left during the day: withdrawn",
                "Withdrawn: {who}",
                "A later check found {student} at school, or the absence was explained.",
                "Nothing to do",
            ),
        }
    ),
    "early_warning.entered": Topic(
        {
            "zh": Wording(
                "进入预警名单",
                "进入预警名单:{who}",
                "{student}同学本学期缺勤:{reason}。",
                "关注该生出勤,必要时家访了解原因",
            ),
            "en": Wording(
                "On the early-warning list",
                "Early-warning list: {who}",
                "{student}'s absence this term: {reason}.",
                "Watch the attendance; visit the family if needed",
            ),
        }
    ),
    "early_warning.digest": Topic(
        {
            "zh": Wording(
                "预警名单周汇总",
                "预警名单周汇总:{school}",
                "本校预警名单:{reason}。",
                "在系统中查看预警名单并安排跟进",
            ),
            "en": Wording(
                "Early-warning weekly digest",
                "Early-warning digest: {school}",
                "The school's early-warning list: {reason}.",
                "Review the list in the app and plan follow-ups",
            ),
        }
    ),
    "student.suspected_dropout": Topic(
        {
            "zh": Wording("疑似辍学", "疑似辍学:{who}", "{reason}。", "组织劝返,定期家访并登记"),
            "en": Wording(
                "Suspected dropout",
                "Suspected dropout: {who}",
                "{reason}.",
                "Organise persuasion and regular home visits",
            ),
        }
    ),
    "student.dropout": Topic(
        {
            "zh": Wording("辍学", "辍学:{who}", "{reason}。", "继续劝返,依法报告"),
            "en": Wording(
                "Dropout",
                "Dropout: {who}",
                "{reason}.",
                "Keep persuading; report as the law requires",
            ),
        }
    ),
    "return_notice.reported_to_township": Topic(
        {
            "zh": Wording(
                "已报告乡镇", "返校通知书已报告乡镇:{who}", "{reason}。", "配合乡镇依法处理"
            ),
            "en": Wording(
                "Reported to the township",
                "Return notice reported to the township: {who}",
                "{reason}.",
                "Work with the township on its action",
            ),
        }
    ),
    "township.action_recorded": Topic(
        {
            "zh": Wording("乡镇处理", "乡镇已处理:{who}", "{reason}。", "配合乡镇督促返校"),
            "en": Wording(
                "Township action",
                "Township action: {who}",
                "{reason}.",
                "Support the township's order to return",
            ),
        }
    ),
    "township_report.raised_to_county": Topic(
        {
            "zh": Wording(
                "乡镇报告提请县教育局",
                "提请县教育局:{who}",
                "{reason}。",
                "县教育局督办乡镇依法处理",
            ),
            "en": Wording(
                "Raised to the county",
                "Raised to the county: {who}",
                "{reason}.",
                "The county follows the township's handling up",
            ),
        }
    ),
    "monthly_report.overdue": Topic(
        {
            "zh": Wording("月报逾期未报送", "{reason}", "{reason}。", "在系统中提交本月月报"),
            "en": Wording(
                "Monthly report overdue",
                "Monthly report overdue",
                "{reason}.",
                "Submit the month's report in the app",
            ),
        }
    ),
    DIGEST_LATE_TOPIC: Topic(
        {
            "zh": Wording(
                "积压提醒汇总",
                "积压提醒汇总",
                "系统恢复后补发的逾期提醒已合并为一条:{reason}。",
                "请在系统中逐条查看并处理",
            ),
            "en": Wording(
                "Backlog digest",
                "Backlog digest",
                "Reminders held back during an outage, in one message: {reason}.",
                "Review them one by one in the app",
            ),
        }
    ),
    "roles.vacant": Topic(
        {
            "zh": Wording(
                "岗位空缺",
                "{reason}",
                "以下岗位暂无人任职,期间相关预警转由上一级接收。",
                "尽快在系统中指定任职人员",
            ),
            "en": Wording(
                "Roles vacant",
                "Roles vacant: {reason}",
                "Nobody holds these roles; their alerts go one level up meanwhile.",
                "Appoint someone in the system",
            ),
        }
    ),
    # Issue 21: illness clusters. The text names no child (it may reach a group robot): the
    # students, symptoms and onsets are in the app, for those allowed to see them.
    "illness.alert": Topic(
        {
            "zh": Wording(
                "疫情预警",
                "{reason}",
                "因病缺勤达到聚集性疫情报告标准,请核实并在截止时间前向疾控和教育局报告。",
                "在系统中查看病例并提交传染病疫情报告",
            ),
            "en": Wording(
                "Illness cluster",
                "Illness cluster: {reason}",
                "Illness absences meet a cluster rule: verify and report before the due time.",
                "Open the cases and file the outbreak report",
            ),
        }
    ),
    "illness.cluster": Topic(
        {
            "zh": Wording(
                "传染病疫情报告",
                "传染病疫情报告:{school}",
                "学校已提交聚集性疫情报告,病例明细见数据。",
                "核实并按规定处置",
            ),
            "en": Wording(
                "Outbreak report",
                "Outbreak report: {school}",
                "The school filed an illness cluster report; the cases are in the data.",
                "Verify and respond as the rules require",
            ),
        }
    ),
    "illness.overdue": Topic(
        {
            "zh": Wording(
                "疫情报告逾期",
                "{reason}",
                "学校未在规定时间内报告聚集性疫情。",
                "督促学校立即报告",
            ),
            "en": Wording(
                "Illness report overdue",
                "Illness report overdue: {reason}",
                "The school did not report an illness cluster in time.",
                "See that the school reports at once",
            ),
        }
    ),
    "illness.no_certificate": Topic(
        {
            "zh": Wording(
                "复课证明待查验",
                "{reason}",
                "以下学生因病缺勤后返校,尚未登记复课证明。",
                "查验并登记复课证明",
            ),
            "en": Wording(
                "Return certificates missing",
                "Return certificates missing: {reason}",
                "These students are back after an illness absence without a certificate on file.",
                "Check and record their certificates",
            ),
        }
    ),
    "task.overdue": Topic(
        {
            "zh": Wording("任务逾期", "任务逾期:{who}", "{student}同学:{reason}。", "督促尽快完成"),
            "en": Wording(
                "Task overdue",
                "Task overdue: {who}",
                "{student}: {reason}.",
                "See that it is done",
            ),
        }
    ),
}


@dataclass(frozen=True, slots=True)
class Layout:
    rows: tuple[tuple[str, str], ...]  # (label, field): a row is left out when empty
    colon: str
    link_label: str
    digest_title: str
    digest_headline: str
    digest_counts: str
    digest_more: str
    digest_link_label: str
    due_prefix: str
    several_schools: str


LAYOUTS: dict[str, Layout] = {
    "zh": Layout(
        rows=(
            ("学校", "school"),
            ("班级", "class_name"),
            ("学生", "student"),
            ("预警级别", "level_label"),
            ("原因", "reason"),
            ("截止时间", "due"),
            ("处理要求", "action"),
        ),
        colon=":",
        link_label="查看个案",
        digest_title="{school}:{count} 条控辍保学通知",
        digest_headline="短时间内有多条通知,合并为一条发送。",
        digest_counts="红色 {red} · 黄色 {yellow} · 蓝色 {blue}",
        digest_more="……另有 {rest} 条,请在系统中查看",
        digest_link_label="查看全部",
        due_prefix="截止 ",
        several_schools="多所学校",
    ),
    "en": Layout(
        rows=(
            ("School", "school"),
            ("Class", "class_name"),
            ("Student", "student"),
            ("Level", "level_label"),
            ("Reason", "reason"),
            ("Due", "due"),
            ("To do", "action"),
        ),
        colon=": ",
        link_label="Open the case",
        digest_title="{school}: {count} notices",
        digest_headline="Several notices came at once and are sent together.",
        digest_counts="Red {red} · Yellow {yellow} · Blue {blue}",
        digest_more="… and {rest} more in the app",
        digest_link_label="Open the inbox",
        due_prefix="due ",
        several_schools="several schools",
    ),
}


def level_label(level: Level | None, lang: str = DEFAULT_LANG) -> str:
    return "" if level is None else LEVEL_TEXT[checked_lang(lang)][level]


def topic_label(topic: str, lang: str = DEFAULT_LANG) -> str:
    return topic_of(topic).text[checked_lang(lang)].label


def checked_lang(lang: str) -> str:
    if lang not in LANGS:
        raise TemplateError("lang", f"unknown language {lang!r}; one of {', '.join(LANGS)}")
    return lang


def topic_of(topic: str) -> Topic:
    found = TOPICS.get(topic)
    if found is None:
        raise TemplateError("topic", f"no template for topic {topic!r}; known: {', '.join(TOPICS)}")
    return found
