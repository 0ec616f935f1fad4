"""Policy as code: rules with dates and legal sources, checked against a network.

A *policy pack* is a YAML file of rules (``forbid``, ``remove_by``, ``cap``, ``no_new``,
``funding``, ``clean_path``) over *vendor sets* (by id, headquarters country or dated list
membership) and *scopes* (domain, role, generation, operator, country, site kind, region,
distance to sensitive sites, polygons, management links), combined with ``all`` / ``any`` /
``not``. Every rule cites its instrument, date and URL. Packs for the laws in force ship inside
the package (``cleanpath policy list``)::

    from cleanpath.policy import load_policies
    from cleanpath.analysis.audit import audit_network
    result = audit_network(net, policies="uk-tsa,de-2024", as_of="2025-01-01")
    result.tables["findings"]

The language is documented by :mod:`cleanpath.policy.language`; files are read by
:mod:`cleanpath.policy.loader` and evaluated by :mod:`cleanpath.policy.engine`.
"""

from cleanpath.policy.engine import AuditContext, evaluate, findings_frame
from cleanpath.policy.language import (CAP_MEASURES, RULE_KINDS, SEVERITIES, Citation, Policy,
                                       Rule, severity_rank)
from cleanpath.policy.loader import load_policies, load_policy, rules_of, shipped_packs

__all__ = [
    "AuditContext", "CAP_MEASURES", "Citation", "Policy", "RULE_KINDS", "Rule", "SEVERITIES",
    "evaluate", "findings_frame", "load_policies", "load_policy",
    "rules_of", "severity_rank", "shipped_packs",
]
