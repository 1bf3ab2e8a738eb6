"""Sign-in throttling: per account and per client address, shared by every process.

Decisions (README, "Sign-in" and "Operations"):
- failures are rows in ``sign_in_failure`` (when, which account, which client address), so
  several API processes count the same failures; an in-process counter would give an attacker
  N times the budget behind a load balancer. The table stays small: rows older than the
  window are deleted whenever a new failure is written;
- **per account**: more than ``KCBX_SIGN_IN_ACCOUNT_FAILURES`` (5) failures for one account
  within ``KCBX_SIGN_IN_WINDOW_SECONDS`` (900), from whatever addresses, answer 429 with
  ``Retry-After`` (until the oldest failure leaves the window) — before the password is even
  checked, so a locked account tells nothing; a successful sign-in clears that account's
  failures, not the address's;
- **per address**: a school's NAT or a county's proxy puts hundreds of staff behind one
  address, so the address never locks out a *correct* sign-in: once an address has more than
  ``KCBX_SIGN_IN_CLIENT_FAILURES`` (100) failures in the window, its wrong credentials answer
  429 (and still count against their account), while a right password for an account in good
  standing signs in. One attacker behind a shared address therefore locks at most the
  accounts it guesses at (5 guesses each, as from anywhere), never the colleagues beside it;
- the client address is the peer, or — when the peer is one of ``KCBX_TRUSTED_PROXIES`` (the
  same list uvicorn's ``forwarded_allow_ips`` gets) — the right-most address of
  ``X-Forwarded-For`` that is not a trusted proxy: a client cannot forge it by sending the
  header itself;
- a wrong ``current_password`` when changing one's own password counts against the account
  too (a stolen token must not become a way to guess the password);
- every failure and every refusal is logged (logger ``kcbx.auth``) with the masked mobile
  and the client address;
- the window runs on the real clock (security never follows the simulation clock).
"""

from __future__ import annotations

import ipaddress
import logging
import math
from datetime import datetime, timedelta
from functools import lru_cache

from app.db.uow import UnitOfWork
from app.errors import TooManyRequests
from app.org import sign_in_repo as repo
from app.settings import Settings

log = logging.getLogger("kcbx.auth")
_TOO_MANY = "登录失败次数过多,请稍后再试 (too many failed sign-ins: retry later)"


def masked(account: str) -> str:
    return account[:3] + "****" + account[-4:] if len(account) >= 8 else "****"


@lru_cache(maxsize=8)
def _trusted(
    proxies: str,
) -> tuple[bool, tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]]:
    """``KCBX_TRUSTED_PROXIES``: ``*`` (any) or addresses and networks, comma-separated."""
    entries = [e.strip() for e in proxies.split(",") if e.strip()]
    return "*" in entries, tuple(ipaddress.ip_network(e, strict=False) for e in entries if e != "*")


def _is_trusted(address: str, proxies: str) -> bool:
    anything, networks = _trusted(proxies)
    if anything:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str | None, forwarded_for: str | None, proxies: str) -> str:
    """The address the throttle counts: the peer unless it is a trusted proxy; then the right-
    most ``X-Forwarded-For`` entry that is not one (uvicorn's rule for ``forwarded_allow_ips``,
    so behind uvicorn's own proxy handling the answer is the same)."""
    if peer is None or not forwarded_for or not _is_trusted(peer, proxies):
        return peer or "unknown"
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer


async def _refuse_over(
    uow: UnitOfWork,
    settings: Settings,
    now: datetime,
    limit: int,
    *,
    account: str,
    client: str | None = None,
) -> int:
    """429 when the account's (or, given ``client``, the address's) failures in the window
    reach ``limit``; otherwise their count."""
    window = timedelta(seconds=settings.sign_in_window_seconds)
    where = {"client": client} if client is not None else {"account": account}
    count, oldest = await repo.recent_failures(uow.session, since=now - window, **where)
    if count >= limit and oldest is not None:
        wait = max(1, math.ceil((oldest + window - now).total_seconds()))
        log.warning(
            "sign-in refused (429, %s throttled): account %s from %s, retry in %ss",
            "client" if client is not None else "account",
            masked(account),
            client,
            wait,
        )
        raise TooManyRequests(_TOO_MANY, wait)
    return count


async def check(uow: UnitOfWork, settings: Settings, *, account: str, now: datetime) -> int:
    """Raise 429 when the account has used its failures in the window (whatever the password);
    otherwise return its recent failures (0 on the common path: nothing to clear, no write)."""
    return await _refuse_over(
        uow, settings, now, settings.sign_in_account_failures, account=account
    )


async def failed(
    uow: UnitOfWork, settings: Settings, *, account: str, client: str, now: datetime
) -> None:
    log.warning("sign-in failed: account %s from %s", masked(account), client)
    await repo.purge_before(uow.session, now - timedelta(seconds=settings.sign_in_window_seconds))
    repo.add_failure(uow.session, account=account, client=client, at=now)
    await uow.commit()


async def refuse_address(
    uow: UnitOfWork, settings: Settings, *, account: str, client: str, now: datetime
) -> None:
    """After a failed sign-in (already counted): 429 instead of 401 when the address is over
    its limit. Only failed credentials get here: a right password is never refused for it."""
    limit = settings.sign_in_client_failures + 1  # the failure just written is one of them
    await _refuse_over(uow, settings, now, limit, account=account, client=client)


async def succeeded(uow: UnitOfWork, *, account: str) -> None:
    await repo.forget_account(uow.session, account)
    await uow.commit()
