"""The size of the incremental machinery of the dbt project, as docs/INCREMENTAL.md reports it.

    .venv/bin/python bench/incremental_size.py [--project-dir dbt_project]

Prints, for the project at `--project-dir` (a checkout of any revision works):

- per model, the non-blank lines inside `{% if is_incremental() %}` branches (and the `else`
  branch of `{% if not is_incremental() %}`), the branch's own tag lines not counted, nested
  tags inside a branch counted;
- the lines of the change-detection macros: every line of `macros/incremental.sql` and
  `macros/run_stamp.sql`;
- the models whose body calls `run_query`, directly or through a project macro that does.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

TAG = re.compile(r"{%-?\s*(if|elif|else|endif)\b(.*?)-?%}")
MACRO = re.compile(r"{%-?\s*macro\s+(\w+)\s*\(")
CHANGE_DETECTION_MACRO_FILES = ("macros/incremental.sql", "macros/run_stamp.sql")


def incremental_branch_lines(sql: str) -> int:
    """Non-blank lines inside the incremental branches of one model's SQL."""
    stack: list[list[object]] = []  # per open `if`: [kind, inside an incremental branch]
    count = 0
    for line in sql.splitlines():
        tags = list(TAG.finditer(line))
        inside_before = any(branch for _, branch in stack)
        for tag in tags:
            kind, condition = tag.group(1), tag.group(2).strip()
            if kind == "if":
                polarity = {"is_incremental()": "pos", "not is_incremental()": "neg"}.get(condition)
                stack.append([polarity, polarity == "pos"])
            elif kind in ("elif", "else"):
                stack[-1][1] = stack[-1][0] == "neg"
            else:
                stack.pop()
        inside_after = any(branch for _, branch in stack)
        if line.strip() and (inside_before and inside_after if tags else inside_after):
            count += 1
    return count


def macros_calling_run_query(project: Path) -> set[str]:
    """Project macros whose body calls run_query, directly or through another such macro."""
    bodies: dict[str, str] = {}
    for path in (project / "macros").glob("**/*.sql"):
        text = path.read_text()
        starts = list(MACRO.finditer(text))
        for i, start in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
            bodies[start.group(1)] = text[start.end() : end]
    calling = {name for name, body in bodies.items() if "run_query(" in body}
    while True:
        more = {
            name
            for name, body in bodies.items()
            if name not in calling and any(re.search(rf"\b{c}\(", body) for c in calling)
        }
        if not more:
            return calling
        calling |= more


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project-dir", default=str(Path(__file__).parents[1] / "dbt_project"))
    project = Path(parser.parse_args().project_dir)

    print("| model | lines inside is_incremental() branches |")
    print("|---|---:|")
    total = 0
    for path in sorted((project / "models").glob("**/*.sql")):
        lines = incremental_branch_lines(path.read_text())
        if lines:
            print(f"| `{path.stem}` | {lines} |")
            total += lines
    print(f"| all models | {total} |")

    macro_lines = sum(
        len((project / name).read_text().splitlines())
        for name in CHANGE_DETECTION_MACRO_FILES
        if (project / name).exists()
    )
    print(
        f"\nchange-detection macro lines ({', '.join(CHANGE_DETECTION_MACRO_FILES)}): {macro_lines}"
    )

    calling = macros_calling_run_query(project)
    models = sorted(
        path.stem
        for path in (project / "models").glob("**/*.sql")
        if re.search(r"\brun_query\(", text := path.read_text())
        or any(re.search(rf"\b{name}\(", text) for name in calling)
    )
    print(f"macros calling run_query: {', '.join(sorted(calling)) or 'none'}")
    print(f"models whose body calls run_query: {', '.join(models) or 'none'}")


if __name__ == "__main__":
    main()
