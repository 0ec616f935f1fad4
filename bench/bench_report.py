"""Time the HTML report and its PDF on the demo's German network.

Usage: python bench/bench_report.py [--scale 0.05]

Builds the demo network, runs the suite once (not timed), then times ``write_report`` (summary
cards, map, charts, tables) and ``write_pdf`` (headless chromium), and prints sizes and pages.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
import time
from pathlib import Path

from cleanpath.demo import AS_OF, PACKS, build_example
from cleanpath.model.vendors import default_untrusted
from cleanpath.report.charts import charts_for
from cleanpath.report.html import write_report
from cleanpath.report.pdf import write_pdf
from cleanpath.suite import SuiteSettings, run_suite


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=0.05)
    a = ap.parse_args()
    net = build_example(scale=a.scale, seed=7)
    results = run_suite(net, SuiteSettings(as_of=AS_OF, policy=tuple(PACKS)))
    with tempfile.TemporaryDirectory() as d:
        html, pdf = Path(d) / "report.html", Path(d) / "report.pdf"
        t0 = time.perf_counter()
        write_report(html, results=results, network=net, untrusted=default_untrusted(net.catalogue),
                     charts=charts_for(results))
        t1 = time.perf_counter()
        write_pdf(html, pdf)
        t2 = time.perf_counter()
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        pages = re.search(r"Pages:\s+(\d+)", info)
        print(f"scale {a.scale}: {len(net.sites):,} sites, {len(net.elements):,} elements; "
              f"write_report {t1 - t0:.2f} s, {html.stat().st_size / 1e3:,.0f} kB; "
              f"write_pdf {t2 - t1:.2f} s, {pdf.stat().st_size / 1e3:,.0f} kB, "
              f"{pages.group(1) if pages else '?'} pages")


if __name__ == "__main__":
    main()
