"""The OpenAPI 3.1 document of the read API, generated from the catalog (the dbt contracts).

One schema per mart under `components.schemas`, and one path per mart listing the columns that
can be filtered (`col`, repeatable, and `col[gte|lte|gt|lt]`) with their types.
"""

from __future__ import annotations

from typing import Any

from api.catalog import Catalog, Column, Mart
from api.query import DEFAULT_LIMIT, FORMATS, MAX_LIMIT, OPERATORS

VALUE_SCHEMAS: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "decimal": {"type": "string", "format": "decimal", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"},
    "date": {"type": "string", "format": "date"},
    "timestamp": {"type": "string", "format": "date-time"},
    "boolean": {"type": "boolean"},
    "json": {},
}
# Filter values, as the API parses them (see api.catalog.parse_value).
FILTER_SCHEMAS: dict[str, dict[str, Any]] = {
    **VALUE_SCHEMAS,
    "text": {"type": "string", "pattern": "^[^\\x00]*$"},
    "integer": {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},
    "decimal": {"type": "string", "pattern": r"^-?[0-9]{1,32}(\.[0-9]{1,12})?$"},
    "timestamp": {
        "type": "string",
        "format": "date-time",
        "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})$",
    },
}


def column_schema(column: Column) -> dict[str, Any]:
    schema = dict(VALUE_SCHEMAS[column.kind])
    if column.kind == "json":
        return {"description": column.description}
    # Non-finite doubles are written as null, so numbers are always nullable.
    if not column.not_null or column.kind == "number":
        schema["type"] = [schema["type"], "null"]
    schema["description"] = column.description
    return schema


def mart_schema(mart: Mart) -> dict[str, Any]:
    return {
        "type": "object",
        "description": mart.description,
        "properties": {column.name: column_schema(column) for column in mart.columns},
        "required": [column.name for column in mart.columns],
        "additionalProperties": False,
    }


ERROR = {"$ref": "#/components/schemas/Error"}


def _error(description: str, retry_after: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": ERROR}},
    }
    if retry_after:
        answer["headers"] = {
            "Retry-After": {"schema": {"type": "string"}, "description": "seconds to wait"}
        }
    return answer


ERRORS = {
    "400": _error("A parameter cannot be used; `message` starts with its name"),
    "401": _error("No key, an unknown key or a revoked key"),
    "403": _error("This key may not read this mart"),
    "429": _error("Over this key's rate", retry_after=True),
    "503": _error("The warehouse is busy or the query took too long", retry_after=True),
}


def _parameters(mart: Mart) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for column in mart.columns:
        if not column.comparable:
            continue
        value = FILTER_SCHEMAS[column.kind]
        parameters.append(
            {
                "name": column.name,
                "in": "query",
                "required": False,
                "description": f"rows whose {column.name} is one of these values",
                "schema": {"type": "array", "items": value, "maxItems": 1000},
                "style": "form",
                "explode": True,
            }
        )
        for operator in OPERATORS:
            parameters.append(
                {
                    "name": f"{column.name}[{operator}]",
                    "in": "query",
                    "required": False,
                    "description": f"rows whose {column.name} is {operator} this value",
                    "schema": value,
                }
            )
    comparable = [column.name for column in mart.columns if column.comparable]
    name = "(" + "|".join(comparable) + ")"
    parameters += [
        {
            "name": "order",
            "in": "query",
            "description": "columns to order by, comma-separated, `-` before a column for descending",
            "schema": {"type": "string", "pattern": f"^-?{name}(,-?{name})*$"},
        },
        {
            "name": "limit",
            "in": "query",
            "description": f"rows per page (default {DEFAULT_LIMIT})",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        },
        {
            "name": "cursor",
            "in": "query",
            "description": "`next_cursor` of the previous page, as given",
            "schema": {"type": "string"},
        },
        {
            "name": "format",
            "in": "query",
            "description": "json (default), csv or ndjson",
            "schema": {"type": "string", "enum": list(FORMATS)},
        },
    ]
    return parameters


def _mart_path(mart: Mart) -> dict[str, Any]:
    page = {
        "type": "object",
        "required": ["data", "next_cursor", "built_at"],
        "properties": {
            "data": {"type": "array", "items": {"$ref": f"#/components/schemas/{mart.name}"}},
            "next_cursor": {"type": ["string", "null"]},
            "built_at": {"type": ["string", "null"], "format": "date-time"},
        },
    }
    return {
        "get": {
            "operationId": f"read_{mart.name}",
            "summary": mart.grain,
            "description": mart.description,
            "tags": ["marts"],
            "security": [{"bearer": []}],
            "parameters": _parameters(mart),
            "responses": {
                "200": {
                    "description": "A page of rows (CSV and NDJSON: `X-Next-Cursor` header)",
                    "headers": {"ETag": {"schema": {"type": "string"}}},
                    "content": {
                        "application/json": {"schema": page},
                        "text/csv": {"schema": {"type": "string"}},
                        "application/x-ndjson": {"schema": {"type": "string"}},
                    },
                },
                "304": {"description": "Unchanged since the ETag in If-None-Match"},
                **ERRORS,
                "404": _error("No such mart"),
            },
        }
    }


def openapi_document(catalog: Catalog, version: str) -> dict[str, Any]:
    marts = [catalog.marts[name] for name in catalog.names()]
    column_entry = {
        "type": "object",
        "required": ["name", "type", "description", "filterable"],
        "properties": {
            "name": {"type": "string"},
            "type": {"type": "string"},
            "description": {"type": "string"},
            "filterable": {"type": "boolean"},
        },
    }
    mart_entry = {
        "type": "object",
        "required": ["name", "grain", "description", "product_column", "columns", "built_at"],
        "properties": {
            "name": {"type": "string"},
            "grain": {"type": "string"},
            "description": {"type": "string"},
            "product_column": {"type": ["string", "null"]},
            "columns": {"type": "array", "items": column_entry},
            "built_at": {"type": ["string", "null"], "format": "date-time"},
        },
    }
    paths: dict[str, Any] = {
        "/health": {
            "get": {
                "operationId": "health",
                "summary": "Whether the server is up",
                "responses": {
                    "200": {
                        "description": "Up",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/v1/marts": {
            "get": {
                "operationId": "list_marts",
                "summary": "The marts this key may read",
                "security": [{"bearer": []}],
                "responses": {
                    "200": {
                        "description": "The marts, with their columns and when they were built",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["data"],
                                    "properties": {"data": {"type": "array", "items": mart_entry}},
                                }
                            }
                        },
                    },
                    "401": ERRORS["401"],
                    "429": ERRORS["429"],
                    "503": ERRORS["503"],
                },
            }
        },
    }
    for mart in marts:
        paths[f"/v1/marts/{mart.name}"] = _mart_path(mart)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ACD Warehouse read API",
            "version": version,
            "description": "The marts, read with a key scoped to a product and to marts. "
            "Send the key as `Authorization: Bearer <key>`.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                },
                **{mart.name: mart_schema(mart) for mart in marts},
            },
        },
    }
