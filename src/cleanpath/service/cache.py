"""The service's result cache: bounded in bytes, in memory and on disk, kept across restarts.

A question's result is keyed by the question, its normalised parameters and the version of every
snapshot it reads (see :meth:`cleanpath.service.core.Service.result_key`); the key's hash is the
``result_id``. Each result is written once to a sidecar directory next to the workspace
(``<workspace>.service/results/<result_id>.pkl`` with a small ``.json`` description beside it), so
a restarted service answers what it answered before without recomputing. Results from snapshot
versions that no longer exist are deleted when the service starts and whenever a snapshot changes.

Two byte bounds, both least-recently-used first:

* memory: the result tables' in-memory size plus the JSON payloads made from them;
* disk: the size of the pickled files.

The pickles are the service's own files in a directory only its user can read (mode 0700); they
are never taken from a request. Pickle keeps the tables' Arrow-backed dtypes exactly, which a
round-trip through CSV or JSON would not.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Iterable

log = logging.getLogger("cleanpath.service")


def _frame_bytes(result) -> int:
    """In-memory size of a Result's tables (deep: strings counted)."""
    total = 0
    for df in result.tables.values():
        try:
            total += int(df.memory_usage(index=True, deep=True).sum())
        except Exception:  # an exotic column type: fall back to a rough figure rather than fail the cache
            total += int(df.size) * 16
    return total


class ByteLRU:
    """A thread-safe least-recently-used mapping bounded by the total ``size(value)`` in bytes.

    A value larger than the whole bound is not kept (it would evict everything and then itself).
    ``resize(key)`` re-measures a value that grew after it was stored.
    """

    def __init__(self, max_bytes: int, size: Callable[[Any], int]):
        self.max_bytes = max(0, int(max_bytes))
        self._size = size
        self._d: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0

    def get(self, key: Any) -> Any:
        with self._lock:
            hit = self._d.get(key)
            if hit is None:
                return None
            self._d.move_to_end(key)
            return hit[0]

    def put(self, key: Any, value: Any) -> None:
        n = int(self._size(value))
        with self._lock:
            old = self._d.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            if n > self.max_bytes:
                return
            self._d[key] = (value, n)
            self.bytes += n
            self._evict()

    def resize(self, key: Any) -> None:
        with self._lock:
            hit = self._d.get(key)
        if hit is not None:
            self.put(key, hit[0])

    def _evict(self) -> None:
        while self.bytes > self.max_bytes and self._d:
            _k, (_v, n) = self._d.popitem(last=False)
            self.bytes -= n

    def drop(self, keep: Callable[[Any, Any], bool]) -> int:
        """Remove the entries ``keep(key, value)`` rejects; returns how many."""
        with self._lock:
            gone = [k for k, (v, _n) in self._d.items() if not keep(k, v)]
            for k in gone:
                self.bytes -= self._d.pop(k)[1]
            return len(gone)

    def values(self) -> list[Any]:
        with self._lock:
            return [v for v, _n in self._d.values()]

    def __len__(self) -> int:
        return len(self._d)


class ResultCache:
    """Question results, bounded in bytes in memory and on disk, persistent across restarts.

    Parameters
    ----------
    directory
        Where results are kept on disk (created, mode 0700); None keeps them in memory only.
    memory_bytes
        Bound of the in-memory tier (result tables plus their JSON payloads).
    disk_bytes
        Bound of the files on disk.
    current
        ``current(snapshots, versions)`` is True when a stored result's snapshot versions are still
        the workspace's; stale results are deleted on start.
    """

    def __init__(self, directory: Path | None, *, memory_bytes: int, disk_bytes: int,
                 current: Callable[[tuple[str, ...], tuple[str, ...]], bool] | None = None):
        self.dir = directory
        self.memory = ByteLRU(memory_bytes, lambda e: e.nbytes())
        self.disk_bytes = max(0, int(disk_bytes))
        self._lock = threading.Lock()
        # result_id -> (bytes on disk, description); ordered by last use (for the disk bound)
        self._index: OrderedDict[str, tuple[int, dict[str, Any]]] = OrderedDict()
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            os.chmod(directory, 0o700)
            self._scan(current)

    # -- disk ------------------------------------------------------------------------------------
    def _paths(self, rid: str) -> tuple[Path, Path]:
        assert self.dir is not None
        return self.dir / f"{rid}.pkl", self.dir / f"{rid}.json"

    def _scan(self, current) -> None:
        """Index the results on disk, deleting stale, partial and unreadable ones."""
        assert self.dir is not None
        found = []
        for meta_path in self.dir.glob("*.json"):
            rid = meta_path.stem
            pkl = meta_path.with_suffix(".pkl")
            try:
                meta = json.loads(meta_path.read_text("utf-8"))
                size = pkl.stat().st_size
                stale = current is not None and not current(tuple(meta["snapshots"]), tuple(meta["versions"]))
            except (OSError, ValueError, KeyError, TypeError):
                stale = True
                meta, size = {}, 0
            if stale:
                self._unlink(rid)
                continue
            found.append((meta_path.stat().st_mtime, rid, size, meta))
        for tmp in self.dir.glob("*.tmp"):  # a write cut short by a crash
            tmp.unlink(missing_ok=True)
        for _t, rid, size, meta in sorted(found):
            self._index[rid] = (size, meta)
        self._evict_disk()

    def _unlink(self, rid: str) -> None:
        for p in self._paths(rid):
            p.unlink(missing_ok=True)

    def _evict_disk(self) -> None:
        total = sum(n for n, _m in self._index.values())
        while total > self.disk_bytes and self._index:
            rid, (n, _m) = self._index.popitem(last=False)
            total -= n
            self._unlink(rid)

    def disk_usage(self) -> int:
        """Bytes of results on disk (as indexed)."""
        with self._lock:
            return sum(n for n, _m in self._index.values())

    def _write(self, entry) -> None:
        pkl, meta_path = self._paths(entry.result_id)
        data = pickle.dumps(entry.state(), protocol=pickle.HIGHEST_PROTOCOL)
        if len(data) > self.disk_bytes:
            return
        meta = entry.meta()
        meta["versions"] = list(entry.versions)
        for path, blob in ((pkl, data), (meta_path, json.dumps(meta, default=str).encode("utf-8"))):
            tmp = path.with_name(path.name + ".tmp")
            with open(tmp, "wb") as f:
                f.write(blob)
            os.replace(tmp, path)
        with self._lock:
            self._index[entry.result_id] = (len(data), meta)
            self._index.move_to_end(entry.result_id)
            self._evict_disk()

    def _load(self, rid: str):
        from cleanpath.service.core import Entry

        pkl, _m = self._paths(rid)
        try:
            with open(pkl, "rb") as f:
                state = pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError) as e:
            log.warning("dropping unreadable cached result %s: %s", rid, e)
            with self._lock:
                self._index.pop(rid, None)
            self._unlink(rid)
            return None
        return Entry.from_state(state)

    # -- the mapping -------------------------------------------------------------------------------
    def get(self, rid: str):
        """The result ``rid`` from memory, else from disk (then kept in memory), else None."""
        hit = self.memory.get(rid)
        if hit is not None:
            return hit
        if self.dir is None:
            return None
        with self._lock:
            if rid not in self._index:
                return None
            self._index.move_to_end(rid)
        entry = self._load(rid)
        if entry is not None:
            self._adopt(entry)
            self.memory.put(rid, entry)
        return entry

    def _adopt(self, entry) -> None:
        entry.on_grow = lambda: self.memory.resize(entry.result_id)

    def put(self, entry) -> None:
        """Keep a new result in memory and write it to disk."""
        self._adopt(entry)
        self.memory.put(entry.result_id, entry)
        if self.dir is not None:
            try:
                self._write(entry)
            except OSError as e:  # a full disk costs the persistence of this result, not the answer
                log.error("could not keep result %s on disk: %s", entry.result_id, e)

    def drop_snapshot(self, snapshot: str) -> None:
        """Forget every result computed from ``snapshot`` (it changed or was deleted)."""
        self.memory.drop(lambda _k, e: snapshot not in e.snapshots)
        with self._lock:
            gone = [rid for rid, (_n, m) in self._index.items() if snapshot in m.get("snapshots", ())]
            for rid in gone:
                del self._index[rid]
        if self.dir is not None:
            for rid in gone:
                self._unlink(rid)

    def metas(self) -> Iterable[dict[str, Any]]:
        """Descriptions of every result kept (memory and disk), as ``GET /api/results`` lists them."""
        seen: dict[str, dict[str, Any]] = {}
        for e in self.memory.values():
            seen[e.result_id] = e.meta()
        with self._lock:
            for rid, (_n, m) in self._index.items():
                seen.setdefault(rid, {k: v for k, v in m.items() if k != "versions"})
        return list(seen.values())

