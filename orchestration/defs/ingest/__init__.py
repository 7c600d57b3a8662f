"""Raw tables from the Meta, TikTok and Stripe APIs: assets, checks, schedules, resources."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.ingest.assets import ASSETS
from orchestration.defs.ingest.checks import CHECKS
from orchestration.defs.ingest.schedules import JOBS, SCHEDULES

defs = dg.Definitions(assets=ASSETS, asset_checks=CHECKS, jobs=JOBS, schedules=SCHEDULES)
