"""企业微信 group robot (群机器人): ``POST {base}?key=<robot key>`` with a JSON message.

Which message type, and why: the robot's ``markdown`` type renders links and headings but
cannot @ anyone by mobile (it only understands ``<@userid>`` written in the content);
``mentioned_mobile_list`` works with the ``text`` type only. So:

* ``target.mobiles`` given → ``text`` with ``mentioned_mobile_list`` (and ``mentioned_list``
  for ``target.userids``): the people are really notified; the body is the plain text;
* otherwise → ``markdown``, with ``<@userid>`` appended for each of ``target.userids``.

Limits: text content 2048 bytes, markdown 4096 bytes (cut with "…"); about 20 messages a
minute per robot (the worker's sliding window keeps under it).

Answers are HTTP 200 with ``errcode``: 0 ok; -1 (busy), 45009 (frequency limit) and 45033
(too many concurrent calls) retry — 45009 after 60 s; anything else (93000 invalid key,
40008 bad message type, 44004 empty content, …) is permanent.
"""

from __future__ import annotations

import httpx

from app.core.channel_settings import WECOM_BASE
from app.delivery.channels.base import (
    Clock,
    Message,
    SendResult,
    Target,
    classify_errcode,
    not_configured,
    request,
    truncate_utf8,
    utc_now,
)

DEFAULT_BASE = WECOM_BASE
TEXT_MAX_BYTES = 2048
MARKDOWN_MAX_BYTES = 4096
RETRY_CODES = frozenset({"-1", "45009", "45033"})
RETRY_AFTER = {"45009": 60.0}


def build_payload(message: Message, target: Target) -> dict[str, object]:
    if target.mobiles:
        text: dict[str, object] = {
            "content": truncate_utf8(message.text, TEXT_MAX_BYTES),
            "mentioned_mobile_list": list(target.mobiles),
        }
        if target.userids:
            text["mentioned_list"] = list(target.userids)
        return {"msgtype": "text", "text": text}
    mentions = "".join(f"<@{u}>" for u in target.userids)
    suffix = f"\n{mentions}" if mentions else ""
    room = MARKDOWN_MAX_BYTES - len(suffix.encode("utf-8"))
    content = truncate_utf8(message.markdown, room) + suffix
    return {"msgtype": "markdown", "markdown": {"content": content}}


class WecomRobot:
    name = "wecom"

    def __init__(
        self, client: httpx.AsyncClient, *, base_url: str = DEFAULT_BASE, clock: Clock = utc_now
    ) -> None:
        self._client = client
        self._base = base_url
        self._clock = clock

    async def send(self, message: Message, target: Target) -> SendResult:
        if target.url:
            url, params = target.url, None
        elif target.key:
            url, params = self._base, {"key": target.key}
        else:
            return not_configured("企业微信 robot key")
        payload = build_payload(message, target)
        answer = await request(self._client, "POST", url, params=params, json_body=payload)
        if isinstance(answer, SendResult):
            return answer
        return classify_errcode(
            answer, self._clock(), retry_codes=RETRY_CODES, retry_after=RETRY_AFTER
        )
