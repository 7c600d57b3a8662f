"""Helpers shared by the sample-world tests: build a small world, read it, compare shapes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from acd_sample_world.config import CURRENCY_EXPONENTS, WorldConfig
from acd_sample_world.events import ListEventWriter, WorldEvent
from acd_sample_world.generate import ListTableSink, generate_world
from acd_sample_world.store import WorldFiles, read_jsonl

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures"
END_DATE = date(2024, 6, 30)


@dataclass
class BuiltWorld:
    config: WorldConfig
    manifest: dict[str, Any]
    events: list[WorldEvent]
    tables: dict[str, dict[str, dict[str, Any]]]

    @property
    def files(self) -> WorldFiles:
        return WorldFiles(self.config.out_dir)


def build(out_dir: Path, *, users: int = 150, days: int = 12, seed: int = 11) -> BuiltWorld:
    config = WorldConfig(users=users, days=days, seed=seed, end_date=END_DATE, out_dir=out_dir)
    events = ListEventWriter()
    tables = ListTableSink()
    manifest = generate_world(config, events=events, tables=tables)
    return BuiltWorld(config, manifest, events.events, tables.rows)


def payload_hashes(root: Path) -> dict[str, str]:
    """sha256 of every payload file under `root` (the SDK's spool directory excluded)."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".spool" not in path.relative_to(root).parts
    }


def stripe_objects(world_dir: Path, resource: str) -> list[dict[str, Any]]:
    return read_jsonl(WorldFiles(world_dir).stripe(resource))


def minor_units(revenue: float, currency: str) -> int:
    return round(revenue * 10 ** CURRENCY_EXPONENTS[currency.lower()])


# Shapes -------------------------------------------------------------------------------------

JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return JSON_TYPES[type(value)]


def shape_errors(
    ours: Any,
    theirs: Any,
    path: str = "$",
    *,
    optional: frozenset[str] = frozenset(),
    extra: frozenset[str] = frozenset(),
) -> list[str]:
    """Differences of keys and JSON types between `ours` and a real fixture `theirs`.

    Objects must have the same keys, except dotted paths in `optional` (keys the API leaves
    out when empty, which ours may omit) and `extra` (documented keys the fixture lacks,
    which ours may add); an empty object in the fixture is a free-form map (`metadata`).
    `null` matches any type on either side (nullable fields); lists compare each of our
    elements with the union of the fixture's elements.
    """
    if ours is None or theirs is None:
        return []
    ours_type, theirs_type = json_type(ours), json_type(theirs)
    if ours_type != theirs_type:
        return [f"{path}: {ours_type} where the fixture has {theirs_type}"]
    errors: list[str] = []
    if isinstance(theirs, dict) and theirs:  # `{}` in a fixture is a free-form map (metadata)
        relative = path.split("$", 1)[1].lstrip(".")
        prefix = f"{relative}." if relative else ""
        for key in theirs:
            if key not in ours and f"{prefix}{key}" not in optional:
                errors.append(f"{path}.{key}: missing")
        for key in ours:
            if key not in theirs:
                if f"{prefix}{key}" not in extra:
                    errors.append(f"{path}.{key}: not in the fixture")
                continue
            errors += shape_errors(
                ours[key], theirs[key], f"{path}.{key}", optional=optional, extra=extra
            )
    elif isinstance(theirs, list) and theirs:
        element = theirs[0]
        if all(isinstance(item, dict) for item in theirs):
            element = {}  # the union of the fixture's elements' keys
            for item in theirs:
                element.update({key: value for key, value in item.items() if key not in element})
        for item in ours:
            errors += shape_errors(item, element, path, optional=optional, extra=extra)
            if errors:
                break
    return errors


def load_fixture(*parts: str) -> Any:
    return json.loads((FIXTURES.joinpath(*parts)).read_text(encoding="utf-8"))
