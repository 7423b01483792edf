"""The view model of /api/docs: the OpenAPI document flattened into operations, parameters and schemas."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

REF = re.compile(r"^#/components/(\w+)/(.+)$")
CODE = re.compile(r"`([^`]+)`")
METHODS = ("get", "put", "post", "patch", "delete", "head", "options")


def docs_model(document: dict) -> dict:
    """Everything the template shows, resolved and in reading order."""
    info = document.get("info", {})
    tags = {
        tag["name"]: {"name": tag["name"], "description": tag.get("description", ""), "operations": []}
        for tag in document.get("tags", [])
    }
    servers = document.get("servers") or [{"url": ""}]
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                operation = _operation(document, path, method, item[method], servers[0]["url"])
                tag = (item[method].get("tags") or ["other"])[0]
                tags.setdefault(tag, {"name": tag, "description": "", "operations": []})["operations"].append(
                    operation
                )
    schemas = document.get("components", {}).get("schemas", {})
    return {
        "title": info.get("title", "API"),
        "version": info.get("version", ""),
        "description": prose(info.get("description", "")),
        "server": servers[0]["url"],
        "tags": [tag for tag in tags.values() if tag["operations"]],
        "schemas": [_schema(name, schemas[name]) for name in sorted(schemas)],
    }


def prose(text: str) -> Markup:
    """Plain text with `code` spans, escaped."""
    return Markup(CODE.sub(r"<code>\1</code>", str(escape(" ".join(text.split())))))


def _operation(document: dict, path: str, method: str, operation: dict, server: str) -> dict:
    parameters = [_resolve(document, p) for p in operation.get("parameters", [])]
    example_path = path
    for parameter in parameters:
        if parameter.get("in") == "path":
            examples = parameter.get("schema", {}).get("examples") or [parameter["name"]]
            example_path = example_path.replace("{" + parameter["name"] + "}", str(examples[0]))
    return {
        "anchor": "op-" + re.sub(r"[/{}]", "-", operation.get("operationId") or f"{method}-{path}"),
        "method": method.upper(),
        "path": path,
        "summary": operation.get("summary", ""),
        "description": prose(operation.get("description", "")),
        "parameters": [
            {
                "name": p["name"],
                "location": p.get("in", ""),
                "required": bool(p.get("required")),
                "type": type_markup(p.get("schema", {})),
                "description": prose(p.get("description") or p.get("schema", {}).get("description", "")),
            }
            for p in parameters
        ],
        "responses": [_response(document, status, r) for status, r in operation.get("responses", {}).items()],
        "example": f"curl -si '{server}{example_path}'" if method == "get" else "",
    }


def _response(document: dict, status: str, response: dict) -> dict:
    resolved = _resolve(document, response)
    return {
        "status": status,
        "description": prose(resolved.get("description", "")),
        "content": [
            (media, type_markup(body.get("schema", {})))
            for media, body in resolved.get("content", {}).items()
        ],
        "headers": sorted(resolved.get("headers", {})),
    }


def _schema(name: str, schema: dict) -> dict:
    required = set(schema.get("required", []))
    return {
        "name": name,
        "anchor": f"schema-{name}",
        "description": prose(schema.get("description", "")),
        "properties": [
            {
                "name": prop,
                "type": type_markup(body),
                "required": prop in required,
                "description": prose(body.get("description", "")),
            }
            for prop, body in schema.get("properties", {}).items()
        ],
    }


def type_markup(schema: dict) -> Markup:
    """A JSON Schema as a short phrase, with links to named schemas: 'array of Item', 'string or null'."""
    if not schema:
        return Markup("any")
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return Markup('<a href="#schema-{0}">{0}</a>').format(name)
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            return Markup(" or ").join(type_markup(s) for s in schema[combinator])
    kinds = schema.get("type", "any")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    words = [_single(kind, schema) for kind in kinds]
    return Markup(" or ").join(words)


def _single(kind: str, schema: dict) -> Markup:
    if kind == "array":
        return Markup("array of ") + type_markup(schema.get("items", {}))
    word = Markup(escape(kind))
    if schema.get("format") and kind != "null":
        word += Markup(" ({})").format(schema["format"])
    if "enum" in schema and kind != "null":
        word += Markup(": one of ") + Markup(", ").join(
            Markup("<code>{}</code>").format(v) for v in schema["enum"] if v is not None
        )
    bounds = [
        f"{label} {schema[key]:g}" for key, label in (("minimum", "from"), ("maximum", "to")) if key in schema
    ]
    if bounds and kind != "null":
        word += Markup(", {}").format(" ".join(bounds))
    return word


def _resolve(document: dict, value: dict) -> dict:
    """Follow a local $ref into components."""
    match = REF.match(value.get("$ref", "")) if isinstance(value, dict) else None
    if match is None:
        return value
    return document.get("components", {}).get(match.group(1), {}).get(match.group(2), {})
