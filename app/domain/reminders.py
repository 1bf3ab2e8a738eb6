"""When a periodic reminder is due: the round a day falls in (pure: dates passed in)."""

from __future__ import annotations

from datetime import date


def reminder_round(due: date, today: date, every_days: int) -> int | None:
    """``None`` up to and including ``due``; then round 0 from the first late day, round 1
    ``every_days`` later, and so on. A notice keyed by its round is sent once per round."""
    if every_days < 1:
        raise ValueError("every_days must be at least 1")
    late = (today - due).days
    if late <= 0:
        return None
    return (late - 1) // every_days
