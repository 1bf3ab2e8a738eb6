"""就学情况 of a school-age child (适龄儿童): what the township declares on its list and the
status the county's ledger computes from it and the school records."""

from __future__ import annotations

from enum import StrEnum


class DeclaredStatus(StrEnum):
    """就学情况 as the township declares it on the list."""

    none = "none"  # blank
    deferred = "deferred"  # 缓学
    exempt = "exempt"  # 免学
    elsewhere = "elsewhere"  # 外出就读 / 随迁就读


class ChildStatus(StrEnum):
    """就学状态 as the ledger computes it (in this order of precedence, see the service)."""

    dropout = "dropout"  # 辍学
    suspected_dropout = "suspected_dropout"  # 疑似辍学
    transferred = "transferred"  # 转出
    suspended = "suspended"  # 休学
    studying = "studying"  # 在读
    deferred = "deferred"  # 缓学
    exempt = "exempt"  # 免学
    elsewhere = "elsewhere"  # 外出就读
    not_enrolled = "not_enrolled"  # 未入学


# In the order the ledger's columns and counts list them.
CHILD_STATUS_LABELS: dict[ChildStatus, str] = {
    ChildStatus.studying: "在读",
    ChildStatus.suspended: "休学",
    ChildStatus.transferred: "转出",
    ChildStatus.suspected_dropout: "疑似辍学",
    ChildStatus.dropout: "辍学",
    ChildStatus.deferred: "缓学",
    ChildStatus.exempt: "免学",
    ChildStatus.elsewhere: "外出就读",
    ChildStatus.not_enrolled: "未入学",
}
