"""The file cache of a machine without Redis counts its files to cull at most every CULL_SECONDS,
not at every write, and still culls past MAX_ENTRIES; its async reads take no thread hop; a
file unchanged since it was read is not read again."""

import os
import threading
import time

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


def _aged(cache, key, seconds):
    """Make `key`'s file look last written `seconds` ago."""
    path = cache._key_to_file(key)
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_an_unchanged_file_is_not_read_again_and_a_write_is_seen_at_once(tmp_path, monkeypatch):
    """A value from a file written more than STABLE_SECONDS ago is kept while the file's inode,
    time and size stay; a write (a new file) or a delete is seen at the next read."""
    cache = file_cache.FileBasedCache(str(tmp_path), {})
    cache.set("version", "v1")
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    assert cache.get("version") == "v1" and cache.get("version") == "v1"
    assert len(opened) == 2  # written just now: read each time
    _aged(cache, "version", 10)
    assert [cache.get("version") for _ in range(5)] == ["v1"] * 5
    assert len(opened) == 3  # read once more, then kept
    cache.set("version", "v2")  # same size: a new file
    assert cache.get("version") == "v2"
    _aged(cache, "version", 10)
    assert cache.get("version") == "v2"
    cache.delete("version")
    assert cache.get("version", "gone") == "gone"


def test_a_kept_value_expires_and_a_mutable_one_is_never_kept(tmp_path, monkeypatch):
    cache = file_cache.FileBasedCache(str(tmp_path), {})
    clock = [time.time()]
    monkeypatch.setattr(file_cache.time, "time", lambda: clock[0])
    cache.set("short", "s", timeout=60)
    cache.set("listed", ["a"], timeout=None)
    _aged(cache, "short", 10)
    _aged(cache, "listed", 10)
    assert cache.get("short") == "s"
    got = cache.get("listed")
    got.append("changed by a caller")
    assert cache.get("listed") == ["a"]
    clock[0] += 61
    assert cache.get("short", "expired") == "expired"
    assert not os.path.exists(cache._key_to_file("short"))  # deleted, as Django's get deletes it


def test_a_new_instance_makes_no_directory_its_process_made_and_a_write_still_does(tmp_path, monkeypatch):
    """Each socket's task gets an instance of its own: the directory is made once a process (a
    write makes it again if it was removed, as Django's does)."""
    from django.core.cache.backends import filebased

    made = []
    real = filebased.safe_makedirs
    monkeypatch.setattr(filebased, "safe_makedirs", lambda *a, **kw: made.append(1) or real(*a, **kw))
    first = file_cache.FileBasedCache(str(tmp_path / "c"), {})
    second = file_cache.FileBasedCache(str(tmp_path / "c"), {})
    assert len(made) == 1 and first._key_to_file("k") == second._key_to_file("k")
    (tmp_path / "c").rmdir()
    second.set("k", "v")
    assert second.get("k") == "v"
