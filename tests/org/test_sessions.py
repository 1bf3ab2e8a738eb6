"""Passwords and sessions (issue 12, item 2): the current password to change one's own, token
revocation on a password change or deactivation, the sign-in throttle (per account, per
client address, shared by processes), Argon2 off the event loop."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import select

from app.context import AppContext
from app.db.models import SignInFailure
from app.domain.roles import Role
from app.main import create_app
from app.org import auth, throttle
from app.settings import Settings
from tests.world import TEACHER_PASSWORD, World

PASSWORD = TEACHER_PASSWORD


pytestmark = pytest.mark.world("teacher_with_password")


async def _mobile(world: World, client: httpx.AsyncClient, who: str) -> str:
    r = await client.get(f"/api/v1/staff/{world.ids[who]}", headers=world.auth("principal"))
    mobile: str = r.json()["mobile"]
    return mobile


async def _sign_in(client: httpx.AsyncClient, mobile: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/token", data={"username": mobile, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_changing_ones_own_password_needs_the_current_one_and_revokes_old_tokens(
    world: World, client: httpx.AsyncClient
) -> None:
    mobile = await _mobile(world, client, "teacher")
    first = (await _sign_in(client, mobile, PASSWORD)).json()["access_token"]
    second = (await _sign_in(client, mobile, PASSWORD)).json()["access_token"]
    me = f"/api/v1/staff/{world.ids['teacher']}"

    r = await client.patch(me, json={"password": "second-pass-2"}, headers=_bearer(first))
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "current_password"]
    r = await client.patch(
        me,
        json={"password": "second-pass-2", "current_password": "not-it-at-all"},
        headers=_bearer(first),
    )
    assert r.status_code == 403
    assert (await _sign_in(client, mobile, "second-pass-2")).status_code == 401

    r = await client.patch(
        me,
        json={"password": "second-pass-2", "current_password": PASSWORD},
        headers=_bearer(first),
    )
    assert r.status_code == 200
    # Every token issued before the change is dead, the one used for it included.
    for old in (first, second):
        assert (await client.get("/api/v1/auth/me", headers=_bearer(old))).status_code == 401
    assert (await _sign_in(client, mobile, PASSWORD)).status_code == 401
    fresh = await _sign_in(client, mobile, "second-pass-2")
    assert fresh.status_code == 200
    me_now = await client.get("/api/v1/auth/me", headers=_bearer(fresh.json()["access_token"]))
    assert me_now.status_code == 200 and me_now.json()["kind"] == "staff"


async def test_a_managers_reset_and_a_deactivation_revoke_the_persons_tokens(
    world: World, client: httpx.AsyncClient
) -> None:
    mobile = await _mobile(world, client, "teacher")
    stolen = (await _sign_in(client, mobile, PASSWORD)).json()["access_token"]
    r = await client.patch(
        f"/api/v1/staff/{world.ids['teacher']}",
        json={"password": "reset-by-head-1"},
        headers=world.auth("principal"),
    )
    assert r.status_code == 200
    assert (await client.get("/api/v1/students", headers=_bearer(stolen))).status_code == 401
    # The principal's own token is untouched by resetting someone else's.
    assert (
        await client.get("/api/v1/students", headers=world.auth("principal"))
    ).status_code == 200

    fresh = (await _sign_in(client, mobile, "reset-by-head-1")).json()["access_token"]
    r = await client.delete(
        f"/api/v1/staff/{world.ids['teacher']}", headers=world.auth("principal")
    )
    assert r.status_code == 200
    assert (await client.get("/api/v1/students", headers=_bearer(fresh))).status_code == 401


async def test_sign_in_is_throttled_per_account_with_retry_after(
    world: World, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    mobile = await _mobile(world, client, "teacher")
    limit = world.ctx.settings.sign_in_account_failures
    with caplog.at_level(logging.WARNING, logger="kcbx.auth"):
        for _ in range(limit):
            assert (await _sign_in(client, mobile, "wrong-guess-x")).status_code == 401
        # Even the right password is refused now: a locked account tells nothing.
        r = await _sign_in(client, mobile, PASSWORD)
    assert r.status_code == 429
    wait = int(r.headers["Retry-After"])
    assert 0 < wait <= world.ctx.settings.sign_in_window_seconds
    assert "稍后" in r.json()["detail"]
    failures = [m for m in caplog.messages if "sign-in failed" in m]
    assert len(failures) == limit
    assert all(mobile not in m and mobile[-4:] in m for m in failures)  # masked, yet findable
    assert any("429" in m for m in caplog.messages)

    # Another account from the same address is not locked by this one.
    other = await _mobile(world, client, "principal")
    assert (await _sign_in(client, other, "wrong-guess-x")).status_code == 401

    # When the failures leave the window, the account signs in again.
    async with world.ctx.uow() as uow:
        long_ago = datetime.now(UTC) - timedelta(seconds=wait + 1 + limit)
        await uow.session.exec(update(SignInFailure).values(at=long_ago))  # type: ignore[call-overload]
        await uow.commit()
    ok = await _sign_in(client, mobile, PASSWORD)
    assert ok.status_code == 200


async def test_a_success_clears_the_accounts_failures(
    world: World, client: httpx.AsyncClient
) -> None:
    mobile = await _mobile(world, client, "teacher")
    limit = world.ctx.settings.sign_in_account_failures
    for _ in range(limit - 1):
        await _sign_in(client, mobile, "wrong-guess-x")
    assert (await _sign_in(client, mobile, PASSWORD)).status_code == 200
    for _ in range(limit - 1):
        assert (await _sign_in(client, mobile, "wrong-guess-x")).status_code == 401
    assert (await _sign_in(client, mobile, PASSWORD)).status_code == 200


def _from(address: str) -> dict[str, str]:
    """As the reverse proxy (the test client's peer, 127.0.0.1, trusted by default) says."""
    return {"X-Forwarded-For": address}


async def test_one_attacker_behind_a_shared_address_cannot_lock_out_the_others(
    world: World, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A school's NAT: every teacher signs in from 203.0.113.7, behind the county's proxy.
    Someone there sprays passwords; the accounts guessed at lock (per account, as from
    anywhere), the address's wrong guesses are refused beyond its limit, and the colleagues'
    right passwords from the same address still sign in."""
    monkeypatch.setattr(world.ctx.settings, "sign_in_client_failures", 6)
    nat, elsewhere = _from("203.0.113.7"), _from("198.51.100.20")
    await world.add_staff("colleague", Role.subject_teacher, "class_A1", "colleague-pass-1")
    teacher = await _mobile(world, client, "teacher")
    colleague = await _mobile(world, client, "colleague")

    async def sign_in(mobile: str, password: str, via: dict[str, str]) -> int:
        r = await client.post(
            "/api/v1/auth/token", data={"username": mobile, "password": password}, headers=via
        )
        assert r.status_code != 429 or int(r.headers["Retry-After"]) > 0
        return r.status_code

    limit = world.ctx.settings.sign_in_account_failures
    statuses = [await sign_in(teacher, f"guess-{i}", nat) for i in range(limit)]
    statuses += [await sign_in(f"1370000000{i}", "Spring2026!", nat) for i in range(3)]
    assert statuses == [401] * 6 + [429] * 2  # the address's 7th and 8th failure: refused
    # The account guessed at is locked wherever its owner signs in from, right password too.
    assert await sign_in(teacher, PASSWORD, elsewhere) == 429
    # The colleague behind the same address signs in; a slip of theirs is refused (429), not
    # counted as a lock of anything but their own account.
    assert await sign_in(colleague, "colleague-typo", nat) == 429
    assert await sign_in(colleague, "colleague-pass-1", nat) == 200
    # Another address is not throttled by this one.
    assert await sign_in(colleague, "colleague-typo", elsewhere) == 401
    async with world.ctx.uow() as uow:
        rows = list(await uow.session.exec(select(SignInFailure.client)))
    # Counted: the teacher's 5 and the spray's 3 (the colleague's slip went with their sign-in;
    # the locked account's attempt elsewhere was refused before any password was checked).
    assert rows.count("203.0.113.7") == 8 and rows.count("198.51.100.20") == 1


async def test_the_client_address_is_believed_from_trusted_proxies_only(
    world: World, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Untrusted peers cannot pick the address they are counted under by sending the header."""
    mobile = await _mobile(world, client, "teacher")
    monkeypatch.setattr(world.ctx.settings, "trusted_proxies", "10.0.0.0/8")  # not the peer
    await client.post(
        "/api/v1/auth/token",
        data={"username": mobile, "password": "x-wrong"},
        headers=_from("203.0.113.9"),
    )
    monkeypatch.setattr(world.ctx.settings, "trusted_proxies", "127.0.0.1, 10.0.0.0/8")
    await client.post(
        "/api/v1/auth/token",
        data={"username": mobile, "password": "x-wrong"},
        headers=_from("203.0.113.9, 10.1.2.3"),  # the client, then a trusted inner proxy
    )
    async with world.ctx.uow() as uow:
        rows = list(await uow.session.exec(select(SignInFailure.client).order_by(SignInFailure.id)))
    assert rows == ["127.0.0.1", "203.0.113.9"]


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "counted"),
    [
        ("127.0.0.1", "203.0.113.7", "127.0.0.1", "203.0.113.7"),
        ("203.0.113.66", "198.51.100.1", "127.0.0.1", "203.0.113.66"),  # forged: ignored
        ("172.18.0.5", "1.2.3.4, 203.0.113.7", "172.18.0.0/16", "203.0.113.7"),  # spoofed left
        ("172.18.0.5", "203.0.113.7, 172.18.0.9", "172.18.0.0/16", "203.0.113.7"),
        ("10.0.0.1", "203.0.113.7, 10.0.0.2", "*", "203.0.113.7"),
        ("::1", "2001:db8::7", "::1", "2001:db8::7"),
        ("127.0.0.1", None, "127.0.0.1", "127.0.0.1"),
        (None, "203.0.113.7", "*", "unknown"),
    ],
)
def test_client_address(
    peer: str | None, forwarded: str | None, trusted: str, counted: str
) -> None:
    assert throttle.client_address(peer, forwarded, trusted) == counted


def test_trusted_proxies_are_addresses_or_networks() -> None:
    assert Settings(trusted_proxies="127.0.0.1, 172.18.0.0/16, ::1").trusted_proxies
    with pytest.raises(ValueError, match="KCBX_TRUSTED_PROXIES"):
        Settings(trusted_proxies="127.0.0.1, proxy.internal")


@pytest.fixture
async def second_process(ctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    """Another API process: its own context and caches, the same database."""
    other = AppContext.from_settings(
        Settings(environment="test", database_url=ctx.settings.database_url)
    )
    transport = httpx.ASGITransport(app=create_app(other))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c
    await other.close()


async def test_failures_count_across_processes(
    world: World, client: httpx.AsyncClient, second_process: httpx.AsyncClient
) -> None:
    mobile = await _mobile(world, client, "teacher")
    limit = world.ctx.settings.sign_in_account_failures
    for i in range(limit):
        one = client if i % 2 else second_process
        assert (await _sign_in(one, mobile, "wrong-guess-x")).status_code == 401
    assert (await _sign_in(second_process, mobile, PASSWORD)).status_code == 429
    assert (await _sign_in(client, mobile, PASSWORD)).status_code == 429


async def test_argon2_runs_off_the_event_loop(
    world: World, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[threading.Thread] = []
    real = auth.verify_password

    def spy(password: str, password_hash: str | None) -> bool:
        threads.append(threading.current_thread())
        return real(password, password_hash)

    monkeypatch.setattr(auth, "verify_password", spy)
    mobile = await _mobile(world, client, "teacher")
    assert (await _sign_in(client, mobile, PASSWORD)).status_code == 200
    assert (await _sign_in(client, "13700000099", PASSWORD)).status_code == 401  # unknown too
    assert len(threads) == 2
    assert all(t is not threading.main_thread() for t in threads)


async def test_me_with_an_api_key_is_the_key_not_a_staff_member(
    world: World, client: httpx.AsyncClient
) -> None:
    r = await client.post(
        "/api/v1/api-keys",
        json={"name": "县学籍系统", "county_id": world.ids["county"]},
        headers=world.auth("county_admin"),
    )
    key = r.json()
    me = await client.get("/api/v1/auth/me", headers={"X-API-Key": key["key"]})
    assert me.status_code == 200
    body = me.json()
    assert body["kind"] == "api_key"
    assert body["id"] == key["id"] and body["name"] == "县学籍系统"
    assert "mobile" not in body and "roles" not in body and "key" not in body


async def test_guessing_the_current_password_with_a_stolen_token_is_throttled(
    world: World, client: httpx.AsyncClient
) -> None:
    mobile = await _mobile(world, client, "teacher")
    stolen = (await _sign_in(client, mobile, PASSWORD)).json()["access_token"]
    me = f"/api/v1/staff/{world.ids['teacher']}"
    for i in range(world.ctx.settings.sign_in_account_failures):
        r = await client.patch(
            me,
            json={"password": "taken-over-1", "current_password": f"guess-{i}"},
            headers=_bearer(stolen),
        )
        assert r.status_code == 403
    r = await client.patch(
        me,
        json={"password": "taken-over-1", "current_password": PASSWORD},
        headers=_bearer(stolen),
    )
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert (await _sign_in(client, mobile, "taken-over-1")).status_code == 429
    # The password did not change, and the owner's sign-in waits out the window like anyone.
    assert (await client.get("/api/v1/auth/me", headers=_bearer(stolen))).status_code == 200


async def test_another_process_refuses_a_revoked_token(
    world: World, client: httpx.AsyncClient
) -> None:
    """The version lives in the database: a process that did not make the change refuses the
    old token once its actor cache has expired (here: no cache)."""
    other = AppContext.from_settings(
        Settings(
            environment="test", database_url=world.ctx.settings.database_url, actor_cache_seconds=0
        )
    )
    transport = httpx.ASGITransport(app=create_app(other))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as second:
            mobile = await _mobile(world, client, "teacher")
            token = (await _sign_in(second, mobile, PASSWORD)).json()["access_token"]
            assert (await second.get("/api/v1/auth/me", headers=_bearer(token))).status_code == 200
            r = await client.patch(
                f"/api/v1/staff/{world.ids['teacher']}",
                json={"password": "second-pass-2", "current_password": PASSWORD},
                headers=_bearer(token),
            )
            assert r.status_code == 200
            assert (await second.get("/api/v1/auth/me", headers=_bearer(token))).status_code == 401
    finally:
        await other.close()


@pytest.mark.parametrize("username", ["1" * 5000, "=cmd|' /C calc'!A0"])
async def test_hostile_usernames_are_a_plain_401_and_counted(
    world: World, client: httpx.AsyncClient, username: str
) -> None:
    r = await _sign_in(client, username, "whatever-1")
    assert r.status_code == 401
    async with world.ctx.uow() as uow:
        rows = list(await uow.session.exec(select(SignInFailure)))
    assert len(rows) == 1 and "\x00" not in rows[0].account and len(rows[0].account) <= 64


@pytest.mark.parametrize("username", ["1390000\x000001", "\x00"])
async def test_control_characters_in_the_sign_in_form_are_refused_before_anything(
    world: World, client: httpx.AsyncClient, username: str
) -> None:
    """The request guard answers 422 naming the field before the sign-in runs: nothing is
    looked up, nothing reaches the database (a NUL byte would break PostgreSQL)."""
    r = await _sign_in(client, username, "whatever-1")
    assert r.status_code == 422
    async with world.ctx.uow() as uow:
        assert list(await uow.session.exec(select(SignInFailure))) == []
