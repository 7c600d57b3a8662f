"""The Dagster definitions, one subpackage per area; `orchestration.definitions` merges them."""

import warnings

import dagster as dg

# `backfill_policy` (one run per restatement window) is a beta parameter; say so here, once,
# instead of on every load of the code location.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
