"""The target folders dagster-dbt leaves per dbt step are pruned to the newest of each step."""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.defs.dbt.assets import prune_step_artifacts


def _folder(target: Path, name: str, mtime: float) -> Path:
    path = target / name
    (path / "compiled").mkdir(parents=True)
    (path / "run_results.json").write_text("{}")
    os.utime(path, (mtime, mtime))
    return path


def test_only_the_newest_folders_of_the_same_step_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "target"
    steps = [_folder(target, f"dbt_models-run{n:04d}-abcdef{n}", 1_000 + n) for n in range(5)]
    other_step = _folder(target, "dbt_partitioned_models-run0000-abcdef0", 500)
    not_a_step = [_folder(target, "build", 100), _folder(target, "compiled-x", 100)]
    (target / "manifest.json").write_text("{}")
    # The current folder counts as the newest whatever its time says.
    current = _folder(target, "dbt_models-run9999-fedcba9", 10)

    deleted = prune_step_artifacts(current, kept=3)

    assert sorted(deleted) == steps[:3]
    assert sorted(p.name for p in target.iterdir()) == sorted(
        [
            current.name,
            steps[4].name,
            steps[3].name,
            other_step.name,
            *(p.name for p in not_a_step),
            "manifest.json",
        ]
    )
