"""Read Twilio's OpenAPI description and validate requests and resources against it."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30Validator, oas30_format_checker
from werkzeug.datastructures import MultiDict

ROOT = Path(__file__).resolve().parent.parent
MESSAGES_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
MESSAGE_SCHEMA = "api.v2010.account.message"
CONTENTS_PATH = "/v1/Content"
CONTENT_SCHEMA = "content.v1.content"


def default_spec_path() -> Path:
    """Return the spec path: TWILIO_OAI_SPEC, else Twilio's own copy kept in third_party/."""
    env = os.environ.get("TWILIO_OAI_SPEC")
    return Path(env) if env else ROOT / "third_party" / "twilio-oai" / "twilio_api_v2010.json"


def default_content_spec_path() -> Path:
    """Return the Content API spec: Twilio's own copy kept in third_party/."""
    return ROOT / "third_party" / "twilio-oai" / "twilio_content_v1.json"


@lru_cache(maxsize=4)
def load_spec(path: str) -> dict[str, Any]:
    """Load the spec once per path: it is 1.9 MB."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _resolve(node: Any, spec: dict[str, Any], names: bool = False) -> Any:
    """Inline local $refs so the schema stands alone; drop descriptions, never a property so named."""
    if isinstance(node, dict):
        if "$ref" in node and not names:
            name = node["$ref"].removeprefix("#/components/schemas/")
            return _resolve(spec["components"]["schemas"][name], spec)
        # In a "properties" map the keys are names (a list item has a property called "description").
        return {k: _resolve(v, spec, names=k == "properties" and not names) for k, v in node.items()
                if names or k != "description"}
    if isinstance(node, list):
        return [_resolve(v, spec) for v in node]
    return node


def create_message_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """Return CreateMessage's form schema, closed to unknown properties."""
    body = spec["paths"][MESSAGES_PATH]["post"]["requestBody"]
    schema = _resolve(body["content"]["application/x-www-form-urlencoded"]["schema"], spec)
    # Twilio ignores nothing silently for us: a misspelt field is a bug we want to see.
    return {**schema, "additionalProperties": False}


def create_content_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """Return CreateContent's JSON schema, closed to unknown properties and unknown content types."""
    body = spec["paths"][CONTENTS_PATH]["post"]["requestBody"]
    schema = _resolve(body["content"]["application/json"]["schema"], spec)
    props = dict(schema["properties"])
    props["types"] = {**props["types"], "additionalProperties": False}
    return {**schema, "properties": props, "additionalProperties": False}


def content_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """Return the Content resource schema."""
    return _resolve(spec["components"]["schemas"][CONTENT_SCHEMA], spec)


def message_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """Return the Message resource schema."""
    return _resolve(spec["components"]["schemas"][MESSAGE_SCHEMA], spec)


def account_sid_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """Return the AccountSid path parameter schema."""
    params = spec["paths"][MESSAGES_PATH]["post"]["parameters"]
    return next(p["schema"] for p in params if p["name"] == "AccountSid")


def _coerce(value: str, kind: str | None) -> Any:
    """Turn one form string into the schema's type; leave it a string if it does not parse."""
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value
    if kind == "boolean" and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    return value


def form_to_document(form: MultiDict, schema: dict[str, Any]) -> dict[str, Any]:
    """Decode a form body into a JSON document using the schema's property types."""
    props = schema.get("properties", {})
    doc: dict[str, Any] = {}
    for key in form.keys():
        prop = props.get(key, {})
        values = form.getlist(key)
        if prop.get("type") == "array":
            item_type = prop.get("items", {}).get("type")
            doc[key] = [_coerce(v, item_type) for v in values]
        else:
            # A repeated scalar is kept as a list so the type check rejects it.
            coerced = [_coerce(v, prop.get("type")) for v in values]
            doc[key] = coerced[0] if len(coerced) == 1 else coerced
    return doc


def schema_errors(document: Any, schema: dict[str, Any]) -> list[str]:
    """Return readable schema violations, empty when the document is valid."""
    validator = OAS30Validator(schema, format_checker=oas30_format_checker)
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
        for e in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    ]
