"""The cache, emptied for this test process only.

django-redis's `cache.clear()` empties the whole Redis database: the entries and rate-limit
buckets of the tests another xdist worker is running at that moment (each worker has its own key
prefix, sofinance/settings_test.py) went with it, and CI saw a test's 31st request get through a
limit of 30. `clear_own_cache()` deletes only the keys under this process's prefix.
"""

from __future__ import annotations

from django.core.cache import cache


def clear_own_cache() -> None:
    delete_pattern = getattr(cache, "delete_pattern", None)  # django-redis: keys under our prefix
    if delete_pattern is not None:
        delete_pattern("*")
    else:  # an in-process cache: this process's own
        cache.clear()
