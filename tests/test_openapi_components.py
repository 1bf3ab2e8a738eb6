"""Components added to the OpenAPI by hand (app/api/openapi.py) never silently replace another
component of the same name with a different shape."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from app.api import openapi
from app.api.openapi import ComponentClash, add_component
from app.main import create_app


def test_the_same_definition_twice_is_one_component() -> None:
    schemas: dict[str, object] = {}
    add_component(schemas, "Thing", {"type": "object", "properties": {"a": {"type": "integer"}}})
    add_component(schemas, "Thing", {"type": "object", "properties": {"a": {"type": "integer"}}})
    assert list(schemas) == ["Thing"]


def test_a_different_definition_under_a_taken_name_is_refused() -> None:
    schemas: dict[str, object] = {"Thing": {"type": "object"}}
    with pytest.raises(ComponentClash, match="Thing"):
        add_component(schemas, "Thing", {"type": "string"})
    assert schemas == {"Thing": {"type": "object"}}


def test_a_hand_added_model_that_clashes_with_an_app_schema_fails_the_build(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Inner(BaseModel):  # not the app's ``Problem``, but named like one of its $defs
        x: int

    class AlertOut(BaseModel):  # the name of a real answer, with another shape
        inner: Inner

    monkeypatch.setitem(openapi._MODELS, "AlertOut", AlertOut)
    with pytest.raises(ComponentClash, match="AlertOut"):
        create_app().openapi()
