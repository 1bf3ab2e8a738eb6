"""Sign-in throttling: per account and per client address, shared by every process.

Decisions (README, "Sign-in"):
- failures are rows in ``sign_in_failure`` (when, which account, which client address), so
  several API processes count the same failures; an in-process counter would give an attacker
  N times the budget behind a load balancer. The table stays small: rows older than the
  window are deleted whenever a new failure is written;
- more than ``KCBX_SIGN_IN_ACCOUNT_FAILURES`` (5) failures for one account, or
  ``KCBX_SIGN_IN_CLIENT_FAILURES`` (30) from one address, within
  ``KCBX_SIGN_IN_WINDOW_SECONDS`` (900) answer 429 with ``Retry-After`` (until the oldest
  failure leaves the window) — before the password is even checked, so a locked account
  tells nothing; a successful sign-in clears that account's failures, not the address's;
- a wrong ``current_password`` when changing one's own password counts against the account
  too (a stolen token must not become a way to guess the password);
- every failure and every refusal is logged (logger ``kcbx.auth``) with the masked mobile
  and the client address;
- the window runs on the real clock (security never follows the simulation clock).
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from app.db.uow import UnitOfWork
from app.errors import TooManyRequests
from app.org import sign_in_repo as repo
from app.settings import Settings

log = logging.getLogger("kcbx.auth")
_TOO_MANY = "登录失败次数过多,请稍后再试 (too many failed sign-ins: retry later)"


def masked(account: str) -> str:
    return account[:3] + "****" + account[-4:] if len(account) >= 8 else "****"


async def check(
    uow: UnitOfWork, settings: Settings, *, account: str, client: str | None, now: datetime
) -> int:
    """Raise 429 when the account or the address has used its failures in the window
    (``client=None``: the account only, for a signed-in password change); otherwise return
    the account's recent failures (0 on the common path: nothing to clear, no write)."""
    window = timedelta(seconds=settings.sign_in_window_seconds)
    since = now - window
    limits: list[tuple[str, int, dict[str, str]]] = [
        ("account", settings.sign_in_account_failures, {"account": account})
    ]
    if client is not None:
        limits.append(("client", settings.sign_in_client_failures, {"client": client}))
    account_failures = 0
    for what, limit, where in limits:
        count, oldest = await repo.recent_failures(uow.session, since=since, **where)
        if what == "account":
            account_failures = count
        if count >= limit and oldest is not None:
            wait = math.ceil((oldest + window - now).total_seconds())
            log.warning(
                "sign-in refused (429, %s throttled): account %s from %s, retry in %ss",
                what,
                masked(account),
                client,
                wait,
            )
            raise TooManyRequests(_TOO_MANY, wait)
    return account_failures


async def failed(
    uow: UnitOfWork, settings: Settings, *, account: str, client: str, now: datetime
) -> None:
    log.warning("sign-in failed: account %s from %s", masked(account), client)
    await repo.purge_before(uow.session, now - timedelta(seconds=settings.sign_in_window_seconds))
    repo.add_failure(uow.session, account=account, client=client, at=now)
    await uow.commit()


async def succeeded(uow: UnitOfWork, *, account: str) -> None:
    await repo.forget_account(uow.session, account)
    await uow.commit()
