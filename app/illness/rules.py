"""A county's cluster rules: the defaults with the county's own over them. The county admin or
its health contact sets a rule by code (a default's code replaces that default; ``active``
false switches it off); a rule with a symptom set *and* a disease is refused, as is a count or
window of 0 (the schema)."""

from __future__ import annotations

from app.context import AppContext
from app.db.models import IllnessRule
from app.db.uow import UnitOfWork
from app.domain import health_access as health
from app.domain import illness as dom
from app.domain.access import Actor
from app.domain.attendance import Symptom
from app.errors import FieldProblem, Invalid, NotFound
from app.illness import clusters, repo
from app.illness.schemas import RuleIn, RuleOut

_DEFAULTS = {r.code: r for r in dom.DEFAULT_RULES}


def _out(rule: dom.Rule, *, default: bool, active: bool = True) -> RuleOut:
    return RuleOut(
        code=rule.code,
        name=rule.name,
        scope=rule.scope,
        count=rule.count,
        window_days=rule.window_days,
        symptoms=sorted((Symptom(s) for s in rule.symptoms), key=list(Symptom).index),
        disease=rule.disease,
        deadline_hours=rule.deadline_hours,
        symptoms_all=sorted((Symptom(s) for s in rule.symptoms_all), key=list(Symptom).index),
        unexplained_only=rule.unexplained_only,
        default=default,
        active=active,
    )


def _require(actor: Actor, county_id: int) -> None:
    if not health.can_read_county_illness(actor, county_id):
        raise NotFound("县", county_id)


async def list_rules(uow: UnitOfWork, actor: Actor, county_id: int) -> list[RuleOut]:
    _require(actor, county_id)
    rows = {r.code: r for r in await repo.county_rules(uow.session, county_id)}
    out = [
        _out(clusters.rule_of(rows[d.code]), default=False, active=rows[d.code].active)
        if d.code in rows
        else _out(d, default=True)
        for d in dom.DEFAULT_RULES
    ]
    out += [
        _out(clusters.rule_of(r), default=False, active=r.active)
        for code, r in rows.items()
        if code not in _DEFAULTS
    ]
    return out


async def put_rule(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, county_id: int, code: str, data: RuleIn
) -> RuleOut:
    _require(actor, county_id)
    if (data.symptoms or data.symptoms_all) and data.disease is not None:
        raise Invalid(
            [
                FieldProblem(
                    ("body", "disease"),
                    "规则按症状或按病种,不能同时 (a rule counts symptoms or a disease, not both)",
                )
            ]
        )
    row = await repo.rule_row(uow.session, county_id, code) or IllnessRule(
        county_id=county_id,
        code=code,
        name="",
        scope="",
        count=1,
        window_days=1,
        updated_by="",
        updated_at=ctx.clock(),
    )
    row.name = data.name
    row.scope = data.scope.value
    row.count = data.count
    row.window_days = data.window_days
    row.symptoms = sorted({s.value for s in data.symptoms})
    row.symptoms_all = sorted({s.value for s in data.symptoms_all})
    row.unexplained_only = data.unexplained_only
    row.disease = data.disease.value if data.disease else None
    row.deadline_hours = data.deadline_hours
    row.active = data.active
    row.updated_by = actor.tag
    row.updated_at = ctx.clock()
    uow.session.add(row)
    await uow.commit()
    return _out(clusters.rule_of(row), default=False, active=row.active)
