"""The executor API: same results in the same order from a loop, worker processes and a real Dask
LocalCluster; shared arguments; errors that reach the caller; bad settings refused."""

from __future__ import annotations

import os

import numpy as np
import pytest

from cleanpath.errors import ValidationError
from cleanpath.scale import DaskExecutor, chunks, get_executor


def weighted_sum(item: tuple[int, int], *, weights: np.ndarray | None = None, offset: int = 0) -> tuple:
    """A task: the sum of weights[start:stop] plus an offset, and the process it ran in."""
    start, stop = item
    w = np.ones(stop) if weights is None else np.asarray(weights)
    return float(w[start:stop].sum()) + offset, os.getpid()


def fail_on_three(item: int) -> int:
    if item == 3:
        raise ValueError(f"item {item} is bad")
    return item * 2


ITEMS = [(0, 10), (10, 25), (25, 26), (26, 100), (100, 1000), (5, 7)]
WEIGHTS = np.arange(1000, dtype=float)
EXPECTED = [float(WEIGHTS[a:b].sum()) + 7 for a, b in ITEMS]


def test_local_map_keeps_order_and_passes_shared_arguments():
    seen: list[int] = []
    with get_executor("local") as ex:
        out = ex.map(weighted_sum, ITEMS, weights=WEIGHTS, offset=7, on_done=seen.append)
    assert [o[0] for o in out] == EXPECTED
    assert seen == list(range(1, len(ITEMS) + 1))
    assert {o[1] for o in out} == {os.getpid()}
    assert ex.describe() == {"executor": "local", "workers": 1}
    assert get_executor(None).kind == "local"


def test_processes_run_elsewhere_in_order_and_raise_task_errors():
    with get_executor("processes", workers=2) as ex:
        seen: list[int] = []
        out = ex.map(weighted_sum, ITEMS, weights=WEIGHTS, offset=7, on_done=seen.append)
        assert [o[0] for o in out] == EXPECTED
        assert seen == list(range(1, len(ITEMS) + 1))  # one call per finished task, counting up
        seen.clear()
        assert [o[0] for o in ex.map(weighted_sum, ITEMS, on_done=seen.append)] == [
            float(b - a) for a, b in ITEMS]  # the kept pool reports progress too
        assert seen == list(range(1, len(ITEMS) + 1))
        assert os.getpid() not in {o[1] for o in out}
        assert ex.map(weighted_sum, []) == []
        with pytest.raises(ValueError, match="item 3 is bad"):
            ex.map(fail_on_three, [1, 2, 3, 4])
        # Without shared arguments the same two worker processes serve call after call.
        first = {o[1] for o in ex.map(weighted_sum, ITEMS)}
        second = {o[1] for o in ex.map(weighted_sum, ITEMS)}
        assert len(first | second) <= 2 and ex.map(fail_on_three, [5]) == [10]


def test_dask_local_cluster_two_workers():
    with get_executor("dask", workers=2) as ex:
        assert ex.workers == 2 and ex.describe()["scheduler"] == "LocalCluster"
        seen: list[int] = []
        out = ex.map(weighted_sum, ITEMS, weights=WEIGHTS, offset=7, on_done=seen.append)
        assert [o[0] for o in out] == EXPECTED
        assert seen == list(range(1, len(ITEMS) + 1))
        assert os.getpid() not in {o[1] for o in out}
        # A dict or list shared argument arrives whole, not scattered element by element.
        assert [o[0] for o in ex.map(weighted_sum, [(0, 3)], weights=[1.0, 2.0, 4.0])] == [7.0]
        with pytest.raises(ValueError, match="item 3 is bad"):
            ex.map(fail_on_three, [3])
    assert ex.client is None  # closed


def test_bad_settings_are_validation_errors():
    with pytest.raises(ValidationError, match="unknown executor"):
        get_executor("threads")
    with pytest.raises(ValidationError, match="only applies to the dask executor"):
        get_executor("processes", "tcp://127.0.0.1:8786")
    with pytest.raises(ValidationError, match="at least 1"):
        get_executor("processes", workers=0)


def test_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(ValidationError, match="cannot reach the Dask scheduler"):
        DaskExecutor("tcp://127.0.0.1:9", timeout="2s")


def test_chunks_cover_everything_evenly():
    for n, parts in [(10, 3), (3, 10), (0, 4), (1000, 7), (5, 1)]:
        rs = chunks(n, parts)
        flat = [i for r in rs for i in r]
        assert flat == list(range(n))
        assert all(len(r) > 0 for r in rs)
        if rs:
            assert max(map(len, rs)) - min(map(len, rs)) <= 1
