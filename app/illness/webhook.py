"""The ``illness.cluster`` event: a filed 传染病疫情报告 to the county's systems (webhook
subscriptions with that event) and its health and education contacts (in-app notices), all
written as outbox rows in the report's transaction.

Payload (the delivery's ``data``, beside ``title``, ``text``, ``level`` and ``link``):
``topic`` ``"illness.cluster"``, ``alert_id``, ``school_id``, ``school_name``, ``county_id``,
``rule`` {``code``, ``name``}, ``scope`` (class | grade | school), ``scope_label``,
``scope_id``, ``disease`` and ``disease_label`` (disease rules, else null), ``window_start``,
``window_end``, ``raised_at``, ``report_due``, ``count`` and ``cases``: [{``student_id``,
``student_name``, ``class_id``, ``day``, ``onset_at``, ``symptoms`` (codes),
``symptom_labels``}]. The envelope and its signature are the webhook channel's (see README,
"Webhooks"): receivers verify it and deduplicate on the event ``id`` (``illness:<alert id>``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.alerts import engine_repo as alerts_repo
from app.db.models import IllnessAlert
from app.db.uow import UnitOfWork
from app.delivery import outbox
from app.delivery import repository as delivery_repo
from app.delivery.outbox import Notice
from app.domain.roles import Role

EVENT = "illness.cluster"
NOTICE_TOPIC = "illness.alert"


async def cluster_event(
    uow: UnitOfWork, alert: IllnessAlert, payload: dict[str, Any], now: datetime
) -> list[str]:
    """Queue the event; answers whom it goes to (``webhook:<subscription id>``,
    ``staff:<id>:<name>``)."""
    event_id = f"illness:{alert.id}"
    subs = [
        s
        for s in await delivery_repo.subscriptions(uow.session, [alert.county_id])
        if s.school_id in (None, alert.school_id) and EVENT in s.events
    ]
    data = {"topic": EVENT, **payload}
    await delivery_repo.add_deliveries(
        uow.session,
        [
            {
                "idem_key": f"s{s.id}:{event_id}",
                "subscription_id": s.id,
                "event_id": event_id,
                "channel": "webhook",
                "target_key": f"webhook:{s.id}",
                "school_id": alert.school_id,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "payload": data,
            }
            for s in subs
        ],
    )
    recipients = [f"webhook:{s.id}" for s in subs]
    notices: list[Notice] = []
    title = f"传染病疫情报告:{payload['school_name']},{alert.rule_name},{payload['count']} 名学生"
    for role in (Role.county_health, Role.county_admin):
        for staff_id, name in await alerts_repo.recipients(
            uow.session, role, county_id=alert.county_id, school_id=0, class_id=0
        ):
            recipients.append(f"staff:{staff_id}:{name}"[:100])
            notices.append(
                Notice(
                    idem_key=f"{event_id}:reported:{staff_id}",
                    staff_id=staff_id,
                    role=role,
                    topic=NOTICE_TOPIC,
                    title=title,
                    school_id=alert.school_id,
                    created_at=now,
                )
            )
    await outbox.enqueue(uow.session, notices)
    return recipients
