"""The self-contained HTML report (inline SVG map and charts) over any set of question results."""
