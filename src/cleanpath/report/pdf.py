"""The report as a PDF, printed by headless chromium (Debian's, the one the browser tests use).

The HTML report carries its own print styles (A4, the summary on page one, one section a page),
so the PDF is the page as a browser prints it: nothing is laid out twice. Chromium is optional:
only ``cleanpath report --pdf`` needs it, and its absence is a clear error, never a silent skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from cleanpath.errors import Problem, ValidationError

#: Where chromium is looked for: $CLEANPATH_CHROMIUM, then `chromium` on the PATH, then Debian's path.
CHROMIUM_ENV = "CLEANPATH_CHROMIUM"


def find_chromium() -> str | None:
    """The chromium executable to print with, or None."""
    for cand in (os.environ.get(CHROMIUM_ENV), shutil.which("chromium"), shutil.which("chromium-browser"),
                 "/usr/bin/chromium"):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    return None


def write_pdf(html_path: str | Path, pdf_path: str | Path, *, chromium: str | None = None,
              timeout: float = 180.0) -> Path:
    """Print an HTML report to PDF with headless chromium.

    Parameters
    ----------
    html_path
        The report (a local file; it fetches nothing).
    pdf_path
        The PDF to write (replaced atomically).
    chromium
        The executable (default: :func:`find_chromium`).
    timeout
        Seconds before chromium is stopped.

    Returns
    -------
    Path
        The PDF written.

    Raises
    ------
    ValidationError
        No chromium, or chromium did not write the PDF (its last messages are in the reason).
    """
    exe = chromium or find_chromium()
    if exe is None:
        raise ValidationError(Problem(
            f"no chromium to print the PDF with: install Debian's chromium (bash scripts/ensure-chromium.sh) "
            f"or set {CHROMIUM_ENV}", column="--pdf"))
    src = Path(html_path).resolve()
    out = Path(pdf_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.pdf")
    tmp.unlink(missing_ok=True)
    # a profile of its own: several chromium processes (tests, other users) never share a lock
    with tempfile.TemporaryDirectory(prefix="cleanpath-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-extensions",
               "--disable-background-networking", "--no-first-run", "--no-pdf-header-footer",
               f"--user-data-dir={profile}", f"--print-to-pdf={tmp}", src.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise ValidationError(Problem(f"chromium did not print the PDF within {timeout:.0f} s",
                                          column="--pdf", value=str(out))) from e
    if not tmp.exists() or tmp.stat().st_size == 0:
        tail = " ".join((proc.stderr or "").strip().splitlines()[-3:])
        raise ValidationError(Problem(f"chromium did not write the PDF (exit {proc.returncode}): {tail}",
                                      column="--pdf", value=str(out)))
    tmp.replace(out)
    return out
