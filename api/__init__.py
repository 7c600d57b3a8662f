"""Read access to the marts over HTTP and as pages: the read API and the dashboard."""
