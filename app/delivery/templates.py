"""Messages from templates: one notice (or a digest of several) → title, markdown, plain text
and the short params that template channels (SMS, WeChat subscribe messages) fill in.

Chinese by default, English with ``lang="en"``. Every message carries the school, the class,
the student's name **masked** (``mask_name``: 张*明), the level label (蓝色预警…), the reason
(caller-supplied text, shown as given), the due time in the school's timezone ("11月25日
09:05") and a link to the case (``Links.case_url``) or a mini-program path
(``Links.case_page``).

The wording is data (``TOPICS``: per topic, per language); the layout is shared. An unknown
topic or language, or a topic rendered without what it needs (an alert without its level), is
a ``TemplateError`` — an ``Invalid``, so the API answers 422.

Params every message carries (SMS ``template_params`` and WeChat ``WechatTemplate.fields``
pick from these): ``topic`` (the topic's label), ``title``, ``school``, ``class_name``,
``student`` (masked), ``level``, ``reason``, ``due`` (as displayed), ``due_full`` (WeChat's
time format, "2024年11月25日 09:05", in every language), ``at_full`` (when the notice was
raised, same format), ``action``. A digest carries
``school``, ``count``, ``red``, ``yellow``, ``blue``, ``title``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.delivery.channels.base import Message
from app.domain.calendar import DEFAULT_TIMEZONE
from app.domain.cases import LEVEL_LABELS, LEVELS, Level
from app.errors import FieldProblem, Invalid

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
DIGEST_TOPIC = "digest"
# The engine's digest of notices held back after an outage (see ``sweep.fold_digests``): the
# notice's title carries the counts, its body the lines; sent like any other notice.
DIGEST_LATE_TOPIC = "backlog.digest"
MASK = "*"
DIGEST_MAX_ITEMS = 20

LEVEL_TEXT: dict[str, dict[Level, str]] = {
    "zh": dict(LEVEL_LABELS),
    "en": {Level.blue: "Blue alert", Level.yellow: "Yellow alert", Level.red: "Red alert"},
}
LEVEL_MARK = {Level.blue: "🔵", Level.yellow: "🟡", Level.red: "🔴"}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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


# --- inputs and outputs -----------------------------------------------------------------------


def _check_link_template(name: str, template: str | None, **values: object) -> None:
    if template is None:
        return
    try:
        template.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        raise TemplateError(name, f"bad link template {template!r}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Links:
    """Where a notice points: a web page (``{case_id}`` filled in) and a mini-program path."""

    case_url: str | None = None  # e.g. "https://kcbx.example.cn/cases/{case_id}"
    case_page: str | None = "pages/case/index?id={case_id}"
    inbox_url: str | None = None  # a digest's link, e.g. "https://kcbx.example.cn/inbox"
    inbox_page: str | None = "pages/inbox/index"

    def __post_init__(self) -> None:
        _check_link_template("case_url", self.case_url, case_id=1)
        _check_link_template("case_page", self.case_page, case_id=1)

    def url(self, case_id: int | None) -> str | None:
        if self.case_url is None or case_id is None:
            return None
        return self.case_url.format(case_id=case_id)

    def page(self, case_id: int | None) -> str | None:
        if self.case_page is None or case_id is None:
            return None
        return self.case_page.format(case_id=case_id)


@dataclass(frozen=True, slots=True)
class Notice:
    """What one notification is about, as the worker knows it from the outbox row."""

    topic: str
    school: str = ""
    class_name: str = ""
    student_name: str = ""  # the real name: masked here, never sent as is
    level: Level | str | None = None
    reason: str = ""
    due_at: datetime | None = None
    # The worker always passes the school's zone, or the configured default without a school.
    timezone: str | ZoneInfo = DEFAULT_TIMEZONE
    case_id: int | None = None
    alert_id: int | None = None
    created_at: datetime | None = None  # when the notice was raised (WeChat ``time`` fallback)


@dataclass(frozen=True, slots=True)
class Rendered:
    topic: str
    lang: str
    title: str
    markdown: str
    text: str
    params: Mapping[str, str]
    level: Level | None = None
    link: str | None = None
    page: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def message(self, *, event_id: str, created_at: datetime) -> Message:
        return Message(
            event_id=event_id,
            event_type=self.topic,
            title=self.title,
            markdown=self.markdown,
            text=self.text,
            created_at=created_at,
            level=self.level.value if self.level is not None else None,
            link=self.link,
            page=self.page,
            params=dict(self.params),
            data=dict(self.data),
        )


# --- helpers ----------------------------------------------------------------------------------


def mask_name(name: str) -> str:
    """Keep the first and last character, mask the middle: 张小明 → 张*明, 欧阳小明 → 欧**明;
    a two-character name keeps its first: 张三 → 张*; a one-character name is masked whole."""
    name = "".join(name.split())
    if len(name) <= 1:
        return MASK * len(name)
    if len(name) == 2:
        return name[0] + MASK
    return name[0] + MASK * (len(name) - 2) + name[-1]


def zone(value: str | ZoneInfo) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TemplateError("timezone", f"unknown timezone {value!r}") from exc


def format_due(when: datetime, tz: str | ZoneInfo, lang: str = DEFAULT_LANG) -> str:
    """In the school's timezone: "11月25日 09:05" (zh) or "25 Nov 09:05" (en)."""
    local = _aware(when).astimezone(zone(tz))
    if _lang(lang) == "en":
        return f"{local.day} {_MONTHS_EN[local.month - 1]} {local:%H:%M}"
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def format_due_full(when: datetime, tz: str | ZoneInfo) -> str:
    """WeChat's ``time`` format: "2024年11月25日 09:05"."""
    local = _aware(when).astimezone(zone(tz))
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def level_label(level: Level | None, lang: str = DEFAULT_LANG) -> str:
    return "" if level is None else LEVEL_TEXT[_lang(lang)][level]


def topic_label(topic: str, lang: str = DEFAULT_LANG) -> str:
    return _topic(topic).text[_lang(lang)].label


def _lang(lang: str) -> str:
    if lang not in LANGS:
        raise TemplateError("lang", f"unknown language {lang!r}; one of {', '.join(LANGS)}")
    return lang


def _topic(topic: str) -> Topic:
    found = TOPICS.get(topic)
    if found is None:
        raise TemplateError("topic", f"no template for topic {topic!r}; known: {', '.join(TOPICS)}")
    return found


def _level(value: Level | str | None) -> Level | None:
    if value is None or value == "":
        return None
    try:
        return Level(value)
    except ValueError as exc:
        raise TemplateError("level", f"unknown level {value!r}") from exc


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise TemplateError("due_at", "naive datetime: a due time needs its timezone")
    return when


def _inline(value: str) -> str:
    """One line: user-supplied text must not add headings, quotes or mentions of its own."""
    return " ".join(value.split())


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


# --- rendering --------------------------------------------------------------------------------


def _fields(notice: Notice, lang: str) -> dict[str, str]:
    level = _level(notice.level)
    tz = zone(notice.timezone)
    student = mask_name(notice.student_name)
    class_name = _inline(notice.class_name)
    return {
        "school": _inline(notice.school),
        "class_name": class_name,
        "student": student,
        "who": _join(class_name, student),
        "level_label": level_label(level, lang),
        "reason": _inline(notice.reason),
        "due": format_due(notice.due_at, tz, lang) if notice.due_at else "",
        "due_full": format_due_full(notice.due_at, tz) if notice.due_at else "",
    }


def render(notice: Notice, *, lang: str = DEFAULT_LANG, links: Links | None = None) -> Rendered:
    lang = _lang(lang)
    topic = _topic(notice.topic)
    level = _level(notice.level)
    if topic.needs_level and level is None:
        raise TemplateError("level", f"topic {notice.topic!r} needs the alert's level")
    links = links or Links()
    wording = topic.text[lang]
    layout = LAYOUTS[lang]
    values = _fields(notice, lang)
    tz = zone(notice.timezone)
    title = _join(*wording.title.format_map(values).split()).rstrip(" :")
    headline = wording.headline.format_map(values)
    values["action"] = wording.action
    rows = [(label, values[name]) for label, name in layout.rows if values[name]]
    link = links.url(notice.case_id)
    page = links.page(notice.case_id)

    mark = LEVEL_MARK[level] + " " if level is not None else ""
    md = [f"### {mark}{title}", f"> {headline}", ""]
    md += [f"{label}{layout.colon}{value}  " for label, value in rows]
    if link:
        md += ["", f"[{layout.link_label}]({link})"]
    text = [f"【{title}】", headline]
    text += [f"{label}{layout.colon}{value}" for label, value in rows]
    if link:
        text.append(f"{layout.link_label}{layout.colon}{link}")

    params = {
        "topic": wording.label,
        "title": title,
        "school": values["school"],
        "class_name": values["class_name"],
        "student": values["student"],
        "level": values["level_label"],
        "reason": values["reason"],
        "due": values["due"],
        "due_full": values["due_full"],
        "at_full": format_due_full(notice.created_at, tz) if notice.created_at else "",
        "action": values["action"],
    }
    data: dict[str, Any] = {
        "topic": notice.topic,
        "school": values["school"],
        "class_name": values["class_name"],
        "student": values["student"],
        "level": level.value if level is not None else None,
        "reason": values["reason"],
        "due_at": _aware(notice.due_at).isoformat() if notice.due_at else None,
        "case_id": notice.case_id,
        "alert_id": notice.alert_id,
        "page": page,
    }
    return Rendered(
        topic=notice.topic,
        lang=lang,
        title=title,
        markdown="\n".join(md).rstrip(),
        text="\n".join(text),
        params=params,
        level=level,
        link=link,
        page=page,
        data=data,
    )


def _severity(level: Level | None) -> int:
    return -1 if level is None else LEVELS.index(level)


def render_digest(
    notices: Sequence[Notice],
    *,
    lang: str = DEFAULT_LANG,
    links: Links | None = None,
    max_items: int = DIGEST_MAX_ITEMS,
) -> Rendered:
    """One message for several notices to the same target (a robot under its rate limit):
    counts by level, then one line per notice, most severe first."""
    lang = _lang(lang)
    if not notices:
        raise TemplateError("notices", "a digest needs at least one notice")
    links = links or Links()
    layout = LAYOUTS[lang]
    singles = [render(n, lang=lang, links=links) for n in notices]
    order = sorted(range(len(singles)), key=lambda i: -_severity(singles[i].level))
    schools = {s.params["school"] for s in singles}
    one_school = len(schools) == 1
    school = next(iter(schools)) if one_school else layout.several_schools
    counts = {lv.value: sum(1 for s in singles if s.level is lv) for lv in LEVELS}
    top = max((s.level for s in singles if s.level is not None), key=_severity, default=None)

    values = {"school": school, "count": str(len(singles))}
    values.update({k: str(v) for k, v in counts.items()})
    title = layout.digest_title.format_map(values).lstrip(" :")
    count_line = layout.digest_counts.format_map(values)
    lines = []
    for i in order[:max_items]:
        s = singles[i]
        p = s.params
        due = layout.due_prefix + p["due"] if p["due"] else ""
        where = p["class_name"] if one_school else _join(p["school"], p["class_name"])
        parts = [p["topic"], _join(where, p["student"]), p["level"], due]
        lines.append(" · ".join(x for x in parts if x))
    rest = len(singles) - len(lines)
    more = layout.digest_more.format(rest=rest) if rest > 0 else ""
    link = links.inbox_url
    page = links.inbox_page

    mark = LEVEL_MARK[top] + " " if top is not None else ""
    md = [f"### {mark}{title}", f"> {layout.digest_headline}", "", count_line, ""]
    md += [f"- {line}" for line in lines]
    if more:
        md.append(f"- {more}")
    if link:
        md += ["", f"[{layout.digest_link_label}]({link})"]
    text = [f"【{title}】", layout.digest_headline, count_line]
    text += [f"{n}. {line}" for n, line in enumerate(lines, 1)]
    if more:
        text.append(more)
    if link:
        text.append(f"{layout.digest_link_label}{layout.colon}{link}")

    return Rendered(
        topic=DIGEST_TOPIC,
        lang=lang,
        title=title,
        markdown="\n".join(md),
        text="\n".join(text),
        params={"title": title, **values},
        level=top,
        link=link,
        page=page,
        data={"count": len(singles), "items": [singles[i].data for i in order]},
    )
