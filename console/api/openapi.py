"""The OpenAPI 3.1 document, written from the declared operations."""

import re

from flask import jsonify
from pydantic import BaseModel, TypeAdapter

from .. import schemas
from ..auth import public
from . import OPERATIONS, api

REF = "#/components/schemas/{model}"


def _schema(kind, components):
    """A JSON schema for ``kind``, with named models moved into ``components``."""
    schema = TypeAdapter(kind).json_schema(ref_template=REF, mode="serialization")
    components.update(schema.pop("$defs", {}))
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        components[kind.__name__] = schema
        return {"$ref": REF.format(model=kind.__name__)}
    return schema


def _request_schema(kind, components):
    from . import OneOrMany

    if isinstance(kind, OneOrMany):
        one = _request_schema(kind.model, components)
        return {"oneOf": [one, {"type": "array", "items": one}]}
    schema = TypeAdapter(kind).json_schema(ref_template=REF, mode="validation")
    components.update(schema.pop("$defs", {}))
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        components[kind.__name__] = schema
        return {"$ref": REF.format(model=kind.__name__)}
    return schema


def _path(rule):
    params = re.findall(r"<(?:(\w+):)?(\w+)>", rule)
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)
    return path, [{"name": name, "in": "path", "required": True, "schema": {"type": "integer" if conv == "int" else "string"}} for conv, name in params]


ERRORS = {
    "400": "Malformed request (not JSON, empty body)",
    "401": "Not logged in: no or unknown bearer token",
    "403": "Your role may not do this",
    "404": "Unknown id, or a record outside your scope (the same answer for both)",
    "409": "Conflict: the record changed since you read it, or would be duplicated",
    "413": "The body is too large",
    "415": "A file in the body is not of a type this accepts (judged by its content, not its name)",
    "422": "Valid JSON that breaks a rule; details lists each problem with its field",
    "503": "Storage is full or read-only: the change was not saved (nothing of it was written; try again when space is freed)",
}


def _drop_null_defaults(schema):
    """Update fields that may be left out but not sent as null have default None
    in the model; in the document they simply have no default."""
    if isinstance(schema, dict):
        if "default" in schema and schema["default"] is None:
            allows_null = schema.get("type") == "null" or any(isinstance(o, dict) and o.get("type") == "null" for o in schema.get("anyOf", []))
            if not allows_null:
                del schema["default"]
        for value in schema.values():
            _drop_null_defaults(value)
    elif isinstance(schema, list):
        for value in schema:
            _drop_null_defaults(value)


def build_document():
    components = {}
    error_ref = _schema(schemas.Error, components)
    paths = {}
    for op in OPERATIONS:
        path, parameters = _path(op.rule)
        entry = {
            "operationId": op.endpoint,
            "summary": op.summary,
            "tags": [op.tag] if op.tag else [],
            "parameters": list(parameters),
            "responses": {},
        }
        if op.description:
            entry["description"] = op.description
        if op.permission is not None:
            from ..access import PERMISSIONS

            entry["x-roles"] = sorted(PERMISSIONS[op.permission])
        else:
            entry["security"] = []
        if op.query is not None:
            for name, field in op.query.model_fields.items():
                parameter = {
                    "name": name,
                    "in": "query",
                    "required": field.is_required(),
                    "description": field.description or "",
                    "schema": _request_schema(field.annotation, components),
                }
                if not field.is_required():
                    # parse_query drops empty values: "?status=" is the same as no status
                    parameter["allowEmptyValue"] = True
                entry["parameters"].append(parameter)
        for name, (schema, description) in (op.headers or {}).items():
            entry["parameters"].append({"name": name, "in": "header", "required": False, "description": description, "schema": schema})
        if op.body is not None:
            entry["requestBody"] = {"required": True, "content": {"application/json": {"schema": _request_schema(op.body, components)}}}
        ok = {"description": "OK"}
        if op.response is not None:
            ok["content"] = {"application/json": {"schema": _schema(op.response, components)}}
        else:
            ok["content"] = {"application/json": {"schema": {"type": "object"}}}
        entry["responses"][str(op.status)] = ok
        for code, text in ERRORS.items():
            if code == "422" and op.body is None and op.query is None and op.method == "GET":
                continue
            if code == "415" and op.body is None:
                continue
            if code == "503" and op.method == "GET":
                continue  # reading goes on when the disk is full
            entry["responses"][code] = {"description": text, "content": {"application/json": {"schema": error_ref}}}
        paths.setdefault(path, {})[op.method.lower()] = entry
    paths["/openapi.json"] = {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "security": [],
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}},
        }
    }
    _drop_null_defaults(components)
    _drop_null_defaults(paths)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Crisis console API",
            "version": "1",
            "description": "Incidents, complainant groups, complainants and their contact log. "
            "Authenticate with 'Authorization: Bearer <token>' (python run.py token NAME). "
            "Errors are JSON {error, details}. Phone and ID numbers are masked unless revealed.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {"schemas": components, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }


_document = None


@api.get("/openapi.json")
@public
def openapi():
    global _document
    if _document is None:
        _document = build_document()
    return jsonify(_document)
