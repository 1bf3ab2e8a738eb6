"""A field with a default is one a caller may leave out (app/api/defaults.py): no generated
client, openapi-typescript with its own defaults included, may make the caller send it."""

from __future__ import annotations

from typing import Any

import pytest

from app.api import defaults
from app.main import create_app


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return create_app().openapi()


def _properties(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any], str, dict[str, Any]]]:
    return [
        (name, obj, key, prop)
        for name, schema in doc["components"]["schemas"].items()
        for obj in defaults._objects(schema)
        for key, prop in obj["properties"].items()
        if isinstance(prop, dict)
    ]


def test_no_property_with_a_default_is_required(doc: dict[str, Any]) -> None:
    found = [
        f"{name}.{key}"
        for name, obj, key, prop in _properties(doc)
        if "default" in prop and key in obj.get("required", [])
    ]
    assert found == []


def test_openapi_typescript_would_make_nothing_with_a_default_required(
    doc: dict[str, Any],
) -> None:
    """With ``--default-non-nullable`` (its default), openapi-typescript types every component
    property carrying a ``default`` as present: 67 of them before this contract rule."""
    assert defaults.defaulted_required(doc) == []


def test_a_request_field_with_a_default_is_optional_and_says_its_default(
    doc: dict[str, Any],
) -> None:
    schemas = doc["components"]["schemas"]
    verify = schemas["VerifyIn"]
    assert "note" not in verify.get("required", [])
    assert '默认 default: ""' in verify["properties"]["note"]["description"]
    school = schemas["SchoolIn"]
    assert "timezone" not in school.get("required", [])
    assert "Asia/Shanghai" in school["properties"]["timezone"]["description"]


def test_an_answer_lists_its_defaulted_fields_as_always_there(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert "full_name" in schemas["ClassOut"]["required"]
    assert {"code", "reason"} <= set(schemas["EventResult"]["required"])
    assert "token_type" in schemas["TokenOut"]["required"]


def test_the_rule_sees_a_default_and_settles_it_by_use() -> None:
    made: dict[str, Any] = {
        "paths": {
            "/x": {
                "post": {
                    "requestBody": {
                        "content": {"j": {"schema": {"$ref": "#/components/schemas/In"}}}
                    },
                    "responses": {
                        "200": {"content": {"j": {"schema": {"$ref": "#/components/schemas/Out"}}}}
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "In": {"properties": {"n": {"type": "integer", "default": 3}}},
                "Out": {"properties": {"k": {"type": "string", "default": "a"}}, "required": []},
            }
        },
    }
    assert defaults.defaulted_required(made) == ["In.n", "Out.k"]
    defaults.settle(made)
    assert defaults.defaulted_required(made) == []
    schemas = made["components"]["schemas"]
    assert schemas["In"] == {
        "properties": {"n": {"type": "integer", "description": "默认 default: 3"}}
    }
    assert schemas["Out"] == {"properties": {"k": {"type": "string"}}, "required": ["k"]}
