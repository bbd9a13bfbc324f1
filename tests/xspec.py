"""X's OpenAPI specs, read from the shared fixtures (../shared/fixtures/x/) and never copied, and
a small checker of a request (path, query, body) against one of them.

Only what X's specs use for requests is understood: `$ref`, `type`, `properties`, `required`,
`additionalProperties: false`, `enum`, `pattern`, `minimum`/`maximum`, `items`, `minItems`/
`maxItems`, `anyOf`/`oneOf`/`allOf`, and query parameters of style `form`, `explode: false`
(comma-separated arrays).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

X_FIXTURES = Path(
    os.environ.get("SOCIALBOT_TEST_X_FIXTURES")
    or Path(__file__).resolve().parents[2] / "shared/fixtures/x"
)
OLDER = "openapi-2.159.json"  # the "tweet" names, as the recordings
PRODUCTION = "openapi-2.167.json"  # the "post" names


@cache
def load(name: str) -> dict[str, Any]:
    with (X_FIXTURES / name).open(encoding="utf-8") as f:
        spec: dict[str, Any] = json.load(f)
    return spec


@dataclass(frozen=True)
class Spec:
    name: str

    @property
    def raw(self) -> dict[str, Any]:
        return load(self.name)

    @property
    def server(self) -> str:
        return str(self.raw["servers"][0]["url"])

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.raw
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        """The spec's path template matching a concrete `path`, and its operation."""
        exact = self.raw["paths"].get(path, {})
        if method.lower() in exact:
            return path, exact[method.lower()]
        parts = path.split("/")
        for template, item in self.raw["paths"].items():
            wanted = template.split("/")
            if (
                len(wanted) == len(parts)
                and all(w == p or w.startswith("{") for w, p in zip(wanted, parts, strict=True))
                and method.lower() in item
            ):
                return template, item[method.lower()]
        raise AssertionError(f"{self.name}: no {method} {path}")

    def problems_of_query(self, method: str, path: str, query: dict[str, str]) -> list[str]:
        template, op = self.operation(method, path)
        declared = {
            p["name"]: p
            for p in (self.resolve(p) for p in op.get("parameters", []))
            if p.get("in") == "query"
        }
        problems: list[str] = []
        for name, value in query.items():
            if name not in declared:
                problems.append(f"{template}: no query parameter {name!r}")
                continue
            schema = self.resolve(declared[name].get("schema", {}))
            if schema.get("type") == "array":
                if declared[name].get("explode", True):
                    problems.append(f"{template}: {name} is not comma-separated (explode)")
                for item in value.split(","):
                    problems += self.problems(schema.get("items", {}), item, f"{name}={item}")
            elif schema.get("type") == "integer":
                problems += self.problems(schema, int(value), name)
            else:
                problems += self.problems(schema, value, name)
        return problems

    def request_schema(self, method: str, path: str, content_type: str) -> Any:
        template, op = self.operation(method, path)
        content = op.get("requestBody", {}).get("content", {})
        if content_type not in content:
            raise AssertionError(f"{self.name}: {template} takes no {content_type} body")
        return content[content_type]["schema"]

    def problems(self, schema: Any, value: Any, where: str) -> list[str]:
        schema = self.resolve(schema)
        if "allOf" in schema:
            return [p for s in schema["allOf"] for p in self.problems(s, value, where)]
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [self.problems(s, value, where) for s in schema[key]]
                return [] if any(not o for o in options) else min(options, key=len)
        problems: list[str] = []
        kind = schema.get("type")
        if "enum" in schema and value not in schema["enum"]:
            problems.append(f"{where}: {value!r} is not one of {schema['enum']}")
        if kind == "object" or "properties" in schema:
            if not isinstance(value, dict):
                return [f"{where}: not an object"]
            properties = schema.get("properties", {})
            for name in schema.get("required", []):
                if name not in value:
                    problems.append(f"{where}: required {name!r} missing")
            for name, item in value.items():
                if name in properties:
                    problems += self.problems(properties[name], item, f"{where}.{name}")
                elif schema.get("additionalProperties") is False:
                    problems.append(f"{where}: no property {name!r}")
        elif kind == "array":
            if not isinstance(value, list):
                return [f"{where}: not an array"]
            if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", 1e9):
                problems.append(f"{where}: {len(value)} items")
            for n, item in enumerate(value):
                problems += self.problems(schema.get("items", {}), item, f"{where}[{n}]")
        elif kind == "string":
            if isinstance(value, bytes) and schema.get("format") == "binary":
                return problems
            if not isinstance(value, str):
                return [f"{where}: not a string"]
            if "pattern" in schema and not re.search(schema["pattern"], value):
                problems.append(f"{where}: {value!r} does not match {schema['pattern']}")
        elif kind == "integer":
            if not isinstance(value, int):
                return [f"{where}: not an integer"]
            if value < schema.get("minimum", -(10**30)) or value > schema.get("maximum", 10**30):
                problems.append(f"{where}: {value} out of range")
        elif kind == "boolean" and not isinstance(value, bool):
            problems.append(f"{where}: not a boolean")
        return problems
