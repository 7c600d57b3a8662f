"""The read API's page cache and its setting (docs/API.md, Caching)."""

from __future__ import annotations

import pytest

from api.page_cache import ENTRY_BYTES, CachedPage, PageCache
from api.settings import InvalidApiSetting, api_settings


def page(size: int, rows: int = 1) -> CachedPage:
    return CachedPage(b"x" * size, "application/json", rows, ())


def test_the_least_recently_used_pages_go_first_when_the_bytes_run_out() -> None:
    cache = PageCache(max_bytes=2 * ENTRY_BYTES + 250)
    cache.put("a", page(100))
    cache.put("b", page(100))
    assert cache.get("a") is not None  # now "b" is the least recently used
    cache.put("c", page(100))
    assert cache.get("b") is None
    assert cache.get("a") is not None and cache.get("c") is not None
    assert cache.size_bytes == 2 * ENTRY_BYTES + 200


def test_a_page_put_again_replaces_its_bytes_and_a_page_larger_than_the_cache_is_not_kept() -> None:
    cache = PageCache(max_bytes=ENTRY_BYTES + 100)
    cache.put("a", page(60))
    cache.put("a", page(40, rows=2))
    assert cache.size_bytes == ENTRY_BYTES + 40
    assert cache.get("a") == page(40, rows=2)
    cache.put("big", page(101))
    assert cache.get("big") is None
    assert cache.get("a") is not None


def test_a_cache_of_zero_bytes_keeps_nothing() -> None:
    cache = PageCache(max_bytes=0)
    cache.put("a", page(1))
    cache.put("empty", page(0, rows=0))  # an NDJSON page without rows has no bytes
    assert len(cache) == 0


def test_the_setting_is_megabytes_zero_turns_the_cache_off_and_bad_values_name_it() -> None:
    assert api_settings({}).page_cache_bytes == 64 * 2**20
    assert api_settings({"ACD_API_PAGE_CACHE_MB": "0.5"}).page_cache_bytes == 2**19
    assert api_settings({"ACD_API_PAGE_CACHE_MB": "0"}).page_cache_bytes == 0
    for bad in ("-1", "lots", "nan", "inf"):
        with pytest.raises(
            InvalidApiSetting, match="ACD_API_PAGE_CACHE_MB must be a number of 0 or more"
        ):
            api_settings({"ACD_API_PAGE_CACHE_MB": bad})
