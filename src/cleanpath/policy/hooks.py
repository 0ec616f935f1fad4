"""Plug-in points the audit engine calls but does not implement.

``clean_path`` rules ask whether each sensitive site has an end-to-end path through trusted
equipment. That is a graph question answered by the clean-path engine (``cleanpath clean-path``),
which registers itself here::

    from cleanpath.policy.hooks import register_clean_path_engine
    register_clean_path_engine(my_engine)

The first time the audit needs an engine and none is registered, it imports
``cleanpath.analysis.clean_path`` (if present), which registers its own. Without an engine, a
``clean_path`` rule yields one ``info`` finding saying it was not evaluated.

The engine contract
-------------------
``engine(net, *, sensitive_ids, untrusted, as_of) -> pandas.DataFrame`` where

* ``net`` is the :class:`~cleanpath.model.network.Network`;
* ``sensitive_ids`` are the ``sensitive_id`` values to check;
* ``untrusted`` is a frozenset of vendor ids that must not appear on the path;
* ``as_of`` is the audit date (:class:`datetime.date`).

It returns one row per sensitive site (and operator, if it checks them separately) with columns
``sensitive_id`` (str), ``clean`` (bool) and optionally ``operator_id`` (str) and ``blocking``
(a list of element ids that block a clean path). A sensitive site passes when any of its rows is
clean. This matches the ``clean_path`` table of the clean-path question.

The audit reuses an answer for another ``as_of`` at which the same elements are present (installed
by then and in service), so an engine must not depend on ``as_of`` in any other way.
"""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Callable, Protocol

import pandas as pd


class CleanPathEngine(Protocol):
    def __call__(self, net, *, sensitive_ids: list[str], untrusted: frozenset[str],
                 as_of: dt.date) -> pd.DataFrame: ...


_engine: CleanPathEngine | None = None
_looked = False

#: Module that registers the clean-path engine when imported (looked for once, if present).
ENGINE_MODULE = "cleanpath.analysis.clean_path"


def register_clean_path_engine(engine: CleanPathEngine | None) -> CleanPathEngine | None:
    """Set the engine ``clean_path`` rules use (None removes it); returns the previous one.

    An explicit call, even with None, also stops :func:`clean_path_engine` from importing
    :data:`ENGINE_MODULE` to find one.
    """
    global _engine, _looked
    previous, _engine, _looked = clean_path_engine(), engine, True
    return previous


def clean_path_engine() -> CleanPathEngine | None:
    """The registered clean-path engine, or None.

    The first call imports :data:`ENGINE_MODULE` when it exists, which registers its engine, so an
    audit evaluates ``clean_path`` rules without the caller importing the graph questions first.
    """
    global _looked
    if _engine is None and not _looked:
        _looked = True
        try:
            importlib.import_module(ENGINE_MODULE)
        except ImportError:  # an installation without the graph questions
            pass
    return _engine


#: Signature of an engine, for type checkers that do not read Protocols.
EngineFunction = Callable[..., pd.DataFrame]
