"""Pages already answered, kept in memory and keyed by their ETag (docs/API.md, Caching).

A page's ETag names its mart's build, the key's product scope and the query, and the same
build, scope and query give the same bytes: that is what lets the API answer `304`. The same
fact lets it answer a repeated request from memory: the key is still looked up, rate-limited,
checked against the mart and audited on every request; only the query and its encoding are
skipped. A new build of the mart changes the ETag, so a page is never served past its build.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    media_type: str
    rows: int
    headers: tuple[tuple[str, str], ...]  # those the page itself adds (X-Next-Cursor)


ENTRY_BYTES = 256  # what an entry costs besides its body (its key, headers and objects)


def _cost(page: CachedPage) -> int:
    return ENTRY_BYTES + len(page.body)


class PageCache:
    """The most recently used pages, up to `max_bytes` in all (0: keep none). Used on the event
    loop only, so it takes no lock."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[str, CachedPage] = OrderedDict()
        self._bytes = 0

    def get(self, etag: str) -> CachedPage | None:
        page = self._pages.get(etag)
        if page is not None:
            self._pages.move_to_end(etag)
        return page

    def put(self, etag: str, page: CachedPage) -> None:
        cost = _cost(page)
        if cost > self.max_bytes:
            return
        old = self._pages.pop(etag, None)
        if old is not None:
            self._bytes -= _cost(old)
        self._pages[etag] = page
        self._bytes += cost
        while self._bytes > self.max_bytes:
            _, evicted = self._pages.popitem(last=False)
            self._bytes -= _cost(evicted)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._pages)
