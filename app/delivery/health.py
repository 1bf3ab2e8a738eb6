"""What ``GET /engine/health`` says about delivery: per channel the backlog, the oldest
undelivered notification and the dead letters of the last 24 hours; the outbox not yet
dispatched; and every engine process's heartbeat.

Red (``status``), with the reasons in ``problems``, when notifications are not leaving:

* an outbox notification has waited more than ``STALL`` to be dispatched (the dispatcher is
  failing or stopped — the multi-row insert refusal of issue 11 showed up here);
* a delivery has been due for more than ``STALL`` and is still not sent;
* there is work and no engine process has finished a delivery tick within ``STALL`` (wall
  clock), or none has ever reported.

Backlog ages are on the business clock (what is due); heartbeats on the wall clock.
"""

from __future__ import annotations

from datetime import timedelta

from app.context import AppContext
from app.db.uow import UnitOfWork
from app.delivery import repository as repo
from app.delivery.schemas import ChannelHealthOut, ChannelName, DeliveryHealthOut, ProcessOut

STALL = timedelta(minutes=5)


async def delivery_health(
    uow: UnitOfWork, ctx: AppContext
) -> tuple[DeliveryHealthOut, list[ProcessOut]]:
    now = ctx.clock()
    wall = ctx.wall_clock()
    s = uow.session
    undispatched, oldest_note = await repo.undispatched_stats(s)
    by_channel = await repo.backlog_by_channel(s, now - timedelta(hours=24))
    beats = await repo.heartbeats(s)
    problems: list[str] = []
    if oldest_note is not None and now - oldest_note > STALL:
        problems.append(
            f"{undispatched} 条通知未分发,最早 {int((now - oldest_note).total_seconds())} 秒前"
            " (outbox not dispatched)"
        )
    channels = []
    work = undispatched > 0
    names = ["webhook", *(c.value for c in ChannelName)]
    for name in names + sorted(set(by_channel) - set(names)):
        count, oldest, due_at, dead = by_channel.get(name, (0, None, None, 0))
        due = due_at is not None and due_at <= now
        work = work or due
        if due_at is not None and now - due_at > STALL:
            problems.append(
                f"{name}: 到期未送达超过 {int(STALL.total_seconds() // 60)} 分钟"
                " (deliveries overdue)"
            )
        channels.append(
            ChannelHealthOut(
                channel=name,
                backlog=count,
                due=due,
                oldest_undelivered_at=oldest,
                oldest_undelivered_seconds=(now - oldest).total_seconds() if oldest else None,
                dead_24h=dead,
            )
        )
    processes = [
        ProcessOut(
            process_id=b.process_id,
            hostname=b.hostname,
            pid=b.pid,
            started_at=b.started_at,
            beat_at=b.beat_at,
            last_sweep_at=b.last_sweep_at,
            last_delivery_at=b.last_delivery_at,
            last_error=b.last_error,
            alive=wall - b.beat_at <= STALL,
        )
        for b in beats
    ]
    delivering = any(
        p.last_delivery_at is not None and wall - p.last_delivery_at <= STALL for p in processes
    )
    if work and not delivering:
        problems.append("没有正在运行的发送进程 (no engine process delivering)")
    out = DeliveryHealthOut(
        status="red" if problems else "green",
        problems=problems,
        undispatched=undispatched,
        oldest_undispatched_at=oldest_note,
        channels=channels,
    )
    return out, processes
