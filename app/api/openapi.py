"""Request bodies the routers read themselves (to judge batch items one by one) are still
documented: their models are added to the OpenAPI components here. The document is then
rewritten into the published contract (app/api/contract.py)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from app.api import contract
from app.api.problems import Problem, ValidationProblem

_MODELS: dict[str, type[BaseModel]] = {}


def ref(model: type[BaseModel]) -> dict[str, str]:
    _MODELS[model.__name__] = model
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def json_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    }


class ComponentClash(RuntimeError):
    """Two different schemas under one component name: one would silently replace the other,
    and a client would read one shape as the other. Raised when the document is built."""


def add_component(schemas: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    """Adds ``schema`` as ``name``; the same definition again is fine, a different one refused."""
    known = schemas.get(name)
    if known is not None and known != schema:
        raise ComponentClash(f"two different schemas named {name!r} in the OpenAPI components")
    schemas[name] = schema


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
            separate_input_output_schemas=False,
        )
        ref(Problem)
        ref(ValidationProblem)
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for name, model in _MODELS.items():
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for def_name, definition in schema.pop("$defs", {}).items():
                add_component(schemas, def_name, definition)
            add_component(schemas, name, schema)
        contract.apply(doc)
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
