"""The HTTP plumbing the collector and the read API share: the app, errors, keys, rate limits, logs, metrics, launch."""
