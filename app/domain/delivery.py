"""A delivery's life: one notice over one channel, or one event to one webhook
(``app/delivery/worker.py`` moves it along; the ``delivery`` table stores the values).

A delivery is ``pending`` until due (new, a retry, held through quiet hours or a robot's full
minute), ``sending`` while a worker holds it under a lease, then ``sent``, ``dead``
(dead-lettered with the reason; the next channel of the route gets a delivery of its own) or
``folded`` (not sent: the case went red since, and the red notice says it all).
"""

from __future__ import annotations

from enum import StrEnum

from app.domain.cases import Level


class DeliveryState(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    dead = "dead"
    folded = "folded"


# Due or in flight: what a worker may claim and health counts as undelivered (the partial
# index ``ix_delivery_due`` covers exactly these).
UNDELIVERED = (DeliveryState.pending.value, DeliveryState.sending.value)

# The levels of the notices that wait out a school's quiet hours (a notice with no level too)
# and that a red alert of the same case folds: red always goes.
ROUTINE_LEVELS = (Level.blue.value, Level.yellow.value)

# Timeline kinds that county systems hear about, as webhook event types. The delivery worker
# dispatches only these; any other timeline entry is written already dispatched (nothing is
# ever sent for it, so it never waits in the worker's queue).
CASE_EVENTS = {
    "case.opened": "case.opened",
    "alert.verified": "alert.verified",
    "case.returned": "case.closed",
    "case.excused": "case.closed",
    "case.withdrawn": "case.closed",
    "case.reenrolled": "case.closed",
    "case.transferred": "case.closed",
}
