"""Defences every reader shares: size limits, decompression bombs, encodings, runaway lines.

A reader calls :func:`read_input` to get a file's bytes (transparently un-gzipped, size-limited)
and :func:`check_text` before parsing. Each failure is a :class:`ValidationError` with the file,
line and column, so the user knows what to fix without opening a hex editor.
"""

from __future__ import annotations

import gzip
import io
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from cleanpath.errors import Problem, ValidationError

#: Largest decompressed input a reader accepts (bytes); override with CLEANPATH_MAX_INPUT_BYTES.
MAX_INPUT_BYTES = int(os.environ.get("CLEANPATH_MAX_INPUT_BYTES", str(8 << 30)))
#: Longest line (record) accepted in a text format (bytes).
MAX_LINE_BYTES = 1 << 20
#: Highest compression ratio accepted from an archive member before it is treated as a bomb.
MAX_RATIO = 200


@dataclass(frozen=True)
class InputFile:
    """A file's decoded bytes and the name to show in messages."""

    label: str
    data: bytes


def _read_limited(stream, label: str, limit: int) -> bytes:
    buf = io.BytesIO()
    total = 0
    try:
        while True:
            chunk = stream.read(1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise ValidationError(Problem(
                    f"decompresses to more than {limit:,} bytes; refusing it as a possible "
                    "decompression bomb (raise CLEANPATH_MAX_INPUT_BYTES if it is genuine)", label))
            buf.write(chunk)
    except (EOFError, gzip.BadGzipFile, zlib.error, zipfile.BadZipFile) as e:
        raise ValidationError(Problem(f"truncated or corrupt compressed data ({e})", label)) from None
    return buf.getvalue()


def read_input(path: str | Path, *, limit: int | None = None) -> InputFile:
    """Read a file's bytes; ``.gz`` files are decompressed with a size limit."""
    p = Path(path)
    limit = MAX_INPUT_BYTES if limit is None else limit
    if not p.exists():
        raise ValidationError(Problem("file not found", str(p)))
    if p.is_dir():
        raise ValidationError(Problem("is a directory, expected a file", str(p)))
    with open(p, "rb") as f:
        head = f.read(2)
        f.seek(0)
        if head == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=f) as g:
                return InputFile(str(p), _read_limited(g, str(p), limit))
        if p.stat().st_size > limit:
            raise ValidationError(Problem(f"larger than {limit:,} bytes", str(p)))
        return InputFile(str(p), f.read())


def zip_members(path: str | Path, *, limit: int | None = None) -> Iterator[InputFile]:
    """Yield the files of a zip archive, refusing bombs by declared size, ratio and real size."""
    p = Path(path)
    limit = MAX_INPUT_BYTES if limit is None else limit
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as e:
        raise ValidationError(Problem(f"not a readable zip archive ({e})", str(p))) from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
        declared = sum(i.file_size for i in infos)
        if declared > limit:
            raise ValidationError(Problem(
                f"archive declares {declared:,} bytes uncompressed, over the {limit:,} limit "
                "(possible zip bomb)", str(p)))
        budget = limit
        for i in infos:
            label = f"{p}:{i.filename}"
            if i.compress_size and i.file_size > (1 << 20) and i.file_size / i.compress_size > MAX_RATIO:
                raise ValidationError(Problem(
                    f"compression ratio {i.file_size / i.compress_size:,.0f}:1 is above {MAX_RATIO}:1 "
                    "(possible zip bomb)", label))
            with zf.open(i) as member:
                # Declared sizes can lie, so the real decompressed size is limited as well.
                data = _read_limited(member, label, budget)
            budget -= len(data)
            if i.filename.endswith(".gz"):
                data = _read_limited(gzip.GzipFile(fileobj=io.BytesIO(data)), label, budget)
            yield InputFile(label, data)


def line_and_column(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset."""
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    col = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return line, col


def check_text(f: InputFile, *, what: str = "text", max_line: int = MAX_LINE_BYTES,
               csv_quotes: bool = False) -> None:
    """Refuse empty, binary, non-UTF-8 and runaway-line input with a precise location.

    Parameters
    ----------
    f
        The input.
    what
        Name of the expected format, for messages ("CSV", "GML").
    max_line
        Longest line accepted, in bytes.
    csv_quotes
        Also refuse a file that ends inside a quoted field (a truncated CSV).
    """
    data = f.data
    if not data.strip():
        raise ValidationError(Problem(f"file is empty; expected {what}", f.label, 1))
    nul = data.find(b"\x00")
    if nul >= 0:
        line, col = line_and_column(data, nul)
        raise ValidationError(Problem(f"binary data (NUL byte); expected {what}", f.label, line, col))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        line, col = line_and_column(data, e.start)
        raise ValidationError(Problem(
            f"not valid UTF-8 (byte 0x{data[e.start]:02x}); save the file as UTF-8", f.label, line, col,
            value=data[max(0, e.start - 10): e.start + 10].decode("utf-8", errors="replace"))) from None
    arr = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    bounds = np.concatenate(([-1], nl, [len(arr)]))
    lengths = np.diff(bounds) - 1
    longest = int(np.argmax(lengths))
    if lengths[longest] > max_line:
        raise ValidationError(Problem(
            f"line is {lengths[longest]:,} bytes long, over the {max_line:,}-byte limit for {what}",
            f.label, longest + 1, 1))
    if csv_quotes and (arr == 34).sum() % 2 == 1:
        # An odd number of quote characters means the file ends inside a quoted field.
        last = int(np.flatnonzero(arr == 34)[-1])
        line, col = line_and_column(data, last)
        raise ValidationError(Problem(
            "unterminated quoted field: the file looks truncated", f.label, line, col))
