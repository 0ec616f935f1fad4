"""The question registry: every question declared once, as data.

:data:`QUESTIONS` maps a name to its :class:`QuestionSpec` (parameters, answer function, tables,
headline figures, charts, suite settings). :func:`ask` answers one from any face. The CLI
(:mod:`cleanpath.cli.questions`), the REST service (:mod:`cleanpath.service.questions`), the dashboard
(``GET /api/questions``), the demo and report (:mod:`cleanpath.suite`) and docs/cli.md are built from it.
"""

from cleanpath.registry.core import Ask, ChartSpec, QuestionSpec, TableSpec, ask, convert_values
from cleanpath.registry.params import KINDS, REQUIRED, Auto, Param, parse_amount, parse_distance
from cleanpath.registry.questions import QUESTIONS, default_packs, question

__all__ = ["Ask", "ChartSpec", "QuestionSpec", "TableSpec", "ask", "convert_values", "KINDS", "REQUIRED",
           "Auto", "Param", "parse_amount", "parse_distance", "QUESTIONS", "default_packs", "question"]
