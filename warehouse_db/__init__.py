"""The warehouse database itself: connections, versioned migrations and access roles.

Both `ingest` (raw loads) and `orchestration` (commands, Dagster resources) stand on this
package; it stands only on the SDK's URL parser.
"""
