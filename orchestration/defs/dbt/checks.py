"""Great Expectations suites on the key marts, as asset checks beside dbt's own tests.

dbt's tests already surface as asset checks (dagster-dbt turns every test of the manifest into
one); these add a second, independent look at the numbers analysts act on. A suite is defined
only for a mart the manifest has, so the code location loads while the marts are being built.
"""

from collections.abc import Collection
from dataclasses import dataclass

import dagster as dg

from orchestration.defs.expectations import Expectation, run_suite
from orchestration.defs.resources import WarehouseResource

RECONCILIATION_ISSUES = (
    "ok",
    "missing_grant",
    "not_revoked_after_refund",
    "pending_unclaimed",
    "grant_without_purchase",
)
MRR_MOVEMENTS = ("new", "expansion", "contraction", "reactivation", "unchanged", "churned")


@dataclass(frozen=True)
class MartSuite:
    model: str
    select: str
    expectations: tuple[Expectation, ...]
    key_columns: tuple[str, ...]
    description: str

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey(["marts", self.model])


MART_SUITES = (
    MartSuite(
        "fct_attribution_credits",
        "conversion_event_id, model, coalesce(touchpoint_event_id, 'direct') as touchpoint, "
        "cast(credit as double precision) as credit, "
        "cast(attributed_value as double precision) as attributed_value",
        (
            Expectation(
                "ExpectColumnValuesToBeBetween",
                "credit",
                {"min_value": 0, "max_value": 1},
                meaning="credit is outside [0, 1]",
            ),
            Expectation("ExpectColumnValuesToNotBeNull", "credit", meaning="credit is null"),
        ),
        ("conversion_event_id", "model", "touchpoint"),
        "Every credit is in [0, 1].",
    ),
    MartSuite(
        "fct_mrr",
        "subscription_id, cast(month as varchar(10)) as month, "
        "cast(mrr as double precision) as mrr, movement",
        (
            Expectation(
                "ExpectColumnValuesToBeBetween", "mrr", {"min_value": 0}, meaning="mrr is negative"
            ),
            Expectation(
                "ExpectColumnValuesToBeInSet",
                "movement",
                {"value_set": list(MRR_MOVEMENTS)},
                meaning="movement is not one of docs/METRICS.md, Revenue",
            ),
        ),
        ("subscription_id", "month"),
        "MRR >= 0 and every movement is known.",
    ),
    MartSuite(
        "rpt_entitlement_reconciliation",
        "source_purchase_id, app, issue_type",
        (
            Expectation(
                "ExpectColumnValuesToBeInSet",
                "issue_type",
                {"value_set": list(RECONCILIATION_ISSUES)},
                meaning="issue_type is not one of docs/METRICS.md, Entitlement reconciliation",
            ),
        ),
        ("source_purchase_id", "app"),
        "Every reconciliation issue type is one defined in docs/METRICS.md, Entitlement reconciliation.",
    ),
)


def _mart_check(suite: MartSuite) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=suite.key, name="expectations", description=suite.description)
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        return run_suite(
            warehouse,
            name=f"marts.{suite.model}",
            sql=f"select {suite.select} from marts.{suite.model}",
            expectations=suite.expectations,
            key_columns=suite.key_columns,
        )

    return _check


def mart_checks(models: Collection[str]) -> list[dg.AssetChecksDefinition]:
    """The suites of the marts among `models` (names from the dbt manifest)."""
    return [_mart_check(suite) for suite in MART_SUITES if suite.model in models]
