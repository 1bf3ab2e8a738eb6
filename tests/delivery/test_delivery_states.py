"""A delivery's states and the levels delivery acts on are enums whose values are what the
``delivery`` table has always stored (no migration), and the due index covers exactly the
states a worker claims."""

from __future__ import annotations

from app.db.models import Delivery
from app.domain.cases import Level
from app.domain.delivery import ROUTINE_LEVELS, UNDELIVERED, DeliveryState


def test_the_stored_values_are_unchanged() -> None:
    assert [s.value for s in DeliveryState] == ["pending", "sending", "sent", "dead", "folded"]
    assert UNDELIVERED == ("pending", "sending")
    assert ROUTINE_LEVELS == ("blue", "yellow") and Level.red.value not in ROUTINE_LEVELS


def test_the_due_index_covers_the_undelivered_states() -> None:
    [index] = [i for i in Delivery.__table__.indexes if i.name == "ix_delivery_due"]  # type: ignore[attr-defined]
    listed = ", ".join(f"'{s}'" for s in UNDELIVERED)
    for dialect in ("postgresql", "sqlite"):
        assert str(index.dialect_options[dialect]["where"]) == f"state IN ({listed})"
