"""HiGHS instances that keep stdout clean: one guard for every solver use in the package.

stdout carries results only (``--format json`` must parse). HiGHS prints its copyright banner on
stdout when the first instance of a process is built, before any option can switch it off, and logs
to stdout while it solves. :func:`new_highs` builds the first instance with file descriptor 1
pointed at the null device (or at stderr with ``verbose``) and either switches the log off or,
with ``verbose``, sends it to stderr through HiGHS's logging callback. This module sits beside
``errors`` and ``result`` at the bottom of the package, so ``analysis`` and ``plan`` both use it.
"""

from __future__ import annotations

import os
import sys
import threading

import highspy

_BANNER_LOCK = threading.Lock()
_BANNER_DONE = False


def new_highs(*, verbose: bool = False) -> highspy.Highs:
    """A HiGHS instance that writes nothing to stdout.

    Parameters
    ----------
    verbose
        Send the banner and the solver's log to stderr instead of dropping them.

    Returns
    -------
    highspy.Highs
        With ``output_flag`` set to ``verbose`` and console logging off.
    """
    global _BANNER_DONE
    with _BANNER_LOCK:
        if _BANNER_DONE:
            h = highspy.Highs()
        else:
            # the banner is written once per process, by the first constructor, straight to fd 1
            sys.stdout.flush()
            target = 2 if verbose else os.open(os.devnull, os.O_WRONLY)
            saved = os.dup(1)
            try:
                os.dup2(target, 1)
                h = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                if target != 2:
                    os.close(target)
            _BANNER_DONE = True
    h.setOptionValue("output_flag", bool(verbose))
    if verbose:
        h.setOptionValue("log_to_console", False)  # HiGHS's console is stdout; the callback is not
        h.cbLogging.subscribe(lambda e: sys.stderr.write(e.message))
    return h


__all__ = ["new_highs"]
