"""Run independent tasks here, on this machine's cores, or on a Dask cluster, with one API.

::

    with get_executor("dask", scheduler="tcp://10.0.0.5:8786") as ex:
        results = ex.map(task, items, table=big_shared_table)   # in the order of items

``fn`` must be a module-level function (it is pickled to other processes and machines) and is
called as ``fn(item, **shared)``. Shared keyword arguments are sent once per worker, not once per
item: on Dask they are scattered with ``broadcast=True``; with processes they are handed to each
worker process once when its pool starts. ``on_done(n)`` is called in the caller's process each time
a task finishes (``n`` tasks done so far, in whatever order they finish), so a caller can show
progress without cutting its work into batches that each wait for their slowest task.

The kinds:

``local``
    A plain loop in this process; the default, and the reference the others must match.
``processes``
    A pool of worker processes on this machine (``spawn``, so DuckDB's threads never meet
    ``fork``).
``dask``
    A ``dask.distributed`` client: to the scheduler at ``scheduler`` (``tcp://host:8786``), or
    to a new ``LocalCluster`` of ``workers`` processes when no address is given.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any, Callable, Iterable, Sequence

from cleanpath.errors import ValidationError

EXECUTORS = ("local", "processes", "dask")


class Executor:
    """Maps a function over items and returns the results in order.

    Attributes
    ----------
    kind
        ``local``, ``processes`` or ``dask``.
    workers
        How many tasks run at once (callers size their partitions from it).
    threads_per_task
        Threads a task may use itself (DuckDB's ``threads``): all cores when local, 1 otherwise.
    """

    kind = "local"

    def __init__(self) -> None:
        self.workers = 1
        self.threads_per_task: int | None = None

    def map(self, fn: Callable[..., Any], items: Iterable[Any], *,
            on_done: Callable[[int], None] | None = None, **shared: Any) -> list[Any]:
        """``[fn(item, **shared) for item in items]``, possibly elsewhere; order is kept.
        ``on_done(n)`` is called here after each task, with the number of tasks finished so far."""
        out = []
        for item in items:
            out.append(fn(item, **shared))
            if on_done is not None:
                on_done(len(out))
        return out

    def close(self) -> None:
        """Release workers and connections (idempotent)."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} workers={self.workers}>"

    def describe(self) -> dict[str, Any]:
        """What ran the tasks, for a result's parameters."""
        return {"executor": self.kind, "workers": self.workers}


LocalExecutor = Executor


# -- processes -------------------------------------------------------------------------------------

_SHARED: dict[str, Any] = {}


def _set_shared(shared: dict[str, Any]) -> None:
    _SHARED.clear()
    _SHARED.update(shared)


def _call_with_shared(fn: Callable[..., Any], item: Any) -> Any:
    return fn(item, **_SHARED)


def _results(futures: list, on_done: Callable[[int], None] | None) -> list[Any]:
    """The futures' results in submission order, telling ``on_done`` as each one finishes."""
    if on_done is not None:
        for n, _ in enumerate(as_completed(futures), start=1):
            on_done(n)
    return [f.result() for f in futures]


class ProcessExecutor(Executor):
    """A pool of ``workers`` processes on this machine (default: one per core)."""

    kind = "processes"

    def __init__(self, workers: int | None = None) -> None:
        super().__init__()
        self.workers = int(workers or os.cpu_count() or 1)
        self.threads_per_task = 1
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self, shared: dict[str, Any]) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=get_context("spawn"),
                                   initializer=_set_shared, initargs=(shared,))

    def map(self, fn: Callable[..., Any], items: Iterable[Any], *,
            on_done: Callable[[int], None] | None = None, **shared: Any) -> list[Any]:
        items = list(items)
        if not items:
            return []
        if shared:
            # A pool of its own: the shared arguments travel once per worker process, at its start.
            with self._new_pool(shared) as pool:
                return _results([pool.submit(_call_with_shared, fn, i) for i in items], on_done)
        # Without shared arguments the workers (and their imports) are kept for the next call.
        if self._pool is None:
            self._pool = self._new_pool({})
        try:
            return _results([self._pool.submit(_call_with_shared, fn, i) for i in items], on_done)
        except BrokenProcessPool:
            self._pool = None  # a worker died (killed, out of memory): start afresh next time
            raise

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


# -- dask ------------------------------------------------------------------------------------------

class DaskExecutor(Executor):
    """A ``dask.distributed`` client.

    Parameters
    ----------
    scheduler
        Address of a running scheduler (``tcp://host:8786``); None starts a ``LocalCluster``.
    workers
        Worker processes of the ``LocalCluster`` (default: one per core); ignored with a scheduler.
    timeout
        How long to try reaching the scheduler.
    """

    kind = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None, *,
                 timeout: str = "20s") -> None:
        super().__init__()
        try:
            from distributed import Client, LocalCluster
        except ImportError as e:  # pragma: no cover - a dependency; only a broken install lands here
            raise ValidationError(f"the dask executor needs dask.distributed ({e}); "
                                  "install it with: pip install 'dask[distributed]'") from None
        self.scheduler = scheduler
        self._cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout=timeout)
            except (OSError, TimeoutError) as e:
                raise ValidationError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
        else:
            n = int(workers or os.cpu_count() or 1)
            self._cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=40)
            self.client = Client(self._cluster)
        info = self.client.scheduler_info()
        ws = info.get("workers", {})
        self.workers = max(1, sum(int(w.get("nthreads", 1)) for w in ws.values()))
        self.threads_per_task = 1

    def map(self, fn: Callable[..., Any], items: Iterable[Any], *,
            on_done: Callable[[int], None] | None = None, **shared: Any) -> list[Any]:
        items = list(items)
        if not items:
            return []
        # Wrapped in a list so a dict or list argument travels as one object, not element-wise.
        scattered = {k: self.client.scatter([v], broadcast=True)[0] for k, v in shared.items()}
        futures = self.client.map(fn, items, pure=False, **scattered)
        if on_done is not None:
            from distributed import as_completed as dask_as_completed

            for n, _ in enumerate(dask_as_completed(futures), start=1):
                on_done(n)
        return self.client.gather(futures)

    def close(self) -> None:
        if getattr(self, "client", None) is not None:
            self.client.close()
            self.client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def describe(self) -> dict[str, Any]:
        return {"executor": self.kind, "workers": self.workers,
                "scheduler": self.scheduler or "LocalCluster"}


def get_executor(kind: str | Executor | None = "local", scheduler: str | None = None, *,
                 workers: int | None = None) -> Executor:
    """An executor by name.

    Parameters
    ----------
    kind
        ``local`` (default), ``processes`` or ``dask``; an :class:`Executor` is returned as is.
    scheduler
        Dask scheduler address; only with ``dask``.
    workers
        Processes for ``processes`` or a Dask ``LocalCluster`` (default: one per core).

    Raises
    ------
    ValidationError
        For an unknown kind, a scheduler without ``dask``, or an unreachable scheduler.
    """
    if isinstance(kind, Executor):
        return kind
    kind = kind or "local"
    if kind not in EXECUTORS:
        raise ValidationError(f"unknown executor {kind!r}; use one of {', '.join(EXECUTORS)}")
    if scheduler and kind != "dask":
        raise ValidationError(f"--scheduler only applies to the dask executor, not {kind!r}")
    if workers is not None and int(workers) < 1:
        raise ValidationError(f"workers must be at least 1, not {workers}")
    if kind == "processes":
        return ProcessExecutor(workers)
    if kind == "dask":
        return DaskExecutor(scheduler, workers)
    return Executor()


def chunks(n: int, parts: int) -> Sequence[range]:
    """``parts`` contiguous ranges covering ``range(n)``, as even as possible (none empty)."""
    if n <= 0:
        return []
    parts = max(1, min(int(parts), n))
    bounds = [round(i * n / parts) for i in range(parts + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(parts)]
