"""SMS replies (issue 22 item 2, "a reply code for SMS"): the guardian answers the notice by
texting back a digit, received through Tencent Cloud SMS's reply callback (短信回复, the
published contract: ``POST`` JSON ``{"extend", "mobile", "nationcode", "sign", "text",
"time"}``, answered ``{"result": 0, "errmsg": "OK"}``; result non-zero is a failure).

Decisions:
- Tencent does not sign the callback, so its URL carries a secret of ours
  (``KCBX_GUARDIAN_SMS_REPLY_TOKEN``; unset: the callback does not exist, 404; a wrong one 404
  too, nothing said);
- the reply applies to the newest notice to that mobile whose link is still valid — the same
  notice, the same children, the same checks and limits as the link (``answers.answer``):
  each child answered once, the hourly limit, a contact on the case, a pending leave;
- ``1`` 生病 (symptom words after it: 发烧, 咳嗽…; none recognised: ``other``), ``2`` 家中有事,
  ``3`` 在路上, ``4`` 不清楚孩子去向; anything else is not an answer (result 1, nothing
  written). The SMS template says so, e.g. "…回复1生病 2家中有事 3在路上 4不清楚".
"""

from __future__ import annotations

import hmac
import logging
import re
import unicodedata

from app.context import AppContext
from app.domain.attendance import Symptom
from app.errors import AppError, Conflict, NotFound
from app.guardians import answers
from app.guardians import repository as repo
from app.guardians.links import make_token
from app.guardians.notices import normal_mobile
from app.guardians.schemas import Answer, AnswerIn, SmsReplyIn, SmsReplyOut

log = logging.getLogger("kcbx.guardians")
CODES = {"1": Answer.ill, "2": Answer.family, "3": Answer.on_the_way, "4": Answer.dont_know}
SYMPTOM_WORDS = {
    Symptom.fever: ("发烧", "发热", "烧"),
    Symptom.cough: ("咳嗽", "咳"),
    Symptom.sore_throat: ("咽痛", "嗓子疼", "喉咙痛"),
    Symptom.rash: ("皮疹", "疹"),
    Symptom.diarrhoea: ("腹泻", "拉肚子"),
    Symptom.vomiting: ("呕吐", "吐"),
    Symptom.headache: ("头痛", "头疼"),
}
_REPLY = re.compile(r"^\s*([1-4])(?![0-9])\s*(.*)$", re.DOTALL)


def parse_reply(text: str) -> tuple[Answer, list[Symptom]] | None:
    """The answer an SMS reply gives, or None when it is not one of the codes."""
    # Phones' Chinese keyboards often send full-width digits (１): NFKC makes them 1.
    found = _REPLY.match(unicodedata.normalize("NFKC", text))
    if found is None:
        return None
    answer = CODES[found.group(1)]
    if answer is not Answer.ill:
        return answer, []
    rest = found.group(2)
    symptoms = [s for s, words in SYMPTOM_WORDS.items() if any(w in rest for w in words)]
    return answer, symptoms or [Symptom.other]


def _ok(result: int, message: str) -> SmsReplyOut:
    return SmsReplyOut(result=result, errmsg=message)


async def tencent_reply(ctx: AppContext, secret: str, data: SmsReplyIn) -> SmsReplyOut:
    expected = ctx.settings.guardian_sms_reply_token.get_secret_value()
    if not expected or not hmac.compare_digest(expected.encode(), secret.encode()):
        raise NotFound("短信回复地址")
    mobile = normal_mobile(data.mobile)
    parsed = parse_reply(data.text)
    if data.nationcode.lstrip("+") != "86" or mobile is None:
        return _ok(1, "not a mainland mobile")
    if parsed is None:
        return _ok(1, "not a reply code")
    async with ctx.uow() as uow:
        notice = await repo.latest_valid_notice(uow.session, mobile, ctx.wall_clock())
    if notice is None or notice.id is None:
        return _ok(1, "no notice to answer")
    token = make_token(
        ctx.settings.secret_key, notice.id, mobile, notice.school_date, notice.link_expires_at
    )
    answer, symptoms = parsed
    done = 0
    for student_id in notice.student_ids:
        body = AnswerIn(student_id=student_id, answer=answer, symptoms=symptoms, note="短信回复")
        try:
            async with ctx.uow() as uow:
                await answers.answer(uow, ctx, token, body)
            done += 1
        except Conflict:
            continue  # answered already (the link, or an earlier reply)
        except AppError as exc:  # the hourly limit: the rest waits for a later reply
            log.info("SMS reply of notice %s stopped: %s", notice.id, exc)
            break
    return _ok(0, "OK") if done else _ok(1, "nothing to answer")
