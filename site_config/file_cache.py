"""The cache of a machine without Redis: Django's FileBasedCache, culled at most once a while and
read without a thread hop."""

import time

from django.core.cache.backends import filebased

CULL_SECONDS = 10.0  # a process counts the cache's files (and culls past MAX_ENTRIES) at most this often


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
