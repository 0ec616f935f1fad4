"""Defences every reader shares: size limits, decompression bombs, encodings, runaway lines.

A reader calls :func:`read_input` (or :func:`zip_members`) to get a file's bytes, transparently
un-gzipped and size-limited, and :func:`check_text` before parsing. Each failure is a
:class:`~cleanpath.errors.ValidationError` with the file, line and column, so the user knows what
to fix without opening a hex editor.

Decompression is refused, before it can exhaust memory, when

* an archive *declares* more than :data:`MAX_INPUT_BYTES` uncompressed, or a ratio above
  :data:`MAX_RATIO` (whole archive or one member);
* the bytes *actually* inflated pass :data:`MAX_INPUT_BYTES`, or pass :data:`MAX_RATIO` times the
  compressed size once past :data:`RATIO_FLOOR`. Declared sizes can lie; this check cannot be
  lied to, because it counts what the decompressor really produced.
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import numpy as np

from cleanpath.errors import Problem, ValidationError

#: Largest decompressed input a reader accepts (bytes); override with CLEANPATH_MAX_INPUT_BYTES.
MAX_INPUT_BYTES = int(os.environ.get("CLEANPATH_MAX_INPUT_BYTES", str(8 << 30)))
#: Longest line (record) accepted in a text format (bytes).
MAX_LINE_BYTES = 1 << 20
#: Highest compression ratio accepted before input is treated as a bomb (override with
#: CLEANPATH_MAX_RATIO). Real CSV and JSON inventories compress 5-30:1; deflate bombs reach 1000:1.
MAX_RATIO = int(os.environ.get("CLEANPATH_MAX_RATIO", "200"))
#: Inflated inputs up to this size are accepted whatever their ratio (tiny files compress oddly).
RATIO_FLOOR = 1 << 20

#: Maps a byte offset of a fault to (column, value) in the reader's own terms (CSV: column name).
Locator = Callable[[bytes, int], "tuple[str | int | None, str | None]"]


@dataclass(frozen=True)
class InputFile:
    """A file's decoded bytes and the name to show in messages.

    Attributes
    ----------
    label
        Shown in messages: the path, or ``archive.zip:member`` for a member of an archive.
    data
        The (decompressed) bytes.
    member
        The member's path inside its archive, if it came from one.
    """

    label: str
    data: bytes
    member: str | None = None

    @property
    def name(self) -> str:
        """The file's own name (``elements.csv``), without directories or archive."""
        return Path(self.member if self.member is not None else self.label).name


def _bomb(label: str, reason: str, *, knob: str = "CLEANPATH_MAX_INPUT_BYTES") -> ValidationError:
    return ValidationError(Problem(
        f"{reason}; refusing it as a possible decompression bomb (raise {knob} if it is genuine)",
        label))


def _read_limited(stream: BinaryIO, label: str, limit: int, *, compressed: int | None = None) -> bytes:
    """Read a decompressing stream to the end, stopping as soon as it inflates too far.

    Parameters
    ----------
    stream
        A gzip or zip member stream.
    label
        Name for messages.
    limit
        Most bytes accepted in absolute terms.
    compressed
        Size of the compressed data, if known: output beyond ``MAX_RATIO`` times this (and past
        :data:`RATIO_FLOOR`) is refused too.
    """
    cap = limit
    by_ratio = False
    if compressed is not None:
        ratio_cap = max(RATIO_FLOOR, MAX_RATIO * compressed)
        if ratio_cap < limit:
            cap, by_ratio = ratio_cap, True
    buf = io.BytesIO()
    total = 0
    try:
        while True:
            chunk = stream.read(1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > cap:
                if by_ratio:
                    raise _bomb(label, f"inflates more than {MAX_RATIO}:1 (past {cap:,} bytes from "
                                       f"{compressed:,} compressed)", knob="CLEANPATH_MAX_RATIO")
                raise _bomb(label, f"decompresses to more than {limit:,} bytes")
            buf.write(chunk)
    except zipfile.BadZipFile as e:
        # zipfile stops at the declared size and then finds the CRC wrong: a lying header.
        raise ValidationError(Problem(
            f"archive member is corrupt or its declared size is wrong ({e})", label)) from None
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as e:
        raise ValidationError(Problem(f"truncated or corrupt compressed data ({e})", label)) from None
    return buf.getvalue()


def expand_paths(paths) -> list[Path]:
    """Files named directly, plus the visible files of named directories (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(q for q in p.iterdir() if q.is_file() and not q.name.startswith("."))
        else:
            out.append(p)
    return out


def read_input(path: str | Path, *, limit: int | None = None) -> InputFile:
    """Read a file's bytes; gzip data (by its magic bytes) is decompressed with a size limit.

    Parameters
    ----------
    path
        The file.
    limit
        Most bytes accepted after decompression (default :data:`MAX_INPUT_BYTES`).
    """
    p = Path(path)
    limit = MAX_INPUT_BYTES if limit is None else limit
    if not p.exists():
        raise ValidationError(Problem("file not found", str(p)))
    if p.is_dir():
        raise ValidationError(Problem("is a directory, expected a file", str(p)))
    size = p.stat().st_size
    with open(p, "rb") as f:
        head = f.read(2)
        f.seek(0)
        if head == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=f) as g:
                return InputFile(str(p), _read_limited(g, str(p), limit, compressed=size))
        if size > limit:
            raise ValidationError(Problem(f"larger than {limit:,} bytes", str(p)))
        return InputFile(str(p), f.read())


def _check_declared(p: Path, infos: list[zipfile.ZipInfo], limit: int) -> None:
    """Refuse an archive on what its directory declares, before inflating anything."""
    declared = sum(i.file_size for i in infos)
    if declared > limit:
        raise _bomb(str(p), f"archive declares {declared:,} bytes uncompressed, over the {limit:,} limit")
    packed = max(1, p.stat().st_size)
    if declared > RATIO_FLOOR and declared / packed > MAX_RATIO:
        raise _bomb(str(p), f"archive declares {declared:,} bytes in {packed:,} "
                            f"(ratio {declared / packed:,.0f}:1, above {MAX_RATIO}:1)",
                    knob="CLEANPATH_MAX_RATIO")
    for i in infos:
        if i.compress_size and i.file_size > RATIO_FLOOR and i.file_size / i.compress_size > MAX_RATIO:
            raise _bomb(f"{p}:{i.filename}", f"compression ratio {i.file_size / i.compress_size:,.0f}:1 "
                                             f"is above {MAX_RATIO}:1", knob="CLEANPATH_MAX_RATIO")


def zip_members(path: str | Path, *, limit: int | None = None) -> Iterator[InputFile]:
    """Yield the files of a zip archive, refusing bombs by declared size, ratio and real size.

    Parameters
    ----------
    path
        The archive.
    limit
        Most bytes accepted for all members together (default :data:`MAX_INPUT_BYTES`).

    Yields
    ------
    InputFile
        One per member (directories and ``__MACOSX/`` resource forks skipped), labelled
        ``archive.zip:member``; ``.gz`` members are decompressed too.
    """
    p = Path(path)
    limit = MAX_INPUT_BYTES if limit is None else limit
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as e:
        raise ValidationError(Problem(f"not a readable zip archive ({e})", str(p))) from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
        _check_declared(p, infos, limit)
        budget = limit
        for i in infos:
            label = f"{p}:{i.filename}"
            try:
                member = zf.open(i)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as e:
                # RuntimeError: encrypted; NotImplementedError: an unsupported compression method.
                raise ValidationError(Problem(f"cannot read archive member ({e})", label)) from None
            with member:
                data = _read_limited(member, label, budget, compressed=i.compress_size)
            if i.filename.lower().endswith(".gz"):
                data = _read_limited(gzip.GzipFile(fileobj=io.BytesIO(data)), label, budget,
                                     compressed=len(data))
            budget -= len(data)
            yield InputFile(label, data, member=i.filename)


def line_and_column(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset."""
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    col = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return line, col


_FIELD_END = frozenset(b",\n\r")  # bytes after which a new CSV field starts


def csv_quote_spans(data: bytes) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Byte spans of the quoted CSV fields, and where an unterminated one opens.

    A quote opens a quoted field only at the start of a field; elsewhere outside quotes it is a
    literal character (``19" rack``), as Arrow's CSV parser reads it. Inside, ``""`` is an escaped
    quote and a lone quote closes the field.

    Pairing quotes by parity (vectorised) is right as long as every pair opens at a field start
    and closes before a separator or another quote; only from the first pair where that fails
    does a sequential scan take over, so a well-formed file costs no Python loop and a truncated
    or odd one only a short one.

    Returns
    -------
    starts, ends
        Offsets of each quoted field's opening and closing quote.
    unterminated
        Offset of the opening quote of a field still open at the end of the data, or None.
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    n = len(arr)
    q = np.flatnonzero(arr == 34)
    opens, closes = q[0::2], q[1::2]
    m = len(closes)
    ok = np.ones(len(opens), dtype=bool)
    ok &= (opens == 0) | np.isin(arr[np.maximum(opens - 1, 0)], (44, 10, 13, 34))
    ok[:m] &= (closes == n - 1) | np.isin(arr[np.minimum(closes + 1, n - 1)], (44, 10, 13, 34))
    ok[m:] = False  # an opening quote without a partner
    bad = np.flatnonzero(~ok)
    first_bad = int(bad[0]) if bad.size else len(opens)
    starts: list[int] = []
    ends: list[int] = []
    rest = q[2 * first_bad:].tolist()
    i, in_quotes, opened = 0, False, 0
    while i < len(rest):
        p = rest[i]
        if not in_quotes:
            if p == 0 or int(arr[p - 1]) in _FIELD_END:
                in_quotes, opened = True, p
        elif p + 1 < n and int(arr[p + 1]) == 34:
            i += 1  # an escaped quote: skip its second half
        else:
            in_quotes = False
            starts.append(opened)
            ends.append(p)
        i += 1
    return (np.concatenate((opens[:first_bad], np.asarray(starts, dtype=np.int64))).astype(np.int64),
            np.concatenate((closes[:first_bad], np.asarray(ends, dtype=np.int64))).astype(np.int64),
            opened if in_quotes else None)


@dataclass(frozen=True)
class TextFault:
    """What :func:`find_text_fault` found: a reason, the byte offset it applies to and a value."""

    reason: str
    offset: int | None
    value: str | None = None


def _snippet(data: bytes, start: int, stop: int) -> str:
    return data[max(0, start):max(0, stop)].decode("utf-8", errors="replace")


_CHUNK = 32 << 20


def find_text_fault(data: bytes, *, what: str = "text", max_line: int = MAX_LINE_BYTES,
                    csv_quotes: bool = False) -> TextFault | None:
    """The first reason ``data`` cannot be parsed as text, or None.

    Checks, in order: empty, NUL byte (binary), invalid UTF-8, a line longer than ``max_line``
    bytes, and (``csv_quotes``) a quoted CSV field still open at the end, i.e. a truncated
    file. All checks are vectorised over the bytes.
    """
    view = memoryview(data)
    # Chunked so that a multi-gigabyte world file is checked without a decoded copy of itself.
    has_text = False
    pending = b""          # bytes of a UTF-8 sequence cut by the chunk boundary
    last_nl = -1           # offset of the last newline seen
    longest, longest_start = 0, 0
    for pos in range(0, len(data), _CHUNK):
        chunk = view[pos:pos + _CHUNK]
        arr = np.frombuffer(chunk, dtype=np.uint8)
        if not has_text:
            has_text = bool(((arr > 32) | (arr == 0) | ((arr < 9) & (arr > 0)) | ((arr > 13) & (arr < 32))).any())
        nul = int(np.argmax(arr == 0)) if (arr == 0).any() else -1
        if nul >= 0:
            return TextFault(f"binary data (NUL byte); expected {what}", pos + nul)
        try:
            _, used = codecs.utf_8_decode(pending + bytes(chunk), "strict", pos + _CHUNK >= len(data))
        except UnicodeDecodeError as e:
            at = pos - len(pending) + e.start
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end
            return TextFault(f"not valid UTF-8 (byte 0x{data[at]:02x}); save the file as UTF-8",
                             at, _snippet(data, max(start, at - 20), min(end, at + 20)))
        pending = (pending + bytes(chunk))[used:]
        nl = np.flatnonzero(arr == 10) + pos
        if len(nl):
            starts = np.concatenate(([last_nl + 1], nl[:-1] + 1))
            lengths = nl - starts
            i = int(np.argmax(lengths))
            if lengths[i] > longest:
                longest, longest_start = int(lengths[i]), int(starts[i])
            last_nl = int(nl[-1])
    tail = len(data) - (last_nl + 1)
    if tail > longest:
        longest, longest_start = tail, last_nl + 1
    if not has_text:
        return TextFault(f"file is empty; expected {what}", None)
    if longest > max_line:
        return TextFault(f"line is {longest:,} bytes long, over the {max_line:,}-byte "
                         f"limit for {what}", longest_start + max_line,
                         _snippet(data, longest_start, longest_start + 80))
    if csv_quotes:
        _, _, unterminated = csv_quote_spans(data)
        if unterminated is not None:
            return TextFault("unterminated quoted field: the file looks truncated", unterminated,
                             _snippet(data, unterminated, unterminated + 80))
    return None


def check_text(f: InputFile, *, what: str = "text", max_line: int = MAX_LINE_BYTES,
               csv_quotes: bool = False, locate: Locator | None = None) -> None:
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
    locate
        Turns the fault's byte offset into the reader's column and value (a CSV reader names the
        column the fault is in); by default the column is the 1-based character column.

    Raises
    ------
    ValidationError
        With the file, line, column, value and reason.
    """
    fault = find_text_fault(f.data, what=what, max_line=max_line, csv_quotes=csv_quotes)
    if fault is None:
        return
    if fault.offset is None:
        raise ValidationError(Problem(fault.reason, f.label, 1))
    line, col = line_and_column(f.data, fault.offset)
    column: str | int | None = col
    value = fault.value
    if locate is not None:
        column, located = locate(f.data, fault.offset)
        value = located if located is not None else value
    raise ValidationError(Problem(fault.reason, f.label, line, column, value))
