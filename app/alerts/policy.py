"""Alert thresholds as configuration: the defaults of ``Policy``, then the county's
overrides, then the school's. A case snapshots the effective policy when it opens."""

from __future__ import annotations

import dataclasses
from typing import Any

from app.domain.cases import Policy
from app.domain.roles import Role

_ROLE_FIELDS = {f.name for f in dataclasses.fields(Policy) if f.type in ("Role", Role)}


def merge(*layers: dict[str, Any] | None) -> Policy:
    values: dict[str, Any] = {}
    for layer in layers:
        values.update(layer or {})
    return from_dict(values)


def from_dict(values: dict[str, Any]) -> Policy:
    known = {f.name for f in dataclasses.fields(Policy)}
    clean: dict[str, Any] = {
        k: (Role(v) if k in _ROLE_FIELDS else int(v)) for k, v in values.items() if k in known
    }
    return Policy(**clean)


def to_dict(policy: Policy) -> dict[str, Any]:
    return {
        k: (v.value if isinstance(v, Role) else v) for k, v in dataclasses.asdict(policy).items()
    }
