"""Which vendors a question treats as untrusted (kept for existing imports).

The grammar, parser and resolver live in :mod:`cleanpath.policy.vendorset`; this module only
re-exports them under the questions' names. See that module for the grammar (vendor names,
packs, ``country:CC``, ``only:A+B``, ``default``, quoting, legal-name commas).
"""

from __future__ import annotations

import datetime as dt
from typing import Mapping

from cleanpath.policy.vendorset import (SETTING, ResolvedVendorSet, VendorSet, VendorSpec,
                                        describe_vendor_set, explain_untrusted, explain_vendor_set,
                                        parse_vendor_set, resolve_untrusted, resolve_vendor_set)

__all__ = ["SETTING", "ResolvedVendorSet", "VendorSet", "VendorSpec", "describe_vendor_set",
           "explain_untrusted", "explain_vendor_set", "parse_vendor_set", "resolve_trust",
           "resolve_untrusted", "resolve_vendor_set"]


def resolve_trust(net, trust: VendorSpec = None, *, as_of: dt.date | None = None,
                  packs: Mapping | None = None, setting: str = SETTING) -> frozenset[str]:
    """The untrusted vendor ids a setting names in a network: :func:`resolve_untrusted`.

    ``setting`` names the option in problems (``trust`` for a REST query parameter).
    """
    return resolve_untrusted(net, trust, as_of=as_of, packs=packs, setting=setting)
