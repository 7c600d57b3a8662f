"""Where the sample world's API payloads live on disk, and how they are written and read.

Layout under the output directory (every file is UTF-8 JSON, one object per line):

```
manifest.json                               what was generated, ids of accounts, deliberate faults
meta/act_<account>/ads.jsonl                one ad per line: {"ad": {…fixed fields}, "history":
                                            [[epoch, status, effective_status], …]}
meta/act_<account>/insights/<date>.jsonl    that day's level=ad insights rows, all fields,
                                            numbers as strings, missing values left out
tiktok/<advertiser>/ads.jsonl               {"ad": {…fixed fields}, "history": [[epoch,
                                            operation_status, secondary_status], …]}
tiktok/<advertiser>/report/<date>.jsonl     that day's report/integrated rows
                                            ({"dimensions": …, "metrics": …all metrics})
tiktok-display/videos.jsonl                 {"video": {…fixed fields}, "daily": [[date, views,
                                            likes, comments, shares], …]} (end-of-day totals)
stripe/<resource>.jsonl                     customers, products, prices, subscriptions, invoices,
                                            charges, refunds, events: final state, newest first
stripe/<resource>.index.tsv                 id, created, byte offset, byte length per object,
                                            in the same order
```

Per-day files let the transport answer any date range by reading only those days; the
Stripe index lets it page (`starting_after`, `created[gt]`) by reading only the objects on
the page. Statuses and counters are stored as histories so the transport can answer "as of"
any moment.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

STRIPE_RESOURCES = (
    "customers",
    "products",
    "prices",
    "subscriptions",
    "invoices",
    "charges",
    "refunds",
    "events",
)


def dumps(obj: Any) -> str:
    """The one JSON encoding of every payload file (stable bytes for a given world)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class WorldFiles:
    """Paths of one sample world's payloads."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    def meta_ads(self, account_id: str) -> Path:
        return self.root / "meta" / f"act_{account_id}" / "ads.jsonl"

    def meta_insights(self, account_id: str, day: date) -> Path:
        return self.root / "meta" / f"act_{account_id}" / "insights" / f"{day.isoformat()}.jsonl"

    def tiktok_ads(self, advertiser_id: str) -> Path:
        return self.root / "tiktok" / advertiser_id / "ads.jsonl"

    def tiktok_report(self, advertiser_id: str, day: date) -> Path:
        return self.root / "tiktok" / advertiser_id / "report" / f"{day.isoformat()}.jsonl"

    @property
    def tiktok_videos(self) -> Path:
        return self.root / "tiktok-display" / "videos.jsonl"

    def stripe(self, resource: str) -> Path:
        return self.root / "stripe" / f"{resource}.jsonl"

    def stripe_index(self, resource: str) -> Path:
        return self.root / "stripe" / f"{resource}.index.tsv"

    def stripe_staging(self, resource: str) -> Path:
        return self.root / "stripe" / f".{resource}.unsorted.jsonl"


def write_jsonl(path: Path, rows: list[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(dumps(row))
            handle.write("\n")


def read_jsonl(path: Path) -> list[Any]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


class StripeStore:
    """Collects Stripe objects as they are generated, then writes them newest first.

    Objects are appended to a staging file as they come (any order); `finish` sorts their
    (created, id) keys — a few dozen bytes per object — and copies the bytes into the final,
    ordered file with its index. Memory stays small whatever the world's size.
    """

    def __init__(self, files: WorldFiles) -> None:
        self.files = files
        self.keys: dict[str, list[tuple[int, str, int, int]]] = {r: [] for r in STRIPE_RESOURCES}
        self.handles: dict[str, BinaryIO] = {}
        (files.root / "stripe").mkdir(parents=True, exist_ok=True)

    def add(self, resource: str, obj: dict[str, Any]) -> None:
        handle = self.handles.get(resource)
        if handle is None:
            handle = self.files.stripe_staging(resource).open("wb")
            self.handles[resource] = handle
        data = (dumps(obj) + "\n").encode()
        self.keys[resource].append((obj["created"], obj["id"], handle.tell(), len(data)))
        handle.write(data)

    def counts(self) -> dict[str, int]:
        return {resource: len(keys) for resource, keys in self.keys.items()}

    def finish(self) -> None:
        for handle in self.handles.values():
            handle.close()
        for resource in STRIPE_RESOURCES:
            keys = sorted(self.keys[resource], key=lambda key: (key[0], key[1]), reverse=True)
            staging = self.files.stripe_staging(resource)
            target = self.files.stripe(resource)
            with (
                target.open("wb") as out,
                self.files.stripe_index(resource).open("w", encoding="utf-8", newline="\n") as idx,
            ):
                source = staging.open("rb") if staging.exists() else None
                try:
                    for created, object_id, offset, length in keys:
                        assert source is not None
                        source.seek(offset)
                        position = out.tell()
                        out.write(source.read(length))
                        idx.write(f"{object_id}\t{created}\t{position}\t{length}\n")
                finally:
                    if source is not None:
                        source.close()
            staging.unlink(missing_ok=True)
