"""The cache of a machine without Redis: Django's FileBasedCache, culled at most once a while,
read without a thread hop, and a file unchanged since it was last read not read again."""

import os
import pickle
import time
import zlib

from django.core.cache.backends import filebased

CULL_SECONDS = 10.0  # a process counts the cache's files (and culls past MAX_ENTRIES) at most this often

# A file last written longer ago than this (past the file system's timestamp granularity) is
# known by its inode, modification time and size: while they are the same, it holds what it held.
STABLE_SECONDS = 2.0
KEPT_FILES = 100_000  # file names a process keeps (then it forgets them all and works them out again)
_files: dict[tuple, str] = {}  # (directory, key prefix, default version, key, version) -> file name
_dirs_made: set[str] = set()  # cache directories made (or found) by this process
KEPT_MAX = 100_000  # files whose values a process keeps (then it forgets them all and reads again)
KEPT_TYPES = (str, bytes, int, float, bool, type(None))  # immutable: a caller can't change the kept one
_kept: dict[str, tuple[tuple[int, int, int], float | None, object]] = {}  # file -> (stamp, expiry, value)


class FileBasedCache(filebased.FileBasedCache):
    """Django's FileBasedCache (the same files, keys and expiry), whose writes (`set`, `add`)
    count the directory's entries to cull past MAX_ENTRIES at most once every CULL_SECONDS per
    process rather than at every write: Django's lists every file of the cache at each write
    (filebased.py, `_cull`, Django 5.2), so that with one access version per user
    (chat.access), thousands of files, each log-in and each first socket of a user cost a
    directory listing of all of them. Between counts the cache may pass MAX_ENTRIES by what is
    written meanwhile; the next count culls as Django's would."""

    # Monotonic time of this process's next count, per cache directory: Django makes a cache
    # instance per thread and per asyncio context (each socket's task has its own), so a time
    # kept on the instance let every new socket count the whole directory again.
    _next_culls: dict[str, float] = {}

    def __init__(self, dir, params):
        """Django's, that makes the directory once per process: an instance is made per thread and
        asyncio context (each socket's task), and each made it again (a write still does, after
        Django's: the directory may have been removed since)."""
        filebased.BaseCache.__init__(self, params)
        self._dir = os.path.abspath(dir)
        if self._dir not in _dirs_made:
            self._createdir()
            _dirs_made.add(self._dir)

    def get(self, key, default=None, version=None):
        """Django's `get` (the same files, format and expiry), that reads a file again only when
        it changed: a value of KEPT_TYPES from a file last written more than STABLE_SECONDS ago
        is kept, per process, with the file's inode, modification time and size, and served while
        a stat() finds them the same (a write replaces the file: a new inode and time). Every
        frame of every socket reads its user's access version (chat.access): a stat costs a
        tenth of opening, reading, decompressing and unpickling the file."""
        fname = self._key_to_file(key, version)
        try:
            stat = os.stat(fname)
        except FileNotFoundError:
            _kept.pop(fname, None)
            return default
        now = time.time()
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        kept = _kept.get(fname)
        if kept is not None and kept[0] == stamp and (kept[1] is None or kept[1] >= now):
            return kept[2]
        try:
            with open(fname, "rb") as f:
                try:
                    expiry = pickle.load(f)
                except EOFError:
                    expiry = 0  # an empty file is expired, as Django's _is_expired says
                if expiry is not None and expiry < now:
                    f.close()
                    self._delete(fname)
                    return default
                value = pickle.loads(zlib.decompress(f.read()))
        except FileNotFoundError:
            return default
        if isinstance(value, KEPT_TYPES) and stat.st_mtime_ns < (now - STABLE_SECONDS) * 1e9:
            if len(_kept) >= KEPT_MAX:
                _kept.clear()
            _kept[fname] = (stamp, expiry, value)
        return value

    def _key_to_file(self, key, version=None):
        """Django's file name for `key`, remembered by the process (at most KEPT_FILES), not by
        the instance (one per socket): the key's validation and hash cost more than a kept read."""
        memo = (self._dir, self.key_prefix, self.version, key, version)
        fname = _files.get(memo)
        if fname is None:
            if len(_files) >= KEPT_FILES:
                _files.clear()
            fname = _files[memo] = super()._key_to_file(key, version)
        return fname

    async def aget(self, key, default=None, version=None):
        """`get`, in the caller's event loop rather than through a thread (Django's default
        async method): reading one small file of a local directory costs less than the hop,
        and every frame of every socket reads its user's access version (chat.access)."""
        return self.get(key, default, version)

    def _cull(self):
        now = time.monotonic()
        if now < self._next_culls.get(self._dir, 0.0):
            return
        self._next_culls[self._dir] = now + CULL_SECONDS
        super()._cull()
