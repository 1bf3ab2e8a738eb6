"""Scope checks more than one feature makes before it acts."""

from __future__ import annotations

from app.domain.access import Actor, ActorKind
from app.errors import Forbidden

_READ_ONLY_KEY = "API 密钥只能查询,不能办理 (API keys read but do not act)"


def require_person(actor: Actor) -> None:
    """Casework is done by people: an API key reads but never acts."""
    if actor.kind is not ActorKind.staff:
        raise Forbidden(_READ_ONLY_KEY)
