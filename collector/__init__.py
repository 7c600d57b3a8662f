"""The HTTP event collector: the Segment Tracking API wire format into `shared_events`.

`wire` turns a message into a row or a rejection (pure), `keys` holds the write keys,
`journal` makes accepted requests durable and loads them into the warehouse, `app` serves
the routes. docs/COLLECTOR.md is the contract.
"""
