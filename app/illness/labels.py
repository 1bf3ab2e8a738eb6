"""Chinese labels of the illness vocabulary."""

from __future__ import annotations

from collections.abc import Iterable

from app.attendance.leaves_schemas import SYMPTOM_LABELS
from app.domain.attendance import Symptom


def symptom_text(codes: Iterable[str]) -> str:
    return "/".join(SYMPTOM_LABELS[Symptom(c)] for c in codes)


__all__ = ["SYMPTOM_LABELS", "symptom_text"]
