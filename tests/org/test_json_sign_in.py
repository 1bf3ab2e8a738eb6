"""The JSON sign-in (POST /auth/login) beside the OAuth2 form: the same token, the same refusals."""

from __future__ import annotations

import httpx
import pytest

from tests.org.test_sessions import PASSWORD, _mobile, _sign_in
from tests.world import World

LOGIN = "/api/v1/auth/login"


pytestmark = pytest.mark.world("teacher_with_password")


async def test_json_and_form_sign_in_give_the_same_kind_of_token(
    world: World, client: httpx.AsyncClient
) -> None:
    mobile = await _mobile(world, client, "teacher")
    r = await client.post(LOGIN, json={"username": mobile, "password": PASSWORD})
    assert r.status_code == 200, r.text
    token = r.json()
    form = (await _sign_in(client, mobile, PASSWORD)).json()
    assert set(token) == set(form) and token["token_type"] == "bearer"
    assert token["expires_in"] == form["expires_in"]
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert me.status_code == 200 and me.json()["mobile"] == mobile

    wrong = await client.post(LOGIN, json={"username": mobile, "password": "not-the-one"})
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "unauthorized"
    for bad in ({"username": mobile}, {"username": "x" * 65, "password": "p"}, {}):
        r = await client.post(LOGIN, json=bad)
        assert r.status_code == 422, r.text
    # A form post to the JSON sign-in is not read as JSON: refused, nobody signed in.
    r = await client.post(LOGIN, data={"username": mobile, "password": PASSWORD})
    assert r.status_code == 422
