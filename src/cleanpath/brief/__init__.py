"""The allies brief: the US installations abroad and the networks that serve them, country by country.

:func:`run_brief` builds each country's network (generated draws for uncertainty, or given
snapshots), puts the shipped US installations on it and answers, with 90 % intervals over the
draws: how much of the RAN and core serving each installation is untrusted, whether each has a
clean path on each operator, what a hostile vendor could read of its traffic, what cleaning the
base-serving networks costs against full compliance with the country's own policy pack, and the
aid per year that would make removal break even for the operators.
"""

from cleanpath.brief.engine import DEFAULT_COUNTRIES, known_countries, run_brief

__all__ = ["DEFAULT_COUNTRIES", "known_countries", "run_brief"]
