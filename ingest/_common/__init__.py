"""What every connector shares: the HTTP client (timeouts, retries, circuit breaker), an
injectable clock, secret handling and redaction, structured logs, date windows and the
typed errors a run can end with."""
