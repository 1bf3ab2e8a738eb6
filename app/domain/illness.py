"""因病缺勤 surveillance: the symptoms and diseases, the cluster rules as data, and the cluster
detector (WS/T 772-2020; 学校和托幼机构传染病疫情报告工作规范 2006).

Decisions:
- a case counts on one school day: the day the child was first absent (or sent home) for the
  illness; a student counts once per rule and window however many cases they have;
- a case matches a rule when it shares a symptom with the rule's symptom set (an empty set
  means any symptom) and has every symptom of its "all of" set, or, for a disease rule, when
  its diagnosis is the rule's disease; a rule may count undiagnosed cases only;
- a window is ``window_days`` consecutive *school* days ending on the day looked at: the
  calendar's days off do not break "3 consecutive school days";
- the detector is a pure function of (rules, cases, school days, the day): it answers each
  rule met, per scope (class, grade or school), with the students that met it. Whether a hit
  opens an alert or joins an open one is the caller's business (the alert's key).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Disease(StrEnum):
    """Diagnoses the school rules name; all but ``other`` are notifiable (法定传染病)."""

    hfmd = "hfmd"  # 手足口病
    influenza = "influenza"  # 流行性感冒
    chickenpox = "chickenpox"  # 水痘
    mumps = "mumps"  # 流行性腮腺炎
    measles = "measles"  # 麻疹
    norovirus = "norovirus"  # 诺如病毒感染
    other = "other"  # 其他(非法定传染病)


DISEASE_LABELS: dict[Disease, str] = {
    Disease.hfmd: "手足口病",
    Disease.influenza: "流行性感冒",
    Disease.chickenpox: "水痘",
    Disease.mumps: "流行性腮腺炎",
    Disease.measles: "麻疹",
    Disease.norovirus: "诺如病毒感染",
    Disease.other: "其他",
}


def notifiable(disease: Disease | None) -> bool:
    return disease is not None and disease is not Disease.other


class Scope(StrEnum):
    class_ = "class"
    grade = "grade"
    school = "school"


SCOPE_LABELS = {Scope.class_: "班级", Scope.grade: "年级", Scope.school: "全校"}


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    scope: Scope
    count: int  # at least this many students
    window_days: int  # within this many consecutive school days
    symptoms: frozenset[str] = frozenset()  # any of these; empty: any symptom
    disease: Disease | None = None  # a disease rule counts diagnosed cases only
    deadline_hours: int = 24
    # All of these too (a high fever is a fever): 流感样病例 is 发热 *and* 咳嗽 or 咽痛.
    symptoms_all: frozenset[str] = frozenset()
    # Only cases with no diagnosis yet: the single-case rule's "unexplained" high fever.
    unexplained_only: bool = False

    def matches(self, case: Case) -> bool:
        if self.unexplained_only and case.disease is not None:
            return False
        if self.disease is not None:
            return case.disease is self.disease
        if self.symptoms_all and not self.symptoms_all <= with_implied(case.symptoms):
            return False
        return not self.symptoms or bool(self.symptoms & case.symptoms)


# What a recorded symptom implies for an "all of" set: a high fever is a fever.
_IMPLIES = {"high_fever": "fever"}


def with_implied(symptoms: frozenset[str]) -> frozenset[str]:
    return symptoms | {_IMPLIES[s] for s in symptoms if s in _IMPLIES}


@dataclass(frozen=True)
class Case:
    student_id: int
    school_id: int
    grade_id: int
    class_id: int
    day: date  # the school day the illness absence began
    symptoms: frozenset[str]
    disease: Disease | None = None

    def scope_id(self, scope: Scope) -> int:
        if scope is Scope.class_:
            return self.class_id
        if scope is Scope.grade:
            return self.grade_id
        return self.school_id


@dataclass(frozen=True)
class Hit:
    rule: Rule
    scope_id: int
    window_start: date  # the first school day of the window met
    day: date  # the day looked at (the window's last school day)
    students: tuple[int, ...]  # sorted


# A high fever is a fever, severe vomiting or diarrhoea is vomiting or diarrhoea: they count
# towards the clusters of their group too.
_RESPIRATORY = frozenset({"fever", "cough", "sore_throat", "high_fever"})
_GASTRO = frozenset({"diarrhoea", "vomiting", "abdominal_pain", "severe_vomiting_diarrhoea"})
_SEVERE = frozenset({"high_fever", "breathing_difficulty", "severe_vomiting_diarrhoea"})
# A known or suspected case of a notifiable disease is reported at once: one case in the
# school, with 2 hours before the county is told it is late (the 2-hour limit of 传染病信息报告
# 管理规范 for the most urgent reports). One rule per disease, so a county tunes each.
_AT_ONCE_HOURS = 2

# The defaults: ≥3 similar-symptom cases in a class on one day, ≥5 within 3
# consecutive school days; one child with a severe sign; any notifiable case at once; and the
# disease-specific school thresholds health commissions publish. "Similar" is one of the
# symptom groups above. The severe rule counts an *unexplained* sign: a child with no diagnosis
# yet (a diagnosed child is explained; a notifiable diagnosis has its own rule). 流感样病例
# (ILI) is counted by its definition, 发热 with 咳嗽 or 咽痛 (the roll records 发热 at the 晨检
# threshold, not the definition's 38 ℃; 高热 counts as 发热), not by influenza diagnoses (each
# of those is reported at once by ``influenza_case``).
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("resp_1d", "呼吸道症状 班级单日≥3", Scope.class_, 3, 1, _RESPIRATORY),
    Rule("resp_3d", "呼吸道症状 班级3个上学日≥5", Scope.class_, 5, 3, _RESPIRATORY),
    Rule("gi_1d", "消化道症状 班级单日≥3", Scope.class_, 3, 1, _GASTRO),
    Rule("gi_3d", "消化道症状 班级3个上学日≥5", Scope.class_, 5, 3, _GASTRO),
    Rule("rash_1d", "皮疹 班级单日≥3", Scope.class_, 3, 1, frozenset({"rash"})),
    Rule("rash_3d", "皮疹 班级3个上学日≥5", Scope.class_, 5, 3, frozenset({"rash"})),
    Rule("hfmd_class", "手足口病 班级7日≥2", Scope.class_, 2, 7, disease=Disease.hfmd),
    Rule("hfmd_school", "手足口病 全校7日≥5", Scope.school, 5, 7, disease=Disease.hfmd),
    Rule(
        "ili_school",
        "流感样病例(发热伴咳嗽或咽痛) 全校7日≥10",
        Scope.school,
        10,
        7,
        frozenset({"cough", "sore_throat"}),
        symptoms_all=frozenset({"fever"}),
    ),
    Rule("varicella", "水痘 全校7日≥5", Scope.school, 5, 7, disease=Disease.chickenpox),
    Rule("mumps", "流行性腮腺炎 全校7日≥5", Scope.school, 5, 7, disease=Disease.mumps),
    Rule("measles", "麻疹 全校10日≥2", Scope.school, 2, 10, disease=Disease.measles),
    Rule("norovirus", "诺如病毒 全校7日≥10", Scope.school, 10, 7, disease=Disease.norovirus),
    Rule(
        "severe_1",
        "不明原因高热/呼吸困难/剧烈呕吐腹泻 单例",
        Scope.class_,
        1,
        1,
        _SEVERE,
        unexplained_only=True,
    ),
    *(
        Rule(
            f"{d.value}_case",
            f"{DISEASE_LABELS[d]}病例(含疑似) 立即报告",
            Scope.school,
            1,
            1,
            disease=d,
            deadline_hours=_AT_ONCE_HOURS,
        )
        for d in Disease
        if notifiable(d)
    ),
)


def window(school_days: Sequence[date], day: date, days: int) -> list[date]:
    """The ``days`` school days ending on ``day`` (fewer at the calendar's start);
    ``school_days`` ascending. A day that is no school day has no window."""
    if day not in school_days:
        return []
    end = school_days.index(day) + 1
    return list(school_days[max(0, end - days) : end])


def detect(
    rules: Iterable[Rule], cases: Iterable[Case], school_days: Sequence[date], day: date
) -> list[Hit]:
    """Every rule met on ``day``, per scope: the distinct students with a matching case in the
    rule's window of school days ending on ``day``, when they are at least ``count``."""
    cases = list(cases)
    hits: list[Hit] = []
    for rule in rules:
        days = window(school_days, day, rule.window_days)
        if not days:
            continue
        start, inside = days[0], set(days)
        by_scope: dict[int, set[int]] = defaultdict(set)
        for case in cases:
            if case.day in inside and rule.matches(case):
                by_scope[case.scope_id(rule.scope)].add(case.student_id)
        for scope_id, students in sorted(by_scope.items()):
            if len(students) >= rule.count:
                hits.append(Hit(rule, scope_id, start, day, tuple(sorted(students))))
    return hits
