"""The whole pipeline in one process, on the sample world: what `acd-warehouse demo` runs.

    summary = run_pipeline(target, world_dir, progress=print)

Migrates the warehouse, serves the seeded sample world (`acd-warehouse seed` wrote it) on the
sample transport (`acd_sample_world.fake_apis`), and executes every asset and check of the code
location in process with the sample client resources (`orchestration.demo.resources`), as
production's schedules would:
1. the sources: the real connectors pull the world's API payloads into the raw tables (every
   report day of the world as partitions of one run), and the checks of the raw and shared
   tables run;
2. the hourly dbt build (`dbt_build`) over the received days the schedule would cover now, with
   every dbt test and Great Expectations suite. It only starts when the first run succeeded,
   so a failed blocking raw check stops it, as it stops dbt inside one run;
3. when the dbt build succeeded, the `dashboard` job, as production's sensor would request it:
   the dashboard report of the marts, written to `report_path`.
Returns what was materialized and how every check came out.
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
from acd_analytics.warehouse_url import WarehouseTarget

from ingest._common.windows import DateWindow
from orchestration.defs.partitions import range_tags, received_days

Progress = Callable[[str], None]
# Production polls ad statuses daily and video counters every 6 h; the demo replays two earlier
# polls, a third and two thirds of the way through the world, before the main run.
EARLIER_POLLS = 2
POLLED_TABLES = (("raw_meta", "ads"), ("raw_tiktok", "ads"), ("raw_tiktok", "video_snapshots"))
DAGSTER_YAML = Path(__file__).parent.parent / "dagster.yaml"
SOURCES_JOB = "sources"


def no_progress(message: str) -> None:
    """Say nothing."""


@dataclass(frozen=True)
class CheckOutcome:
    asset: str
    check: str
    passed: bool
    severity: str
    description: str

    def __str__(self) -> str:
        verdict = "passed" if self.passed else f"FAILED ({self.severity.lower()})"
        return f"{self.asset}:{self.check} {verdict}: {self.description}"


@dataclass
class PipelineSummary:
    success: bool
    seconds: float
    days: DateWindow
    materialized: list[str] = field(default_factory=list)  # asset keys, sorted
    checks: list[CheckOutcome] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    not_materialized: list[str] = field(default_factory=list)  # stopped by a failure upstream

    @property
    def failed_checks(self) -> list[CheckOutcome]:
        return [c for c in self.checks if not c.passed]

    def lines(self) -> list[str]:
        """A short human-readable account of the run."""
        passed = len(self.checks) - len(self.failed_checks)
        lines = [
            f"pipeline {'succeeded' if self.success else 'FAILED'} in {self.seconds:.0f}s: "
            f"{len(self.materialized)} assets materialized (report days {self.days}), "
            f"{passed}/{len(self.checks)} checks passed",
        ]
        lines += [f"  failed check: {c}" for c in self.failed_checks]
        lines += [f"  failed step: {s}" for s in self.failed_steps]
        if self.not_materialized:
            lines.append(
                f"  not materialized ({len(self.not_materialized)}, stopped upstream): "
                + ", ".join(self.not_materialized[:10])
                + (" …" if len(self.not_materialized) > 10 else "")
            )
        return lines


class _ProgressHandler(logging.Handler):
    """Turns the run's log stream into a few progress lines: steps, their failures, and what
    the assets themselves report (the connectors' pages)."""

    def __init__(self, progress: Progress) -> None:
        super().__init__(level=logging.DEBUG)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        meta: dict[str, Any] = getattr(record, "dagster_meta", {}) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        if event is None:
            message = str(meta.get("orig_message", record.getMessage()))
            if record.levelno >= logging.INFO and step and _worth_showing(step, message):
                self.progress(f"    {message}")
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            self.progress(f"  {step} ...")
        elif kind == "STEP_FAILURE":
            self.progress(f"  {step} failed: {_error_summary(event)}")
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                key = evaluation.asset_check_key.to_user_string()
                self.progress(f"    check {key} FAILED: {evaluation.description}")


def _worth_showing(step: str, message: str) -> bool:
    """Everything the ingest assets say; of dbt's line per node, only its closing tally."""
    if step.startswith("dbt"):
        return message.startswith(("Done.", "Finished dbt command"))
    return True


def _error_summary(event: Any) -> str:
    error = getattr(event.event_specific_data, "error", None)
    message = " ".join((getattr(error, "message", "") or event.message or "").split())
    return message[:300] if message else "see the run's logs"


def _to_current_stdout(progress: Progress) -> Progress:
    """`progress`, writing to today's stdout even after a run silences it (dagster-dbt echoes
    dbt's log to stdout, which the pipeline hides)."""
    stdout = sys.stdout

    def to_real_stdout(message: str) -> None:
        with contextlib.redirect_stdout(stdout):
            progress(message)

    return to_real_stdout


def _progress_logger(progress: Progress) -> dg.LoggerDefinition:
    to_real_stdout = _to_current_stdout(progress)

    @dg.logger(None, description="Progress lines for the command line.")
    def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.Logger("acd_warehouse.pipeline", level=logging.DEBUG)
        logger.addHandler(_ProgressHandler(to_real_stdout))
        return logger

    return progress_logger


def _instance(dagster_home: Path | None) -> dg.DagsterInstance:
    """A persistent instance in `dagster_home` (so `make dev` shows the run), else ephemeral."""
    if dagster_home is None:
        return dg.DagsterInstance.ephemeral()
    dagster_home.mkdir(parents=True, exist_ok=True)
    if not (dagster_home / "dagster.yaml").exists():
        shutil.copyfile(DAGSTER_YAML, dagster_home / "dagster.yaml")
    return dg.DagsterInstance.from_config(str(dagster_home))


@contextlib.contextmanager
def _silenced_stdout() -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def _sample_base_urls(server: Any) -> dict[str, str]:
    return {
        "meta": server.meta_api_base_url,
        "tiktok": server.tiktok_api_base_url,
        "tiktok_display": server.tiktok_display_api_base_url,
        "stripe": server.stripe_api_base_url,
    }


def world_days(manifest: dict[str, Any]) -> DateWindow:
    """The report days of a sample world: its first to its last simulated day."""
    return DateWindow(
        date.fromisoformat(str(manifest["start_date"])),
        date.fromisoformat(str(manifest["end_date"])),
    )


def pipeline_definitions(
    target: WarehouseTarget,
    client_resources: dict[str, Any],
    progress: Progress = no_progress,
    report_path: Path | None = None,
) -> dg.Definitions:
    """Every area's assets and checks, bound to `target` and the given client resources (and
    the dashboard report to `report_path`, else its default place)."""
    from orchestration.definitions import AREAS
    from orchestration.defs.dashboard.assets import REPORT_KEY, DashboardReportResource
    from orchestration.defs.dbt.assets import DBT_ASSETS, dbt_resource
    from orchestration.defs.resources import warehouse_resource
    from orchestration.defs.shared import SHARED_TABLES, shared_key

    sources = dg.define_asset_job(
        SOURCES_JOB,
        selection=(
            dg.AssetSelection.all()
            - dg.AssetSelection.assets(*DBT_ASSETS)
            - dg.AssetSelection.assets(REPORT_KEY)
        )
        | dg.AssetSelection.checks_for_assets(*(shared_key(t.table) for t in SHARED_TABLES)),
        description="Every asset and check upstream of dbt: the raw and shared tables.",
    )
    dashboard = (
        DashboardReportResource(path=str(report_path)) if report_path else DashboardReportResource()
    )
    return dg.Definitions.merge(
        *AREAS,
        dg.Definitions(
            resources={
                "warehouse": warehouse_resource(target),
                "dbt": dbt_resource(),
                "dashboard": dashboard,
                **client_resources,
            },
            jobs=[sources],
            loggers={"progress": _progress_logger(progress)},
        ),
    )


def summarize(
    results: list[dg.ExecuteInProcessResult],
    days: DateWindow,
    seconds: float,
    expected_assets: set[str] | None = None,
) -> PipelineSummary:
    """One account of the runs that made up a pipeline (a run not started is not in `results`:
    its assets count as not materialized)."""
    checks = [
        CheckOutcome(
            asset=e.asset_check_key.asset_key.to_user_string(),
            check=e.asset_check_key.name,
            passed=e.passed,
            severity=e.severity.value,
            description=e.description or "",
        )
        for result in results
        for e in result.get_asset_check_evaluations()
    ]
    materialized = sorted(
        {
            e.asset_key.to_user_string()
            for result in results
            for e in result.get_asset_materialization_events()
            if e.asset_key is not None
        }
    )
    return PipelineSummary(
        success=all(result.success for result in results),
        seconds=seconds,
        days=days,
        materialized=materialized,
        checks=sorted(checks, key=lambda c: (c.asset, c.check)),
        failed_steps=sorted(
            {
                e.step_key or ""
                for result in results
                for e in result.all_events
                if e.event_type_value == "STEP_FAILURE"
            }
        ),
        not_materialized=sorted((expected_assets or set()) - set(materialized)),
    )


def run_pipeline(
    target: WarehouseTarget,
    world_dir: Path,
    progress: Progress = no_progress,
    *,
    dagster_home: Path | None = None,
    show_dbt_output: bool = False,
    report_path: Path | None = None,
) -> PipelineSummary:
    """Migrate `target`, then materialize every asset and run every check in-process with the
    sample resources serving the world in `world_dir` (written by `acd-warehouse seed`); the
    dashboard report goes to `report_path` (else its default place).

    dbt's own log (a line per node, echoed to stdout by dagster-dbt) is hidden unless
    `show_dbt_output`; it stays in dbt_project/logs/dbt.log and progress shows dbt's tally."""
    from orchestration.defs.dbt.project import ensure_manifest

    ensure_manifest()  # before the code location is loaded: loading it only reads the manifest

    from acd_sample_world.fake_apis.server import SampleWorldServer

    from orchestration.defs.dashboard.assets import dashboard_job
    from orchestration.defs.dbt.assets import dbt_build_job
    from orchestration.demo.resources import sample_client_resources
    from warehouse_db.migrations import migrate

    started = time.perf_counter()
    progress(f"migrating {target.redacted()}")
    migrate(target)
    with SampleWorldServer(world_dir) as server:
        days = world_days(server.manifest)
        clients = sample_client_resources(_sample_base_urls(server), server.manifest)
        progress(f"sample transport on {server.base_url}; report days {days}")
        defs = pipeline_definitions(target, clients, progress, report_path)
        say = _to_current_stdout(progress)
        quiet = contextlib.nullcontext() if show_dbt_output else _silenced_stdout()
        with _instance(dagster_home) as instance, quiet:

            def run_job(
                job_name: str, partition_days: DateWindow | None = None
            ) -> dg.ExecuteInProcessResult:
                partitions = range_tags(partition_days) if partition_days else {}
                return defs.resolve_job_def(job_name).execute_in_process(
                    instance=instance,
                    tags={**partitions, "acd/source": "sample-world"},
                    raise_on_error=False,
                    run_config={"loggers": {"progress": {}}},
                )

            poll_failures = _earlier_polls(target, server, instance, say)
            results = [run_job(SOURCES_JOB, days)]
            if results[0].success:
                received = received_days(datetime.now(UTC))
                say(f"dbt build over the events received {received}")
                results.append(run_job(dbt_build_job.name, received))
                if results[-1].success:
                    results.append(run_job(dashboard_job.name))
                else:
                    say("dashboard skipped: the dbt build failed")
            else:
                say("dbt build skipped: the sources run failed")
    expected = {k.to_user_string() for k in defs.resolve_asset_graph().materializable_asset_keys}
    summary = summarize(results, days, time.perf_counter() - started, expected)
    if poll_failures:
        summary.success = False
        summary.failed_steps = sorted({*summary.failed_steps, *poll_failures})
    return summary


def _earlier_polls(
    target: WarehouseTarget, server: Any, instance: dg.DagsterInstance, progress: Progress
) -> list[str]:
    """Poll the status and snapshot APIs as of earlier moments of the world, as production's
    schedules would have, so ad status history and daily video gains have something to show.
    Returns the failed steps (empty when all polls succeeded); the clock is restored after."""
    from orchestration.defs.ingest.assets import raw_key
    from orchestration.demo.resources import sample_client_resources

    present = server.now
    failures: list[str] = []
    try:
        first_day = world_days(server.manifest).since
        start = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
        for number in range(1, EARLIER_POLLS + 1):
            moment = start + (present - start) * number / (EARLIER_POLLS + 1)
            server.now = moment
            progress(f"polling ad statuses and video counters as of {moment:%Y-%m-%d}")
            clients = sample_client_resources(
                _sample_base_urls(server), {**server.manifest, "default_now": moment.isoformat()}
            )
            job = pipeline_definitions(
                target, clients, progress
            ).resolve_implicit_global_asset_job_def()
            result = job.execute_in_process(
                instance=instance,
                asset_selection=[raw_key(*table) for table in POLLED_TABLES],
                tags={"acd/source": "sample-world", "acd/poll": moment.isoformat()},
                raise_on_error=False,
                run_config={"loggers": {"progress": {}}},
            )
            failures += [
                f"poll {moment:%Y-%m-%d}: {e.step_key}"
                for e in result.all_events
                if e.event_type_value == "STEP_FAILURE"
            ]
    finally:
        server.now = present
    return failures
