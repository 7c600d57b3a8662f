"""The seeds and vars each incremental model was built with, stored to detect a stale model.

An incremental model recomputes only the rows its change detection names, so a change of a
seed it reads (`channel_mapping`, `funnel_steps`) or of a var its logic depends on
(`conversion_event_names`, the attribution lookback, …) leaves its stored rows computed with
the old value until a `--full-refresh` (docs/RUNBOOK.md, Full refreshes). A build therefore
records, per incremental model, digests of its inputs in `acd_dbt_build_inputs` (migration 7):

- the seeds upstream of the model (dbt's checksum of the file, from the manifest);
- the vars named by `config.meta.rebuild_on_vars` of the model or of a model upstream, at the
  value the build uses (`--vars`, else `dbt_project.yml`).

Before a build, a model whose stored inputs differ is stale: a build without `--full-refresh`
fails naming the command that rebuilds it. A build records the inputs of every incremental model
it built in full (a full refresh, or a first build that created it); an incremental run of a
model without stored inputs (a warehouse older than this check) records it too, taking the
warehouse as it is to be current.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

INPUTS_TABLE = "acd_dbt_build_inputs"
REBUILD_ON_VARS = "rebuild_on_vars"


class StaleIncrementalModels(RuntimeError):
    """A seed or var changed since an incremental model was built; a full refresh is needed."""


@dataclass(frozen=True)
class ModelInputs:
    """What an incremental model is computed from: `inputs` maps `seed x` / `var y` to a digest."""

    model: str
    unique_id: str
    inputs: Mapping[str, str]


def project_vars(project_dir: Path) -> dict[str, Any]:
    """The vars declared in `dbt_project.yml`."""
    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text())
    return dict(project.get("vars") or {})


def parse_vars(text: str) -> dict[str, Any]:
    """dbt's `--vars` argument (a YAML or JSON mapping) as a dict."""
    value = yaml.safe_load(text)
    if not isinstance(value, dict):
        raise ValueError(f"--vars takes a YAML or JSON mapping, not {text!r}")
    return value


def incremental_model_inputs(
    manifest: Mapping[str, Any], vars_in_use: Mapping[str, Any]
) -> dict[str, ModelInputs]:
    """Every incremental model of `manifest` with the digests of its seeds and vars."""
    nodes = manifest["nodes"]
    found: dict[str, ModelInputs] = {}
    for uid, node in nodes.items():
        if node["resource_type"] != "model" or node["config"].get("materialized") != "incremental":
            continue
        if node["config"].get("full_refresh") is False:
            continue  # never rebuilt (int_incremental_manifest): a full refresh cannot fix it
        inputs: dict[str, str] = {}
        for ancestor in [uid, *_ancestors(manifest, uid)]:
            upstream = nodes.get(ancestor)
            if upstream is None:  # a source
                continue
            if upstream["resource_type"] == "seed":
                inputs[f"seed {upstream['name']}"] = upstream["checksum"]["checksum"]
            for name in (upstream["config"].get("meta") or {}).get(REBUILD_ON_VARS, []):
                value = json.dumps(vars_in_use.get(name), sort_keys=True)
                inputs[f"var {name}"] = hashlib.sha256(value.encode()).hexdigest()
        found[node["name"]] = ModelInputs(node["name"], uid, inputs)
    return found


def _ancestors(manifest: Mapping[str, Any], uid: str) -> set[str]:
    seen: set[str] = set()
    pending = list(manifest["parent_map"].get(uid, []))
    while pending:
        parent = pending.pop()
        if parent not in seen:
            seen.add(parent)
            pending += manifest["parent_map"].get(parent, [])
    return seen


def stored_inputs(conn: Any) -> dict[str, dict[str, str]]:
    """The inputs each incremental model was last built in full with."""
    exists = conn.execute(
        f"select count(*) from information_schema.tables where table_name = '{INPUTS_TABLE}'"
    ).fetchall()[0][0]
    if not exists:
        raise StaleIncrementalModels(
            f"the warehouse has no table {INPUTS_TABLE}: run `acd-warehouse migrate` first"
        )
    rows = conn.execute(f"select model, inputs from {INPUTS_TABLE}").fetchall()
    return {model: json.loads(inputs) for model, inputs in rows}


def changed_inputs(
    current: Mapping[str, ModelInputs], stored: Mapping[str, Mapping[str, str]]
) -> dict[str, list[str]]:
    """Per stale model (a stored model whose inputs differ), the inputs that changed."""
    changed = {}
    for name, model in current.items():
        before = stored.get(name)
        if before is None:
            continue
        labels = sorted(
            label
            for label in set(before) | set(model.inputs)
            if before.get(label) != model.inputs.get(label)
        )
        if labels:
            changed[name] = labels
    return changed


def refresh_selection(
    manifest: Mapping[str, Any], stale: Collection[str], current: Mapping[str, ModelInputs]
) -> list[str]:
    """`model+` for each stale model without a stale model upstream: the selection of the
    full refresh that rebuilds every stale model and what is computed from them."""
    stale_ids = {current[name].unique_id for name in stale}
    return [
        f"{name}+"
        for name in sorted(stale)
        if not _ancestors(manifest, current[name].unique_id) & stale_ids
    ]


def check_not_stale(
    manifest: Mapping[str, Any],
    current: Mapping[str, ModelInputs],
    stored: Mapping[str, Mapping[str, str]],
    *,
    full_refresh: bool,
    models_to_build: Collection[str] | None = None,
    command: str = "acd-warehouse build --full-refresh --select",
) -> None:
    """Raise StaleIncrementalModels when a model this build would update incrementally (every
    incremental model when `models_to_build` is None) is stale, naming the command to run."""
    if full_refresh:
        return
    changed = changed_inputs(current, stored)
    if models_to_build is not None:
        changed = {name: labels for name, labels in changed.items() if name in models_to_build}
    if not changed:
        return
    inputs = sorted({label for labels in changed.values() for label in labels})
    selection = " ".join(refresh_selection(manifest, changed, current))
    raise StaleIncrementalModels(
        f"{', '.join(inputs)} changed since {', '.join(sorted(changed))} were built, so their"
        f" stored rows are out of date: run `{command} {selection}`"
        " (docs/RUNBOOK.md, Full refreshes)"
    )


def record_built(
    conn: Any,
    current: Mapping[str, ModelInputs],
    stored: Mapping[str, Mapping[str, str]],
    built: Iterable[str],
    *,
    full_refresh: bool,
) -> list[str]:
    """Store the inputs of the incremental models in `built` (unique ids that ran successfully)
    that were built in full or have no stored inputs yet; return their names."""
    by_id = {model.unique_id: model for model in current.values()}
    recorded = []
    for uid in built:
        model = by_id.get(uid)
        if model is None or not (full_refresh or model.model not in stored):
            continue
        inputs = json.dumps(dict(model.inputs), sort_keys=True)
        conn.execute(f"delete from {INPUTS_TABLE} where model = '{model.model}'")
        conn.execute(
            f"insert into {INPUTS_TABLE} (model, inputs) values ('{model.model}', '{inputs}')"
        )
        recorded.append(model.model)
    return sorted(recorded)
