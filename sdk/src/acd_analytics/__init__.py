"""acd_analytics: the tracking SDK of ACD Warehouse."""

__version__ = "0.1.0"
