"""The Dagster definitions, one subpackage per area; `orchestration.definitions` merges them."""
