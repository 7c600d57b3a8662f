"""dbt's `flags` for sqlfluff's jinja templater: the models are linted as a run without --full-refresh."""

FULL_REFRESH = False
