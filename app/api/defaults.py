"""What ``default`` means in the published contract (issue 23): a client generator must not
turn a field with a default into one the caller has to send.

openapi-typescript (with its default ``--default-non-nullable``) makes every component
property that carries a ``default`` non-optional, reading it as "always present". That is true
of an answer and false of a request: ``VerifyIn.note`` (default ``""``) became a field every
TypeScript caller had to fill. So the contract decides per schema, by where it is used:

- **Answers only** (reached from responses, never from a request body): a field with a default
  is always in the answer (the app never drops keys: no ``exclude_unset``/``exclude_none`` on
  an answer, and the roll's hand-built JSON writes ``code``/``reason`` as ``null``). It is
  listed in ``required`` and its ``default`` removed: the reader is told it is there, and
  nothing is left for a generator to second-guess.
- **Requests** (reached from a request body, alone or also from answers, e.g.
  ``SpecialGroups``): a field with a default stays optional and its ``default`` moves into the
  description (``默认 default: …``), so no generator makes the caller send it; the server
  applies the default as before. Swagger UI shows the default in the description.

Afterwards no component property carries a ``default``, and none that had one is ``required``
in a request (tests/test_contract.py checks both and counts what openapi-typescript would make
required; .ci/client-ts generates the types with the generator's defaults)."""

from __future__ import annotations

import json
from typing import Any

_PREFIX = "#/components/schemas/"


def _refs(node: Any, schemas: dict[str, Any], found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_PREFIX):
            name = ref.removeprefix(_PREFIX)
            if name not in found and name in schemas:
                found.add(name)
                _refs(schemas[name], schemas, found)
        for value in node.values():
            _refs(value, schemas, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, schemas, found)


def usage(doc: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The component names reached from request bodies, and those reached from responses."""
    schemas = doc.get("components", {}).get("schemas", {})
    requests: set[str] = set()
    answers: set[str] = set()
    for item in doc.get("paths", {}).values():
        for op in item.values():
            if isinstance(op, dict):
                _refs(op.get("requestBody", {}), schemas, requests)
                _refs(op.get("responses", {}), schemas, answers)
    return requests, answers


def _objects(node: Any) -> list[dict[str, Any]]:
    """Every object schema inside a component (itself, and inline ones nested in it)."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            found.append(node)
        for value in node.values():
            found += _objects(value)
    elif isinstance(node, list):
        for value in node:
            found += _objects(value)
    return found


def settle(doc: dict[str, Any]) -> None:
    """Rewrite every component property's ``default`` as described above, in place."""
    requests, answers = usage(doc)
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        answer_only = name in answers and name not in requests
        for obj in _objects(schema):
            for key, prop in obj["properties"].items():
                if not isinstance(prop, dict) or "default" not in prop:
                    continue
                default = prop.pop("default")
                if answer_only:
                    required = obj.setdefault("required", [])
                    if key not in required:
                        required.append(key)
                else:
                    said = json.dumps(default, ensure_ascii=False)
                    text = prop.get("description", "")
                    prop["description"] = f"{text} 默认 default: {said}".strip()


def defaulted_required(doc: dict[str, Any]) -> list[str]:
    """``Schema.field`` for every component property that has a ``default`` and that
    openapi-typescript 7 (``defaultNonNullable``, its default) would type as required: listed
    in ``required`` or, outside parameters and inline request bodies, merely carrying a
    ``default``. The contract keeps this list empty."""
    found = []
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        for obj in _objects(schema):
            for key, prop in obj["properties"].items():
                if isinstance(prop, dict) and "default" in prop:
                    found.append(f"{name}.{key}")
    return sorted(set(found))
