"""The real `@segment/analytics-node`, unmodified, pointed at the collector with `host`.

`tests/js/send_node.mjs` sends every call type (installed by `make test` from
`tests/js/package-lock.json`); each message carries a sequence number, so every one can be
found in `shared_events` and counted exactly once.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.collector.conftest import PRODUCT, Collector
from tests.js import JS_DIR, require_node_modules

COUNT = 3000  # 500 of each call type


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(value)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _seq(name: str, props: dict[str, Any]) -> int:
    if name == "alias":
        return int(props["previous_id"].rsplit("-", 1)[1])
    if name in ("identify", "group"):
        return int(props["traits"]["seq"])
    return int(props["seq"])


def test_every_call_type_from_analytics_node_lands_exactly_once(collector: Collector) -> None:
    require_node_modules()
    sent = subprocess.run(
        ["node", str(JS_DIR / "send_node.mjs")],
        env={
            **os.environ,
            "COLLECTOR_URL": collector.url,
            "WRITE_KEY": collector.key,
            "COUNT": str(COUNT),
            "RUN_ID": "node",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert sent.returncode == 0, sent.stderr
    summary = json.loads(sent.stdout.strip().splitlines()[-1])
    assert summary["failures"] == []
    assert sum(summary["sent"].values()) == COUNT
    collector.settle()

    rows = collector.rows(
        "select product, event_name, user_id, anonymous_id, properties, context, "
        "occurred_at, received_at, library from shared_events"
    )
    assert len(rows) == COUNT
    names = {
        "order_completed": "track",
        "page_viewed": "page",
        "screen_viewed": "screen",
        "identify": "identify",
        "group": "group",
        "alias": "alias",
    }
    by_type: Counter[str] = Counter()
    seqs = set()
    for product, name, user_id, anonymous_id, props, ctx, occurred, received, library in rows:
        props, ctx = _as_dict(props), _as_dict(ctx)
        seq = _seq(name, props)
        seqs.add(seq)
        by_type[names[name]] += 1
        assert product == PRODUCT
        assert ctx["library"]["name"] == "@segment/analytics-node"
        assert library == f"@segment/analytics-node/{ctx['library']['version']}"
        assert user_id == f"node-user-{seq % 50}" or (name == "page_viewed" and user_id is None)
        if name == "order_completed":
            assert props == {"seq": seq, "revenue": 9.5, "currency": "USD", "tags": ["a", "b"]}
            assert ctx["campaign"]["content"] == "ad_42"
            # The client stamped the event a minute before sending; the clock-skew correction
            # keeps that minute on the collector's clock.
            gap = _aware(received) - _aware(occurred)
            assert timedelta(seconds=55) < gap < timedelta(seconds=70), gap
        elif name == "page_viewed":
            assert anonymous_id == f"node-anon-{seq}"
            assert props == {"seq": seq, "name": "Pricing", "category": "Docs"}
        elif name == "group":
            assert props == {"group_id": f"node-org-{seq}", "traits": {"seq": seq, "plan": "team"}}
    assert seqs == set(range(COUNT))
    assert dict(by_type) == summary["sent"]
    assert collector.count("shared_events_rejected") == 0
