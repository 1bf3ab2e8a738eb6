"""Who gets what over which channel: per-school routes and quiet hours, the school's robots,
and county webhook subscriptions. Secrets are stored encrypted."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from app.context import AppContext
from app.db.models import (
    Alert,
    ChannelTarget,
    County,
    Delivery,
    DeliveryAttempt,
    DeliverySettings,
    Notification,
    WebhookSubscription,
)
from app.db.uow import UnitOfWork
from app.delivery import config_repo
from app.delivery import repository as delivery_repo
from app.delivery.channels import outbound
from app.delivery.channels.base import utc_now
from app.delivery.channels.webhook import new_secret
from app.delivery.schemas import (
    ROBOTS,
    AttemptOut,
    ChannelName,
    ChannelTargetIn,
    ChannelTargetOut,
    DeliveryOut,
    DeliverySettingsIn,
    DeliverySettingsOut,
    SmsTemplatesIn,
    SmsTemplatesOut,
    WebhookEvent,
    WebhookRotateIn,
    WebhookSubscriptionIn,
    WebhookSubscriptionOut,
)
from app.delivery.wording import DIGEST_TOPIC, TOPICS
from app.domain import access
from app.domain.access import Actor
from app.errors import FieldProblem, Forbidden, Invalid, NotFound
from app.org.service import school_for

_NOT_ALLOWED = "需要校长、分管副校长或县级管理员 (principal, vice principal or county admin)"
# Channels that need nothing configured per school: the staff member's openid or mobile.
_PERSONAL = frozenset({ChannelName.wechat, ChannelName.sms})
_ROBOT_QUERY = {ChannelName.wecom_robot: "key", ChannelName.dingtalk_robot: "access_token"}
# Guardian notices (app.guardians.notices) are rendered when written, but go by the school's
# SMS template for their kind too.
GUARDIAN_SMS_KINDS = ("guardian.absence",)
_SMS_KINDS = frozenset({*TOPICS, DIGEST_TOPIC, "default", *GUARDIAN_SMS_KINDS})


async def _check_outbound_url(ctx: AppContext, loc: tuple[str | int, ...], url: str) -> None:
    problem = await outbound.url_problem(ctx.settings.outbound, url)
    if problem is not None:
        raise Invalid.field(loc, problem)


def _check_robot_url(ctx: AppContext, channel: ChannelName, url: str) -> None:
    problem = outbound.robot_url_problem(ctx.settings.outbound, channel.value, url)
    if problem is None:
        param = _ROBOT_QUERY[channel]
        if not parse_qs(urlsplit(url).query).get(param, [""])[0]:
            problem = f"机器人地址缺少 {param} 参数 (the URL must carry ?{param}=…)"
    if problem is not None:
        raise Invalid.field(("body", "url"), problem)


async def _manageable_school(uow: UnitOfWork, actor: Actor, school_id: int) -> int:
    school = await school_for(uow, actor, school_id)
    if not access.can_manage_staff(actor, school_id, school.county_id):
        raise Forbidden(_NOT_ALLOWED)
    return school.county_id


async def get_settings(uow: UnitOfWork, actor: Actor, school_id: int) -> DeliverySettingsOut:
    await school_for(uow, actor, school_id)
    row = await uow.session.get(DeliverySettings, school_id)
    targets = [
        ChannelName(t.channel)
        for t in await config_repo.targets(uow.session, school_id)
        if t.enabled
    ]
    base = (
        DeliverySettingsIn()
        if row is None
        else DeliverySettingsIn(
            quiet_start=row.quiet_start,
            quiet_end=row.quiet_end,
            routes=row.routes,
        )
    )
    return DeliverySettingsOut(
        school_id=school_id, configured_channels=targets, **base.model_dump()
    )


async def put_settings(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, school_id: int, data: DeliverySettingsIn
) -> DeliverySettingsOut:
    await _manageable_school(uow, actor, school_id)
    configured = {
        ChannelName(t.channel)
        for t in await config_repo.targets(uow.session, school_id)
        if t.enabled
    }
    for role, channels in data.routes.items():
        for i, channel in enumerate(channels):
            if channel in ROBOTS and channel not in configured:
                raise Invalid.field(
                    ("body", "routes", role.value, i),
                    f"学校尚未配置渠道 {channel.value} (channel not configured for the school)",
                )
    row = await uow.session.get(DeliverySettings, school_id)
    if row is None:
        row = DeliverySettings(school_id=school_id, updated_at=ctx.clock())
        uow.session.add(row)
    row.quiet_start, row.quiet_end = data.quiet_start, data.quiet_end
    row.routes = {r.value: [c.value for c in cs] for r, cs in data.routes.items()}
    row.updated_at = ctx.clock()
    await uow.commit()
    return await get_settings(uow, actor, school_id)


async def put_target(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    school_id: int,
    channel: ChannelName,
    data: ChannelTargetIn,
) -> ChannelTargetOut:
    await _manageable_school(uow, actor, school_id)
    if channel in _PERSONAL:
        raise Invalid.field(
            ("path", "channel"),
            "小程序和短信按个人发送,无需配置机器人 (wechat and sms need no robot)",
        )
    if channel is ChannelName.dingtalk_robot and not data.secret:
        raise Invalid.field(("body", "secret"), "钉钉机器人须配置加签密钥 (secret required)")
    _check_robot_url(ctx, channel, str(data.url))
    await _check_outbound_url(ctx, ("body", "url"), str(data.url))
    row = await config_repo.target(uow.session, school_id, channel.value)
    if row is None:
        row = ChannelTarget(
            school_id=school_id, channel=channel.value, url="", updated_at=ctx.clock()
        )
        uow.session.add(row)
    row.url = str(data.url)
    row.secret_enc = ctx.cipher.encrypt(data.secret) if data.secret else None
    row.enabled = True
    row.updated_at = ctx.clock()
    await uow.commit()
    return ChannelTargetOut(
        school_id=school_id,
        channel=channel,
        url=row.url,
        has_secret=bool(row.secret_enc),
        enabled=row.enabled,
    )


def _sub_out(row: WebhookSubscription, secret: str | None = None) -> WebhookSubscriptionOut:
    until = row.secret_prev_until
    return WebhookSubscriptionOut(
        id=row.id or 0,
        county_id=row.county_id,
        school_id=row.school_id,
        url=row.url,
        events=[WebhookEvent(e) for e in row.events],
        active=row.active,
        created_at=row.created_at,
        rotation_ends=until if until is not None and until > utc_now() else None,
        secret=secret,
    )


async def rotate_secret(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, sub_id: int, data: WebhookRotateIn
) -> WebhookSubscriptionOut:
    """A new secret signs from now on; the old one signs too for ``window_hours`` (by the
    real clock), so the county system can switch over without losing a message."""
    row = await uow.session.get(WebhookSubscription, sub_id)
    if row is None or not access.can_manage_integration(actor, row.county_id, row.school_id):
        raise NotFound("webhook 订阅", sub_id)
    generated = None if data.secret else new_secret()
    fresh = data.secret or generated or ""
    if data.window_hours:
        row.secret_prev_enc = row.secret_enc
        row.secret_prev_until = utc_now() + timedelta(hours=data.window_hours)
    else:
        row.secret_prev_enc, row.secret_prev_until = None, None
    row.secret_enc = ctx.cipher.encrypt(fresh)
    await uow.commit()
    return _sub_out(row, generated)


async def put_sms_templates(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, school_id: int, data: SmsTemplatesIn
) -> SmsTemplatesOut:
    """The school's approved SMS templates and which message param fills each variable,
    checked against the configured provider's template rules (422 naming the field)."""
    await _manageable_school(uow, actor, school_id)
    provider = ctx.settings.channels.sms_provider
    if provider not in ("tencent", "aliyun"):
        raise Invalid.field(
            ("body", "templates"),
            "本系统未配置短信服务商 (set KCBX_CHANNELS__SMS_PROVIDER to tencent or aliyun)",
        )
    problems = []
    for kind, template in data.templates.items():
        if kind not in _SMS_KINDS:
            problems.append(
                FieldProblem(("body", "templates", kind), "未知的通知类型 (unknown kind)")
            )
            continue
        for sub, msg in template.problems(provider):
            problems.append(FieldProblem(("body", "templates", kind, *sub), msg))
    if problems:
        raise Invalid(problems)
    row = await config_repo.target(uow.session, school_id, ChannelName.sms.value)
    if row is None:
        row = ChannelTarget(
            school_id=school_id, channel=ChannelName.sms.value, url="", updated_at=ctx.clock()
        )
        uow.session.add(row)
    row.options = {"templates": {k: t.model_dump() for k, t in data.templates.items()}}
    row.enabled = bool(data.templates)
    row.updated_at = ctx.clock()
    await uow.commit()
    return SmsTemplatesOut(school_id=school_id, provider=provider, templates=data.templates)


async def get_sms_templates(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, school_id: int
) -> SmsTemplatesOut:
    await school_for(uow, actor, school_id)
    row = await config_repo.target(uow.session, school_id, ChannelName.sms.value)
    raw = (row.options or {}).get("templates", {}) if row is not None else {}
    return SmsTemplatesOut(
        school_id=school_id, provider=ctx.settings.channels.sms_provider, templates=raw
    )


async def create_subscription(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, data: WebhookSubscriptionIn
) -> WebhookSubscriptionOut:
    if data.school_id is not None:
        county_id = await _manageable_school(uow, actor, data.school_id)
    elif data.county_id is not None:
        county = await uow.session.get(County, data.county_id)
        if county is None or not access.can_read_county(actor, data.county_id):
            raise NotFound("县", data.county_id)
        if not (access.can_manage_county(actor, data.county_id) and actor.manages_people):
            raise Forbidden(_NOT_ALLOWED)
        county_id = data.county_id
    else:
        raise Invalid.field(("body", "county_id"), "须指定 county_id 或 school_id")
    await _check_outbound_url(ctx, ("body", "url"), str(data.url))
    generated = None if data.secret else new_secret()
    row = WebhookSubscription(
        county_id=county_id,
        school_id=data.school_id,
        url=str(data.url),
        secret_enc=ctx.cipher.encrypt(data.secret or generated or ""),
        events=[e.value for e in data.events],
        created_at=ctx.clock(),
    )
    uow.session.add(row)
    await uow.commit()
    return _sub_out(row, generated)


async def list_subscriptions(uow: UnitOfWork, actor: Actor) -> list[WebhookSubscriptionOut]:
    rows = [
        r
        for r in await config_repo.subscriptions(uow.session)
        if access.can_manage_integration(actor, r.county_id, r.school_id)
    ]
    return [_sub_out(r) for r in rows]


async def delete_subscription(uow: UnitOfWork, actor: Actor, sub_id: int) -> None:
    row = await uow.session.get(WebhookSubscription, sub_id)
    if row is None or not access.can_manage_integration(actor, row.county_id, row.school_id):
        raise NotFound("webhook 订阅", sub_id)
    row.active = False
    await uow.commit()


# --- receipts -------------------------------------------------------------------------------


def _receipts_out(found: list[tuple[Delivery, list[DeliveryAttempt]]]) -> list[DeliveryOut]:
    return [
        DeliveryOut(
            id=d.id or 0,
            channel=d.channel,
            state=d.state,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            sent_at=d.sent_at,
            last_error=d.last_error,
            staff_id=d.staff_id,
            notification_id=d.notification_id,
            subscription_id=d.subscription_id,
            receipts=[
                AttemptOut(
                    at=a.at,
                    channel=a.channel,
                    status=a.status,
                    http_status=a.http_status,
                    code=a.code,
                    error=a.error,
                    duration_ms=a.duration_ms,
                )
                for a in attempts
            ],
        )
        for d, attempts in found
    ]


async def notification_receipts(
    uow: UnitOfWork, actor: Actor, notification_id: int
) -> list[DeliveryOut]:
    """The recipient, and the managers of the notice's school, may read its receipts."""
    note = await uow.session.get(Notification, notification_id)
    mine = note is not None and actor.kind is access.ActorKind.staff and note.staff_id == actor.id
    managed = (
        note is not None
        and note.school_id is not None
        and access.can_manage_school(actor, note.school_id)
    )
    if note is None or not (mine or managed):
        raise NotFound("通知", notification_id)
    return _receipts_out(
        await delivery_repo.receipts(uow.session, notification_ids=[notification_id])
    )


async def alert_receipts(uow: UnitOfWork, actor: Actor, alert_id: int) -> list[DeliveryOut]:
    alert = await uow.session.get(Alert, alert_id)
    if alert is None or not access.can_read_class(actor, alert.school_id, alert.class_id):
        raise NotFound("预警", alert_id)
    return _receipts_out(await delivery_repo.receipts(uow.session, alert_id=alert_id))
