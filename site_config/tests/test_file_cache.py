"""The file cache of a machine without Redis counts its files to cull at most every CULL_SECONDS,
not at every write, and still culls past MAX_ENTRIES; its async reads take no thread hop."""

import threading

from site_config import file_cache


def test_writes_count_the_caches_files_once_a_while_and_cull_past_the_limit(tmp_path, monkeypatch):
    cache = file_cache.FileBasedCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 10, "CULL_FREQUENCY": 2}})
    clock = [1000.0]
    monkeypatch.setattr(file_cache.time, "monotonic", lambda: clock[0])
    listings = []
    real_list = cache._list_cache_files
    monkeypatch.setattr(cache, "_list_cache_files", lambda: listings.append(1) or real_list())

    for n in range(30):
        cache.set(f"key{n}", n)
    assert len(listings) == 1  # Django's own lists the directory at each of the 30 writes
    assert len(real_list()) == 30  # past MAX_ENTRIES meanwhile

    clock[0] += file_cache.CULL_SECONDS
    cache.add("one-more", 1)
    assert len(listings) == 2
    assert len(real_list()) == 31 - 30 // 2  # culled as Django's culls: half of them, at random


def test_the_caches_of_other_sockets_on_one_directory_share_the_count(tmp_path, monkeypatch):
    """Django makes a cache instance per thread and per asyncio context (each socket's task has
    one): a new instance on the same directory does not count its files again before the time."""
    clock = [5000.0]
    monkeypatch.setattr(file_cache.time, "monotonic", lambda: clock[0])
    listings = []
    for n in range(20):
        cache = file_cache.FileBasedCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 10}})
        real_list = cache._list_cache_files
        monkeypatch.setattr(cache, "_list_cache_files", lambda real_list=real_list: listings.append(1) or real_list())
        cache.add(f"version{n}", n)
    assert len(listings) == 1
    clock[0] += file_cache.CULL_SECONDS
    other = file_cache.FileBasedCache(str(tmp_path / "elsewhere"), {})
    monkeypatch.setattr(other, "_list_cache_files", lambda: listings.append(1) or [])
    other.add("version", 1)
    cache.add("one-more", 1)
    assert len(listings) == 3  # the other directory's own count, and this one's after the time


async def test_an_async_read_is_made_in_the_callers_thread(tmp_path, monkeypatch):
    cache = file_cache.FileBasedCache(str(tmp_path), {})
    cache.set("version", "v1")
    threads = []
    real_get = cache.get
    monkeypatch.setattr(cache, "get", lambda *a: threads.append(threading.current_thread()) or real_get(*a))
    assert await cache.aget("version") == "v1"
    assert await cache.aget("missing", "none") == "none"
    assert threads == [threading.current_thread()] * 2
