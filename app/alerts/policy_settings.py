"""Alert policies per county and school (the engine's health and the simulation clock are
``app/jobs/``)."""

from __future__ import annotations

from typing import Any

from app.alerts import engine_repo as alerts_repo
from app.alerts import policy as policies
from app.alerts.county_rules import rules_from
from app.alerts.policy_schemas import (
    PolicyIn,
    PolicyOut,
)
from app.context import AppContext
from app.db.models import AlertPolicyRow
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor
from app.errors import Forbidden, Invalid, NotFound
from app.org.service import school_for

# --- policies -------------------------------------------------------------------------------


def _checked(values: dict[str, Any]) -> None:
    try:
        merged = policies.from_dict(dict(values))
        rules = rules_from(values)
    except (ValueError, TypeError) as exc:
        raise Invalid.field(("body",), str(exc)) from exc
    if merged.yellow_days >= merged.red_days:
        raise Invalid.field(
            ("body", "red_days"),
            "红色预警天数须大于黄色预警天数 (red_days must exceed yellow_days)",
        )
    for window in ("intermittent_window_days", "measure_window_days"):
        if getattr(rules, window) < merged.red_days:
            raise Invalid.field(
                ("body", window),
                f"窗口不得短于红色预警的连续缺勤天数 {merged.red_days} "
                "(a window shorter than the consecutive-day run threshold)",
            )
    if rules.intermittent_absences > rules.intermittent_window_days:
        raise Invalid.field(
            ("body", "intermittent_absences"),
            "缺勤天数不得多于窗口天数 (more absences than days in the window)",
        )
    if not (rules.band_at_risk_percent < rules.band_moderate_percent < rules.band_severe_percent):
        raise Invalid.field(
            ("body", "band_moderate_percent"),
            "分档须依次递增:风险 < 中度 < 严重 (bands must ascend)",
        )


def _effective(*layers: dict[str, Any] | None) -> dict[str, Any]:
    """Alert thresholds and recipients, then the legal periods and dropout targets."""
    return {**policies.to_dict(policies.merge(*layers)), **rules_from(*layers).model_dump()}


async def county_policy(uow: UnitOfWork, actor: Actor, county_id: int) -> PolicyOut:
    if not access.can_read_county(actor, county_id):
        raise NotFound("县", county_id)
    row = await alerts_repo.policy_row(uow.session, f"county:{county_id}")
    overrides = dict(row.values) if row else {}
    return PolicyOut(
        scope=f"county:{county_id}", overrides=overrides, effective=_effective(overrides)
    )


async def school_policy(uow: UnitOfWork, actor: Actor, school_id: int) -> PolicyOut:
    school = await school_for(uow, actor, school_id)
    county = await alerts_repo.policy_row(uow.session, f"county:{school.county_id}")
    own = await alerts_repo.policy_row(uow.session, f"school:{school_id}")
    overrides = dict(own.values) if own else {}
    layers = (county.values if county else None, overrides)
    return PolicyOut(
        scope=f"school:{school_id}", overrides=overrides, effective=_effective(*layers)
    )


async def put_policy(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    data: PolicyIn,
    *,
    county_id: int | None = None,
    school_id: int | None = None,
) -> PolicyOut:
    """Changes apply to cases opened afterwards: open cases keep their snapshot."""
    overrides = {
        k: (v.value if hasattr(v, "value") else v)
        for k, v in data.model_dump(exclude_none=True).items()
    }
    if school_id is not None:
        school = await school_for(uow, actor, school_id)
        if not access.can_manage_staff(actor, school_id, school.county_id):
            raise Forbidden("需要校长、分管副校长或县级管理员 (principal, vice principal, county)")
        county = await alerts_repo.policy_row(uow.session, f"county:{school.county_id}")
        _checked({**(county.values if county else {}), **overrides})
        key, scope_county, scope_school = f"school:{school_id}", school.county_id, school_id
    else:
        assert county_id is not None
        if not access.can_read_county(actor, county_id):
            raise NotFound("县", county_id)
        if not access.can_manage_county(actor, county_id) or not actor.manages_people:
            raise Forbidden("需要县教育局管理员 (county administrators)")
        _checked(overrides)
        key, scope_county, scope_school = f"county:{county_id}", county_id, None
    row = await alerts_repo.policy_row(uow.session, key)
    if row is None:
        row = AlertPolicyRow(scope_key=key, county_id=scope_county, school_id=scope_school)
        uow.session.add(row)
    row.values = overrides
    row.updated_at = ctx.clock()
    await uow.commit()
    if school_id is not None:
        return await school_policy(uow, actor, school_id)
    return await county_policy(uow, actor, county_id or 0)
