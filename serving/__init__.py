"""The HTTP plumbing the collector and the read API share: errors, keys, rate limits, logs, metrics, launch."""
