"""Loading the policy files a vendor-set setting names (for the command line only).

The vendor-set resolver (:mod:`cleanpath.policy.vendorset`) reads no files. A face that allows
files (the CLI; never the REST service) calls :func:`load_pack_files` on the setting and hands the
result to the resolver (``packs=``) or attaches it to the parsed setting
(:meth:`~cleanpath.policy.vendorset.VendorSet.with_packs`)::

    spec = parse_vendor_set(text)
    spec = spec.with_packs(load_pack_files(spec, catalogue=net.catalogue))
    run_clean_path(net, trust=spec)
"""

from __future__ import annotations

from typing import Mapping

from cleanpath.errors import ProblemCollector, ValidationError
from cleanpath.model.vendors import VendorCatalogue
from cleanpath.policy.language import Policy
from cleanpath.policy.loader import load_policy
from cleanpath.policy.vendorset import SETTING, VendorSpec, looks_like_file, parse_vendor_set


def load_pack_files(spec: VendorSpec, *, catalogue: VendorCatalogue | None = None,
                    setting: str = SETTING) -> Mapping[str, Policy]:
    """Load every name token of a setting written like a path (``mine.yaml``, ``./rules/x.yml``).

    Parameters
    ----------
    spec
        The setting (text, list, or :class:`~cleanpath.policy.vendorset.VendorSet`).
    catalogue
        Resolves vendor names inside the files (pass ``Network.catalogue`` to allow the network's
        own vendors).
    setting
        Option name reported in problems.

    Returns
    -------
    dict
        Token -> loaded policy; empty when the setting names no file.

    Raises
    ------
    ValidationError
        Every problem of every file (missing file, YAML and policy errors with file and line).
    """
    if isinstance(spec, frozenset):
        return {}
    vs = parse_vendor_set(spec, setting=setting)
    out: dict[str, Policy] = {}
    problems = ProblemCollector()
    for name in vs.names():
        if looks_like_file(name) and name not in out:
            try:
                out[name] = load_policy(name, catalogue=catalogue)
            except ValidationError as e:
                problems.extend(e.problems)
    problems.raise_if_any()
    return out
