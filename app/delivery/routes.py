"""A school's delivery settings over HTTP: routes, quiet hours, robots, SMS templates, webhook
subscriptions, an alert's deliveries."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import Ctx, CurrentActor, Uow
from app.core.types import BigId, Id
from app.delivery import school_delivery as delivery_config
from app.delivery.schemas import (
    ChannelName,
    ChannelTargetIn,
    ChannelTargetOut,
    DeliveryOut,
    DeliverySettingsIn,
    DeliverySettingsOut,
    SmsTemplatesIn,
    SmsTemplatesOut,
    WebhookRotateIn,
    WebhookSubscriptionIn,
    WebhookSubscriptionOut,
)

router = APIRouter(prefix="/api/v1", tags=["通知渠道 Delivery"])


@router.get("/schools/{school_id}/delivery", summary="学校通知设置:免打扰时段、各角色渠道")
async def get_settings(school_id: Id, uow: Uow, actor: CurrentActor) -> DeliverySettingsOut:
    return await delivery_config.get_settings(uow, actor, school_id)


@router.put(
    "/schools/{school_id}/delivery",
    summary="设置免打扰时段与各角色的渠道回退顺序",
    description="A robot channel must be configured first (PUT .../channels/{channel}), "
    "else 422. 红色预警不受免打扰限制 (red always goes).",
)
async def put_settings(
    school_id: Id, data: DeliverySettingsIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> DeliverySettingsOut:
    return await delivery_config.put_settings(uow, ctx, actor, school_id, data)


@router.put(
    "/schools/{school_id}/channels/{channel}",
    summary="配置学校群机器人(企业微信 / 钉钉)",
)
async def put_channel(
    school_id: Id,
    channel: ChannelName,
    data: ChannelTargetIn,
    uow: Uow,
    ctx: Ctx,
    actor: CurrentActor,
) -> ChannelTargetOut:
    return await delivery_config.put_target(uow, ctx, actor, school_id, channel, data)


@router.put(
    "/schools/{school_id}/sms-templates",
    summary="配置学校短信模板及变量映射",
    description="Each template is the provider's approved template (id and text) and, for "
    "every variable, the message param that fills it; checked against the configured "
    "provider's rules (Tencent {1}…, Alibaba ${name}), else 422 naming the field.",
)
async def put_sms_templates(
    school_id: Id, data: SmsTemplatesIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> SmsTemplatesOut:
    return await delivery_config.put_sms_templates(uow, ctx, actor, school_id, data)


@router.get("/schools/{school_id}/sms-templates", summary="学校短信模板")
async def get_sms_templates(
    school_id: Id, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> SmsTemplatesOut:
    return await delivery_config.get_sms_templates(uow, ctx, actor, school_id)


@router.post(
    "/webhook-subscriptions",
    status_code=status.HTTP_201_CREATED,
    summary="订阅事件推送 (county systems' webhooks, Standard Webhooks signatures)",
    description="Loopback, link-local and private addresses are refused (422). Without "
    "`secret` the server generates a `whsec_…` secret and returns it once.",
)
async def create_subscription(
    data: WebhookSubscriptionIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> WebhookSubscriptionOut:
    return await delivery_config.create_subscription(uow, ctx, actor, data)


@router.post(
    "/webhook-subscriptions/{sub_id}/rotate-secret",
    summary="轮换事件推送密钥 (both secrets sign during the window)",
)
async def rotate_secret(
    sub_id: Id, data: WebhookRotateIn, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> WebhookSubscriptionOut:
    return await delivery_config.rotate_secret(uow, ctx, actor, sub_id, data)


@router.get("/webhook-subscriptions", summary="事件推送订阅列表")
async def list_subscriptions(uow: Uow, actor: CurrentActor) -> list[WebhookSubscriptionOut]:
    return await delivery_config.list_subscriptions(uow, actor)


@router.delete(
    "/webhook-subscriptions/{sub_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="停用事件推送订阅",
)
async def delete_subscription(sub_id: Id, uow: Uow, actor: CurrentActor) -> None:
    await delivery_config.delete_subscription(uow, actor, sub_id)


@router.get(
    "/notifications/{notification_id}/deliveries",
    summary="通知的发送回执 (every attempt: time, channel, status, error)",
)
async def notification_receipts(
    notification_id: BigId, uow: Uow, actor: CurrentActor
) -> list[DeliveryOut]:
    return await delivery_config.notification_receipts(uow, actor, notification_id)


@router.get("/alerts/{alert_id}/deliveries", summary="预警相关通知的发送回执")
async def alert_receipts(alert_id: Id, uow: Uow, actor: CurrentActor) -> list[DeliveryOut]:
    return await delivery_config.alert_receipts(uow, actor, alert_id)
