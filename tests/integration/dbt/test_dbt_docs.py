"""Every dbt model is documented and tested in YAML (docs/DEVELOPING.md, dbt and SQL).

Read from the manifest `make install` parses (`dbt parse`, no warehouse, no build):

- a model's description starts with its grain, "One row per …" (the read API shows that
  first sentence as a mart's grain, docs/API.md);
- every column is described, and the description says more than the column's name;
- the columns whose meaning is shared across models take it from a `{% docs %}` block
  (`dbt_project/models/docs.md`), with a sentence of the model's own after it where needed;
- every model has a test of its key: `unique` on a column or `unique_combination_of_columns`
  (the project's own, no dbt hub). A one-column key is also not null (a `not_null` test, or a
  contract constraint in a mart). The few models whose key a test would cost a scan the
  project decided against say why in `config.meta.untested_key` and keep unit tests; a key
  that can be null says why in `config.meta.nullable_key`;
- every model built in schema `marts` has an enforced contract (the read API serves exactly
  those, with their types).

That the documented columns are the built ones is checked after a real build, in
`test_sample_world_build.py`.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from orchestration.defs.dbt.project import ensure_manifest

GRAIN = re.compile(r"One row per \S")
KEY_TESTS = ("unique", "unique_combination_of_columns")
# Words that add nothing to a column's name: a description made only of these and the words
# of the name ("Campaign id.", "The funnel.") restates the name.
FILLER = {"a", "an", "the", "its", "it", "of", "this", "that", "s", "is", "in", "on", "at"}
# Columns that mean the same in every model that has them: their description comes from a doc
# block of dbt_project/models/docs.md (the one of the same name, or a variant such as
# `stripe_event_id` where a source gives the name another meaning), followed, where a model
# adds to it, by a sentence of its own.
SHARED_COLUMNS = {
    "event_id",
    "product",
    "person_id",
    "occurred_at",
    "received_at",
    "built_at",
    "loaded_at",
    "channel",
    "platform",
}


@cache
def _manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(ensure_manifest().read_text())
    return manifest


def _models() -> dict[str, dict[str, Any]]:
    return {
        uid: node
        for uid, node in _manifest()["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == "acd_warehouse"
    }


def _tests_of(uid: str) -> list[dict[str, Any]]:
    return [
        node
        for node in _manifest()["nodes"].values()
        if node["resource_type"] == "test" and node.get("attached_node") == uid
    ]


def _unit_tests_of(uid: str) -> list[str]:
    return [
        test["name"]
        for test in _manifest()["unit_tests"].values()
        if uid in test["depends_on"]["nodes"] and test["model"] == _models()[uid]["name"]
    ]


def _meta(node: dict[str, Any], key: str) -> str:
    value = (node["config"].get("meta") or {}).get(key)
    return value.strip() if isinstance(value, str) else ""


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def test_every_model_description_starts_with_its_grain() -> None:
    wrong = {
        node["name"]: " ".join(node["description"].split())[:60]
        for node in _models().values()
        if not GRAIN.match(node["description"].strip())
    }
    assert wrong == {}, "a model's description starts with 'One row per …'"


def test_every_column_is_described_and_says_more_than_its_name() -> None:
    models = _models().values()
    assert all(node["columns"] for node in models), [n["name"] for n in models if not n["columns"]]
    weak = [
        f"{node['name']}.{name}: {column['description']!r}"
        for node in models
        for name, column in node["columns"].items()
        if not _words(column["description"]) - _words(name.replace("_", " ")) - FILLER
    ]
    assert weak == []


def test_shared_columns_use_their_doc_block() -> None:
    doc_blocks = {node["name"] for node in _manifest()["docs"].values()}
    assert doc_blocks >= SHARED_COLUMNS
    missing = [
        f"{node['name']}.{name}"
        for node in _models().values()
        for name, column in node["columns"].items()
        if name in SHARED_COLUMNS and not column["doc_blocks"]
    ]
    assert missing == []


def test_every_model_tests_its_key() -> None:
    untested = []
    for uid, node in _models().items():
        keys = [t for t in _tests_of(uid) if t["test_metadata"]["name"] in KEY_TESTS]
        if keys:
            continue
        if _meta(node, "untested_key") and _unit_tests_of(uid):
            continue
        untested.append(node["name"])
    assert untested == [], "a unique or unique_combination_of_columns test of the model's key"


def test_one_column_keys_are_not_null() -> None:
    nullable = []
    for uid, node in _models().items():
        tests = _tests_of(uid)
        if any(t["test_metadata"]["name"] == "unique_combination_of_columns" for t in tests):
            continue
        unique = {t["column_name"] for t in tests if t["test_metadata"]["name"] == "unique"}
        not_null = {t["column_name"] for t in tests if t["test_metadata"]["name"] == "not_null"}
        not_null |= {
            name
            for name, column in node["columns"].items()
            if any(c["type"] == "not_null" for c in column["constraints"])
        }
        if unique and not unique & not_null and not _meta(node, "nullable_key"):
            nullable.append(node["name"])
    assert nullable == []


def test_every_mart_has_an_enforced_contract() -> None:
    uncontracted = [
        node["name"]
        for node in _models().values()
        if node["schema"] == "marts" and not node["config"]["contract"]["enforced"]
    ]
    assert uncontracted == []


def test_waivers_are_few_and_explained() -> None:
    """A waiver is for a key a test cannot afford to scan, or one the source leaves nullable."""
    waived = {
        (node["name"], key)
        for node in _models().values()
        for key in ("untested_key", "nullable_key")
        if key in (node["config"].get("meta") or {})
    }
    assert all(_meta(_models()[f"model.acd_warehouse.{name}"], key) for name, key in waived)
    assert waived == {
        ("stg_shared__events", "untested_key"),
        ("int_touchpoints_matched", "untested_key"),
        ("stg_shared__users", "nullable_key"),
    }
