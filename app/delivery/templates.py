"""Messages from templates: one notice (or a digest of several) → title, markdown, plain text
and the short params that template channels (SMS, WeChat subscribe messages) fill in.

Chinese by default, English with ``lang="en"``. Every message carries the school, the class,
the student's name **masked** (``mask_name``: 张*明), the level label (蓝色预警…), the reason
(caller-supplied text, shown as given), the due time in the school's timezone ("11月25日
09:05") and a link to the case (``Links.case_url``) or a mini-program path
(``Links.case_page``).

The wording is data (``app.delivery.wording``: per topic, per language); the layout is shared.
An unknown topic or language, or a topic rendered without what it needs (an alert without its
level), is a ``TemplateError`` — an ``Invalid``, so the API answers 422.

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
from app.delivery.wording import (
    DEFAULT_LANG,
    DIGEST_TOPIC,
    LAYOUTS,
    TemplateError,
    checked_lang,
    level_label,
    topic_of,
)
from app.domain.calendar import DEFAULT_TIMEZONE
from app.domain.cases import LEVELS, Level

MASK = "*"
DIGEST_MAX_ITEMS = 20

LEVEL_MARK = {Level.blue: "🔵", Level.yellow: "🟡", Level.red: "🔴"}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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
    if checked_lang(lang) == "en":
        return f"{local.day} {_MONTHS_EN[local.month - 1]} {local:%H:%M}"
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def format_due_full(when: datetime, tz: str | ZoneInfo) -> str:
    """WeChat's ``time`` format: "2024年11月25日 09:05"."""
    local = _aware(when).astimezone(zone(tz))
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


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
    lang = checked_lang(lang)
    topic = topic_of(notice.topic)
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
    lang = checked_lang(lang)
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
