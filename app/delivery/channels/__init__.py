"""Delivery channels: one small interface (``Channel``), one adapter per way of reaching people.

* ``webhook.WebhookChannel`` — signed JSON events for county systems;
* ``wecom.WecomRobot`` — 企业微信 group robot;
* ``dingtalk.DingtalkRobot`` — 钉钉 custom robot (加签);
* ``wechat.WechatSubscribe`` — WeChat mini-program subscribe messages (token cached);
* ``sms.TemplateSms`` — template SMS through one provider.

Every adapter takes an injected ``httpx.AsyncClient`` and returns a ``SendResult`` (ok, retry,
permanent, no_subscription) instead of raising. Endpoints and defaults: ``config``.
"""

from app.delivery.channels.base import (
    Channel,
    Message,
    Outcome,
    SendResult,
    Target,
    classify_exception,
    classify_response,
)

__all__ = [
    "Channel",
    "Message",
    "Outcome",
    "SendResult",
    "Target",
    "classify_exception",
    "classify_response",
]
