"""What the generated OpenAPI document needs beyond apispec's output: path parameters, response
descriptions and security schemes docstrings leave out, and the headers every feedserver answer carries."""

from __future__ import annotations

from werkzeug.http import HTTP_STATUS_CODES

OWN_PATHS = ("/api/v1/feeds", "/api/v1/sources", "/api/v1/status")
COMMON_HEADERS = {
    "ETag": {
        "description": "Strong validator of the body; send it as If-None-Match.",
        "schema": {"type": "string"},
    },
    "Last-Modified": {"description": "When the body was generated.", "schema": {"type": "string"}},
    "Cache-Control": {"description": "How long the body may be reused.", "schema": {"type": "string"}},
    "RateLimit-Limit": {"description": "Requests allowed per window.", "schema": {"type": "integer"}},
    "RateLimit-Remaining": {"description": "Requests left in this window.", "schema": {"type": "integer"}},
    "RateLimit-Reset": {"description": "Seconds until the window resets.", "schema": {"type": "integer"}},
}


def complete(document: dict, converters: dict[str, dict]) -> None:
    """Fill in path parameters (from the Flask rule's converters), response descriptions (the HTTP reason
    phrase), the bearer scheme `security: [bearerAuth: []]` names, and the common success headers."""
    schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            _add_path_parameters(document, operation, converters.get(path, {}))
            _describe_responses(operation)
            for requirement in operation.get("security", []):
                if "bearerAuth" in requirement:
                    schemes.setdefault("bearerAuth", {"type": "http", "scheme": "bearer"})
                    # every token-protected operation answers 401 first when the token is missing or unknown
                    operation["responses"].setdefault("401", {"description": "No or unknown bearer token"})
                    operation["responses"].setdefault(
                        "429", {"description": "Too many bad tokens from this address; see Retry-After"}
                    )
            ok = operation.get("responses", {}).get("200")
            if path.startswith(OWN_PATHS) and isinstance(ok, dict):
                ok["headers"] = {**COMMON_HEADERS, **ok.get("headers", {})}
    if not schemes:
        del document["components"]["securitySchemes"]


def _describe_responses(operation: dict) -> None:
    responses = operation.get("responses", {})
    for status in list(responses):
        response = responses.pop(status)
        if isinstance(response, dict) and "$ref" not in response:
            response.setdefault("description", HTTP_STATUS_CODES.get(int(status), "Response"))
        responses[str(status)] = response


def _add_path_parameters(document: dict, operation: dict, converters: dict) -> None:
    parameters = operation.setdefault("parameters", [])
    declared = {
        p.get("name") for p in map(lambda p: _resolve(document, p), parameters) if p.get("in") == "path"
    }
    for name, converter in converters.items():
        if name not in declared:
            parameters.append({"name": name, "in": "path", "required": True, "schema": _schema_of(converter)})
    if not parameters:
        del operation["parameters"]


def _schema_of(converter) -> dict:
    if type(converter).__name__ == "IntegerConverter":
        return {"type": "integer", "minimum": 0}
    return {"type": "string"}


def _resolve(document: dict, parameter: dict) -> dict:
    ref = parameter.get("$ref", "")
    if ref.startswith("#/components/parameters/"):
        return document.get("components", {}).get("parameters", {}).get(ref.rsplit("/", 1)[-1], {})
    return parameter
