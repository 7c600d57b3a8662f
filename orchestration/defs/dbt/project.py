"""The dbt project as Dagster sees it, and its manifest.

Loading the code location only reads the manifest (`load_manifest`): it never runs dbt. The
manifest is made beforehand by `ensure_manifest`, which runs `dbt parse` only when a file of
the project is newer than it: `make install` (so a deployment's `git pull && make install`
refreshes it), `make dev`, the demo, the read API and the test session call it.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from acd_analytics.warehouse_url import WarehouseTarget, parse_warehouse_url
from dagster_dbt import DbtProject

from warehouse_db.connection import warehouse_target
from warehouse_db.dbt_env import DBT_PROJECT_DIR, dbt_command, dbt_env

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
_PROJECT_SOURCES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests")


class ManifestMissing(RuntimeError):
    """The dbt manifest has not been made; the message says how to make it."""


def load_manifest() -> dict[str, Any]:
    """The manifest as it is on disk (no dbt run); `ManifestMissing` when there is none."""
    path = DBT_PROJECT.manifest_path
    if not path.exists():
        raise ManifestMissing(
            f"{path} is missing: run `make install` (it runs dbt parse) before loading the "
            "Dagster code location"
        )
    manifest: dict[str, Any] = json.loads(path.read_text())
    return manifest


def ensure_manifest() -> Path:
    manifest = DBT_PROJECT.manifest_path
    if not manifest.exists() or _newest_source_mtime() > manifest.stat().st_mtime:
        manifest.parent.mkdir(parents=True, exist_ok=True)
        # dbt writes the manifest in place: it parses into a folder of its own and the whole
        # file is renamed over the old one, so a process reading it meanwhile never gets half.
        # The partial-parse state goes with it: Dagster's dbt runs start from it.
        with tempfile.TemporaryDirectory(prefix="parse-", dir=manifest.parent) as parsed:
            env = os.environ | dbt_env(_parse_target()) | {"DBT_TARGET_PATH": parsed}
            subprocess.run(
                dbt_command(["parse", "--quiet"]),
                check=True,
                env=env,
                cwd=DBT_PROJECT_DIR,
            )
            partial_parse = Path(parsed) / "partial_parse.msgpack"
            if partial_parse.exists():  # not written with DBT_PARTIAL_PARSE=false
                os.replace(partial_parse, manifest.parent / partial_parse.name)
            os.replace(Path(parsed) / "manifest.json", manifest)
    return manifest


def _parse_target() -> WarehouseTarget:
    # Parsing never connects, but the profile must name a database file to be valid.
    target = warehouse_target()
    if target.backend == "duckdb" and target.duckdb_path == ":memory:":
        return parse_warehouse_url(f"duckdb:///{DBT_PROJECT_DIR / 'target' / 'parse.duckdb'}")
    return target


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _PROJECT_SOURCES:
        path = DBT_PROJECT_DIR / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        newest = max([newest, *(f.stat().st_mtime for f in files)])
    return newest


if __name__ == "__main__":  # `make install`: parse when a project file is newer than the manifest
    print(ensure_manifest())
