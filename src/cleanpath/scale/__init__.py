"""Scale-out: one executor API over a loop, local processes, or a Dask cluster.

See :func:`cleanpath.scale.executor.get_executor` and docs/scale-out.md.
"""

from cleanpath.scale.executor import (EXECUTORS, DaskExecutor, Executor, LocalExecutor,
                                      ProcessExecutor, chunks, get_executor)

__all__ = ["EXECUTORS", "DaskExecutor", "Executor", "LocalExecutor", "ProcessExecutor", "chunks",
           "get_executor"]
