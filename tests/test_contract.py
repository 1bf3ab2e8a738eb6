"""The published contract as a client generator reads it (app/api/contract.py)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel

from app.api import contract
from app.main import create_app
from tests.world import World

METHODS = ("get", "put", "post", "delete", "patch")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
COMPONENT = re.compile(r"^[A-Z][A-Za-z0-9]*$")


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, item[method])
        for path, item in doc["paths"].items()
        for method in METHODS
        if method in item
    ]


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return create_app().openapi()


def test_the_document_is_valid_openapi(doc: dict[str, Any]) -> None:
    validate(doc)


def test_operation_ids_are_unique_readable_identifiers(doc: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    assert [i for i in ids if not IDENTIFIER.match(i) or "api_v1" in i] == []
    assert {"alerts_verify", "attendance_events_create", "transfers_reject"} <= set(ids)


def test_duplicate_ids_and_module_paths_would_fail(doc: dict[str, Any]) -> None:
    """The checks above catch what they are for: two operations with one id, a component
    named by its module path."""
    ops = operations(doc)
    ids = [op["operationId"] for _, _, op in ops] + [ops[0][2]["operationId"]]
    assert len(ids) != len(set(ids))
    assert not COMPONENT.match("app__services__transfers__RejectIn")
    assert not COMPONENT.match("Page_AlertOut_")


def test_component_names_are_plain_and_do_not_follow_modules(doc: dict[str, Any]) -> None:
    names = list(doc["components"]["schemas"])
    assert [n for n in names if not COMPONENT.match(n)] == []
    assert {"LeaveRejectIn", "TransferRejectIn", "AlertOutPage", "Problem"} <= set(names)
    # every reference resolves
    refs = re.findall(r'"#/components/schemas/([^"]+)"', str(doc).replace("'", '"'))
    assert set(refs) <= set(names)


def test_tags_are_ascii_with_chinese_descriptions(doc: dict[str, Any]) -> None:
    declared = {t["name"]: t["description"] for t in doc["tags"]}
    used = {tag for _, _, op in operations(doc) for tag in op["tags"]}
    assert used == set(declared)
    assert [t for t in used if not IDENTIFIER.match(t)] == []
    assert all(re.search(r"[\u4e00-\u9fff]", d) for d in declared.values())
    assert doc["info"]["title"].isidentifier() and contract.CLIENT_PACKAGE.isidentifier()


def test_every_operation_documents_its_errors_as_problems(doc: dict[str, Any]) -> None:
    for method, path, op in operations(doc):
        errors = {code for code in op["responses"] if code.startswith("4")}
        if op.get("security"):
            assert {"401", "403"} <= errors, (method, path)
        if "{" in path and op.get("security"):
            assert "404" in errors, (method, path)
        if method != "get" and op.get("security"):
            assert "409" in errors, (method, path)
        if op.get("parameters") or op.get("requestBody"):
            assert "422" in errors, (method, path)
        for code in errors:
            content = op["responses"][code]["content"]
            assert list(content) == ["application/problem+json"], (method, path, code)


def test_attendance_documents_what_it_answers(doc: dict[str, Any]) -> None:
    responses = doc["paths"]["/api/v1/attendance-events"]["post"]["responses"]
    assert {"200", "201", "409", "413", "422"} <= set(responses)
    assert responses["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/EventResult"
    }
    rejected = {"$ref": "#/components/schemas/EventRejected"}
    assert responses["409"]["content"]["application/problem+json"]["schema"] == rejected
    # 422: a single event refused, or a body that is not a roll at all (no ``result`` then).
    invalid = {"$ref": "#/components/schemas/ValidationProblem"}
    assert responses["422"]["content"]["application/problem+json"]["schema"] == {
        "anyOf": [rejected, invalid]
    }


def test_binary_answers_and_local_times_are_declared_as_sent(doc: dict[str, Any]) -> None:
    text = str(doc)
    assert "'format': 'time'" not in text
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ledger = doc["paths"]["/api/v1/ledgers/absence-tracking.xlsx"]["get"]["responses"]["200"]
    assert ledger["content"] == {xlsx: {"schema": {"type": "string", "format": "binary"}}}
    # the JSON operation answers JSON only: no format a generated client would misread
    json_op = doc["paths"]["/api/v1/ledgers/absence-tracking"]["get"]
    assert list(json_op["responses"]["200"]["content"]) == ["application/json"]
    assert "format" not in [p["name"] for p in json_op["parameters"]]
    for method, path, op in operations(doc):
        for code, answer in op["responses"].items():
            for media in answer.get("content", {}).values():
                assert media.get("schema"), (method, path, code)
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    notice = doc["paths"]["/api/v1/return-notices/{notice_id}/document"]["get"]["responses"]
    assert notice["200"]["content"][docx]["schema"] == {"type": "string", "format": "binary"}
    school = doc["components"]["schemas"]["SchoolOut"]
    assert "pattern" in str(school) and "format" not in str(school).replace("'format': 'date", "")


def assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["code"] == code
    assert body["type"] == f"urn:kcbx:problem:{code}"
    assert isinstance(body["title"], str) and isinstance(body["detail"], str)
    return body


@pytest.mark.db
async def test_errors_are_problems_with_codes(world: World, client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/students"), 401, "unauthorized")
    auth = world.auth("principal")
    body = assert_problem(
        await client.get("/api/v1/students/999999999", headers=auth), 404, "not_found"
    )
    assert "不存在" in body["detail"]
    body = assert_problem(
        await client.get("/api/v1/students/abc", headers=auth), 422, "validation_failed"
    )
    assert body["errors"][0]["loc"] == ["path", "student_id"]
    assert set(body["errors"][0]) == {"loc", "msg", "type"}  # no input, no ctx
    assert_problem(await client.get("/api/v1/nowhere", headers=auth), 404, "not_found")


@pytest.mark.db
async def test_duplicate_student_no_has_its_code(world: World, client: httpx.AsyncClient) -> None:
    auth = world.auth("principal")
    listed = (await client.get("/api/v1/students", headers=auth)).json()["items"]
    mine = (await client.get(f"/api/v1/students/{listed[0]['id']}", headers=auth)).json()
    body = {
        "class_id": mine["class_id"],
        "name": "重号",
        "student_no": mine["student_no"],
        "gender": "female",
        "birth_date": "2016-03-01",
        "guardians": [{"name": "某某", "relation": "母亲", "mobile": "13900000001"}],
    }
    r = await client.post("/api/v1/students", json=body, headers=auth)
    assert_problem(r, 409, "conflict.duplicate_student_no")


@pytest.mark.db
async def test_dates_are_text_only(world: World, client: httpx.AsyncClient) -> None:
    auth = world.auth("head_teacher")
    klass = world.ids["class_A1"]
    for bad in ("0", "20261125", "1700000000"):
        r = await client.get(f"/api/v1/classes/{klass}/roll", params={"date": bad}, headers=auth)
        body = assert_problem(r, 422, "validation_failed")
        assert body["errors"][0]["loc"] == ["query", "date"]
    ok = await client.get(
        f"/api/v1/classes/{klass}/roll", params={"date": "2026-11-25"}, headers=auth
    )
    assert ok.status_code == 200
    leave = {
        "student_id": world.ids["student_A1"],
        "leave_type": "personal",
        "start_date": 0,
        "end_date": "2026-11-26",
        "reason": "家中有事",
    }
    r = await client.post("/api/v1/leaves", json=leave, headers=auth)
    body = assert_problem(r, 422, "validation_failed")
    assert ["body", "start_date"] in [e["loc"] for e in body["errors"]]


async def test_framework_errors_are_problems_too() -> None:
    """HTTPException raised anywhere, and Starlette's own 404/405, answer the same shape; a 422
    always carries the ``errors`` its declared schema requires."""
    from fastapi import FastAPI, HTTPException

    from app.api import errors

    app = FastAPI()
    errors.install(app)

    @app.get("/unprocessable")
    async def unprocessable() -> None:
        raise HTTPException(422, "不行 (no)")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        body = assert_problem(await c.get("/unprocessable"), 422, "validation_failed")
        assert body["errors"] == [{"loc": ["body"], "msg": "不行 (no)", "type": "value_error"}]
        assert_problem(await c.post("/unprocessable"), 405, "method_not_allowed")
        assert_problem(await c.get("/missing"), 404, "not_found")


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def test_no_two_models_share_a_component_name(doc: dict[str, Any]) -> None:
    """Components are named by the class alone: two models of one name (the 一人一策 measure and
    the absence measure were both MeasureOut) publish one schema for both, and the answers of
    one of them then break the contract."""
    names = set(doc["components"]["schemas"])
    owners: dict[str, set[str]] = {}
    for model in _subclasses(BaseModel):
        if model.__module__.startswith("app.") and model.__name__ in names:
            owners.setdefault(model.__name__, set()).add(f"{model.__module__}.{model.__qualname__}")
    assert {n: o for n, o in owners.items() if len(o) > 1} == {}
