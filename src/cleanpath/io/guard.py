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

Only regular files are read (:func:`open_regular`): a symbolic link is followed, but a device
(``/dev/zero`` never ends), a named pipe (blocks until a writer comes) or a socket is refused by
name before a byte is read, and the check is made on the opened descriptor, so the file cannot
be swapped between check and read.
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
import stat
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
#: Most rows one interchange table file may hold (override with CLEANPATH_MAX_ROWS). Reading and
#: validating take about a hundred bytes per row and column whatever the text, so a file of tiny
#: rows (``a\n`` is two bytes) is bounded by its rows, not its bytes: 20 million one-letter rows
#: (40 MB, or 200 KB gzipped) took 2.4 GB. Five million rows is five times the largest network
#: the benchmarks use.
MAX_ROWS = int(os.environ.get("CLEANPATH_MAX_ROWS", "5000000"))
#: Most memory (bytes) the parsed tree of one JSON, GML or GraphML file may take, estimated
#: from its bytes before parsing (override with CLEANPATH_MAX_TREE_BYTES). Parsed trees cost
#: 20 to 100 times their text (``{},`` is 3 bytes of JSON and a 64-byte dict), so a file far
#: below MAX_INPUT_BYTES could still take the machine's memory.
MAX_TREE_BYTES = int(os.environ.get("CLEANPATH_MAX_TREE_BYTES", str(512 << 20)))

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


def bomb_error(label: str, reason: str, *, knob: str = "CLEANPATH_MAX_INPUT_BYTES") -> ValidationError:
    """A refusal of ``label`` as a possible decompression bomb, naming the setting to raise."""
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
                    raise bomb_error(label, f"inflates more than {MAX_RATIO}:1 (past {cap:,} bytes from "
                                       f"{compressed:,} compressed)", knob="CLEANPATH_MAX_RATIO")
                raise bomb_error(label, f"decompresses to more than {limit:,} bytes")
            buf.write(chunk)
    except zipfile.BadZipFile as e:
        # zipfile stops at the declared size and then finds the CRC wrong: a lying header.
        raise ValidationError(Problem(
            f"archive member is corrupt or its declared size is wrong ({e})", label)) from None
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as e:
        raise ValidationError(Problem(f"truncated or corrupt compressed data ({e})", label)) from None
    return buf.getvalue()


def expand_paths(paths) -> list[Path]:
    """Files named directly, plus the visible entries of named directories (sorted).

    Sub-directories are skipped; anything else in a directory (a FIFO, a device, a dangling
    link) is listed, so that :func:`read_input` refuses it by name rather than it vanishing
    from the import without a word.
    """
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(q for q in p.iterdir() if not q.name.startswith(".") and not q.is_dir())
        else:
            out.append(p)
    return out


def _unreadable(label: str, reason: str) -> ValidationError:
    return ValidationError(Problem(reason, label))


def _kind_problem(mode: int) -> str | None:
    """Why a file of this ``st_mode`` is refused, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, expected a file"
    if stat.S_ISFIFO(mode):
        return ("is a named pipe (FIFO), not a regular file; cleanpath reads only regular files "
                "(a pipe can block for ever or never end): save the data to a file first")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return ("is a device, not a regular file; cleanpath reads only regular files "
                "(a device such as /dev/zero never ends)")
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file; cleanpath reads only regular files"
    return "is not a regular file; cleanpath reads only regular files"


def open_regular(path: str | Path) -> BinaryIO:
    """Open a file for binary reading, refusing anything but a regular file.

    Symbolic links are followed. The file is opened non-blocking (so a FIFO cannot hang the
    open) and its kind is checked on the open descriptor with ``fstat``, so nothing can be
    swapped in between the check and the read.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    BinaryIO
        The open file; the caller closes it.

    Raises
    ------
    ValidationError
        Naming the file and why it cannot be read: missing, a dangling symbolic link, permission
        denied, a directory, a FIFO, a device, a socket, or another operating-system error.
    """
    p = Path(path)
    label = str(p)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(p, flags)
    except FileNotFoundError:
        if p.is_symlink():
            raise _unreadable(label, f"dangling symbolic link: it points to {os.readlink(p)!s}, "
                                     "which does not exist") from None
        raise _unreadable(label, "file not found") from None
    except PermissionError:
        raise _unreadable(label, "permission denied: this user may not read the file "
                                 "(check its permissions and those of its directories)") from None
    except IsADirectoryError:
        raise _unreadable(label, "is a directory, expected a file") from None
    except OSError as e:
        # ENXIO: a socket; ELOOP: a symbolic-link loop; ENAMETOOLONG, EIO...
        raise _unreadable(label, f"cannot open the file: {e.strerror or e}") from None
    try:
        problem = _kind_problem(os.fstat(fd).st_mode)
        if problem is not None:
            raise _unreadable(label, problem)
        # Back to blocking reads (no effect on a regular file, but no surprises either).
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_regular(path: str | Path) -> None:
    """Raise :class:`ValidationError` unless ``path`` is a readable regular file."""
    open_regular(path).close()


def _read_plain(f: BinaryIO, label: str, limit: int) -> bytes:
    """Read an uncompressed file whole, refusing more than ``limit`` bytes.

    The size from ``fstat`` is only a hint: the read is bounded by the limit whatever it says
    (a growing file, or one whose size is reported as 0).
    """
    size = os.fstat(f.fileno()).st_size
    if size > limit:
        raise _unreadable(label, f"larger than {limit:,} bytes (raise CLEANPATH_MAX_INPUT_BYTES "
                                 "if it is genuine)")
    data = f.read(size) if size else b""
    more = f.read(1)
    if not more:
        return data
    rest = [data, more]
    total = len(data) + 1
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            return b"".join(rest)
        total += len(chunk)
        if total > limit:
            raise _unreadable(label, f"larger than {limit:,} bytes (raise CLEANPATH_MAX_INPUT_BYTES "
                                     "if it is genuine)")
        rest.append(chunk)


def read_input(path: str | Path, *, limit: int | None = None) -> InputFile:
    """Read a regular file's bytes; gzip data (by its magic bytes) is decompressed with a size limit.

    Parameters
    ----------
    path
        The file (symbolic links are followed; devices, FIFOs and sockets are refused).
    limit
        Most bytes accepted after decompression (default :data:`MAX_INPUT_BYTES`).

    Raises
    ------
    ValidationError
        A file that cannot be read (see :func:`open_regular`), is too large, or is corrupt gzip.
    """
    p = Path(path)
    label = str(p)
    limit = MAX_INPUT_BYTES if limit is None else limit
    with open_regular(p) as f:
        try:
            size = os.fstat(f.fileno()).st_size
            head = f.read(2)
            f.seek(0)
            if head == b"\x1f\x8b":
                with gzip.GzipFile(fileobj=f) as g:
                    return InputFile(label, _read_limited(g, label, limit, compressed=size))
            return InputFile(label, _read_plain(f, label, limit))
        except OSError as e:
            # EIO from a failing disk, EISDIR from odd file systems: name the file, no traceback.
            raise _unreadable(label, f"cannot read the file: {e.strerror or e}") from None


def _check_declared(p: Path, infos: list[zipfile.ZipInfo], limit: int) -> None:
    """Refuse an archive on what its directory declares, before inflating anything."""
    declared = sum(i.file_size for i in infos)
    if declared > limit:
        raise bomb_error(str(p), f"archive declares {declared:,} bytes uncompressed, over the {limit:,} limit")
    packed = max(1, p.stat().st_size)
    if declared > RATIO_FLOOR and declared / packed > MAX_RATIO:
        raise bomb_error(str(p), f"archive declares {declared:,} bytes in {packed:,} "
                            f"(ratio {declared / packed:,.0f}:1, above {MAX_RATIO}:1)",
                    knob="CLEANPATH_MAX_RATIO")
    for i in infos:
        if i.compress_size and i.file_size > RATIO_FLOOR and i.file_size / i.compress_size > MAX_RATIO:
            raise bomb_error(f"{p}:{i.filename}", f"compression ratio {i.file_size / i.compress_size:,.0f}:1 "
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
    raw = open_regular(p)
    try:
        zf = zipfile.ZipFile(raw)
    except (zipfile.BadZipFile, OSError) as e:
        raw.close()
        raise ValidationError(Problem(f"not a readable zip archive ({e})", str(p))) from None
    with raw, zf:
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


#: Estimated bytes per JSON container or value once parsed by :mod:`json` (CPython 3.11: a dict
#: with a few keys ~232, a list ~56, a str or float ~50 plus its slot in the parent).
_JSON_COST = {ord("{"): 232, ord("["): 56, ord(","): 56, ord(":"): 56}
#: Estimated bytes per token of a parsed GML or GraphML file (measured: ~280 for a Topology
#: Zoo-like GML read into located attributes, line index included).
MARKUP_TOKEN_COST = 300


def _byte_counts(data: bytes, wanted: bytes) -> dict[int, int]:
    """How often each byte of ``wanted`` occurs in ``data`` (vectorised, in bounded chunks)."""
    out = dict.fromkeys(wanted, 0)
    view = memoryview(data)
    for pos in range(0, len(data), _CHUNK):
        arr = np.frombuffer(view[pos:pos + _CHUNK], dtype=np.uint8)
        counts = np.bincount(arr, minlength=256)
        for b in wanted:
            out[b] += int(counts[b])
    return out


def json_tree_estimate(data: bytes) -> int:
    """Upper-bound estimate of the memory :func:`json.loads` takes for ``data`` (bytes).

    Every ``{ [ , :`` outside strings opens a container or separates a value; counting them inside
    strings too only over-estimates, which is the safe side. Plus the decoded text itself.
    """
    counts = _byte_counts(data, bytes(_JSON_COST))
    return sum(_JSON_COST[b] * n for b, n in counts.items()) + 2 * len(data)


def markup_tree_estimate(data: bytes) -> int:
    """Estimate of the memory a GML or GraphML file takes once parsed (bytes).

    Tokens are counted as the starts of runs of non-blank bytes, plus every ``<`` (an XML tag
    may hold several attributes in one run), each at :data:`MARKUP_TOKEN_COST`.
    """
    tokens = 0
    view = memoryview(data)
    prev_blank = True
    for pos in range(0, len(data), _CHUNK):
        arr = np.frombuffer(view[pos:pos + _CHUNK], dtype=np.uint8)
        blank = (arr == 32) | ((arr >= 9) & (arr <= 13))
        starts = ~blank
        starts[1:] &= blank[:-1]
        starts[0] &= prev_blank
        tokens += int(np.count_nonzero(starts)) + int(np.count_nonzero(arr == 60))
        prev_blank = bool(blank[-1])
    return MARKUP_TOKEN_COST * tokens + 4 * len(data)


def check_tree_size(f: InputFile, estimate: int, *, what: str) -> None:
    """Refuse a file whose parsed tree would pass :data:`MAX_TREE_BYTES`, before parsing it.

    Parameters
    ----------
    f
        The input.
    estimate
        Its parsed size, from :func:`json_tree_estimate` or :func:`markup_tree_estimate`.
    what
        The format, for the message.
    """
    if estimate > MAX_TREE_BYTES:
        raise ValidationError(Problem(
            f"{what} of {len(f.data):,} bytes would take about {estimate / 2**20:,.0f} MiB of memory "
            f"once parsed, over the {MAX_TREE_BYTES / 2**20:,.0f} MiB limit (raise "
            "CLEANPATH_MAX_TREE_BYTES if it is genuine, or use the interchange CSV/Parquet "
            "format for large inventories)", f.label))


def check_rows(label: str, rows: int, *, how: str) -> None:
    """Refuse a table of more than :data:`MAX_ROWS` rows before it is parsed.

    Parameters
    ----------
    label
        The file, for the message.
    rows
        Its rows, or an upper bound of them (a CSV's line count).
    how
        How they were counted, for the message ("lines", "rows declared in its metadata").
    """
    if rows > MAX_ROWS:
        raise ValidationError(Problem(
            f"holds {rows:,} {how}, over the {MAX_ROWS:,}-row limit for one table file (raise "
            "CLEANPATH_MAX_ROWS if it is genuine)", label))


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


#: Bytes per step of the chunked scans: a chunk of newlines alone makes three int64 arrays of
#: eight times its size, so 8 MB keeps a scan under 200 MB whatever the input.
_CHUNK = 8 << 20


def _first_line_fault(data: bytes, what: str, max_line: int) -> TextFault:
    """The fault of a file whose first line is longer than ``max_line`` (seen in its head only)."""
    head = data[:max_line + 1]
    nul = head.find(b"\x00")
    if nul >= 0:
        return TextFault(f"binary data (NUL byte); expected {what}", nul)
    try:
        # Not final: a multi-byte character cut by the end of the head is not an error.
        codecs.utf_8_decode(head, "strict", False)
    except UnicodeDecodeError as e:
        at = e.start
        return TextFault(f"not valid UTF-8 (byte 0x{data[at]:02x}); save the file as UTF-8",
                         at, _snippet(data, max(0, at - 20), at + 20))
    end = data.find(b"\n", max_line)  # memchr over the bytes: no copy, no decoding
    length = len(data) if end < 0 else end
    return TextFault(f"line is {length:,} bytes long, over the {max_line:,}-byte limit for {what}",
                     max_line, _snippet(data, 0, 80))


def find_text_fault(data: bytes, *, what: str = "text", max_line: int = MAX_LINE_BYTES,
                    csv_quotes: bool = False) -> TextFault | None:
    """The first reason ``data`` cannot be parsed as text, or None.

    Checks, in order: empty, NUL byte (binary), invalid UTF-8, a line longer than ``max_line``
    bytes, and (``csv_quotes``) a quoted CSV field still open at the end, i.e. a truncated
    file. All checks are vectorised over the bytes.
    """
    if len(data) > max_line and data.find(b"\n", 0, max_line + 1) < 0:
        # The first line alone is over the limit: look at max_line + 1 bytes, not the whole file,
        # so a huge file without a newline is refused at the cost of its first megabyte.
        return _first_line_fault(data, what, max_line)
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
