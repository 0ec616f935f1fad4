"""cleanpath: where untrusted vendors sit in a telecom network, what they could see or switch off,
which laws that breaks, and the cheapest funded way out.

The Python API mirrors the CLI::

    import cleanpath
    ws = cleanpath.open_workspace("cleanpath.duckdb")
    cleanpath.ingest(ws, "topologyzoo", ["Dfn.gml"], snapshot="main")
    net = ws.network("main")          # tables as attributes: net.sites, net.elements, ...
    cleanpath.run_info(net).tables["by_vendor"]
    g = net.graph()                   # sparse element graph, built once and cached
    cleanpath.ask("outage", net, vendor="huawei", mode="kill")   # any question, as the CLI asks it
"""

__version__ = "0.1.0"

from cleanpath.errors import CleanpathError, Problem, SnapshotNotFound, ValidationError, WorkspaceError  # noqa: E402
from cleanpath.model.network import Network, validate_tables  # noqa: E402
from cleanpath.model.schema import TABLES  # noqa: E402
from cleanpath.result import Result  # noqa: E402
from cleanpath.store.workspace import Workspace, open_workspace  # noqa: E402
from cleanpath.store.ingest import ImportReport, ingest  # noqa: E402
from cleanpath.analysis.info import run_info  # noqa: E402
from cleanpath.analysis.audit import audit_network, audit_timeline  # noqa: E402
from cleanpath.analysis.compare import compare_snapshots  # noqa: E402
from cleanpath.policy.loader import load_policies  # noqa: E402


def ask(question: str, net=None, /, **params) -> "Result":
    """Ask a registered question exactly as the CLI and the REST service do.

    Parameters
    ----------
    question
        A name of :data:`cleanpath.registry.QUESTIONS` (``audit``, ``outage``, ``plan``...).
    net
        The network, or a mapping of snapshot name to network (``compare`` takes two).
    **params
        The question's parameters by name (``cleanpath <question> --help`` lists them), as Python
        values or as the text the CLI takes (``budget="50m"``, ``untrusted="huawei; zte"``).

    Returns
    -------
    Result
    """
    from cleanpath.registry import ask as _ask
    from cleanpath.registry import question as _question

    return _ask(_question(question), net if net is not None else {}, params)

__all__ = [
    "CleanpathError", "ImportReport", "Network", "Problem", "Result", "SnapshotNotFound", "TABLES",
    "ValidationError", "Workspace", "WorkspaceError", "ingest", "open_workspace", "run_info",
    "validate_tables", "__version__", "audit_network", "audit_timeline", "compare_snapshots",
    "load_policies", "ask",
]
