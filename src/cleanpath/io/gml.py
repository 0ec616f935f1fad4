"""Graph files in GML and GraphML, read into one located form.

GML (Himsolt's Graph Modelling Language, as written by the Internet Topology Zoo toolset and by
networkx) is a tree of ``key value`` pairs where a value is an integer, a real, a quoted string or
a bracketed list of more pairs; keys may repeat (that is how a graph holds its nodes). GraphML is
its XML cousin, with typed ``<key>`` declarations and ``<data>`` values.

Both readers return a :class:`GraphData`: graph attributes, nodes and edges, with every value
carrying the line and column it came from, so the importer built on top can point at the exact
place of a problem. Syntax errors are :class:`~cleanpath.errors.ValidationError` with the file,
line, character column, the offending token and what was expected ("expected ']' to close 'node'
opened at line 12"). The GML parser is our own: networkx is not a runtime dependency, and its
errors carry no location.
"""

from __future__ import annotations

import codecs
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from html.entities import html5
from typing import Any, Iterator, NamedTuple

import numpy as np

from cleanpath.errors import Problem, ValidationError
from cleanpath.io.guard import InputFile, check_text, check_tree_size, markup_tree_estimate

#: Deepest list nesting accepted; Zoo files nest three deep (graph > node > graphics).
MAX_DEPTH = 64

# --------------------------------------------------------------------------------------------
# text decoding and locations
# --------------------------------------------------------------------------------------------


def decode_text(f: InputFile, *, what: str, encoding: str | None = None) -> tuple[str, list[str]]:
    """Decode a text graph file after the shared safety checks.

    UTF-8 is tried first; GML is defined over ISO-8859-1, so bytes that are not UTF-8 are read as
    Latin-1 (every byte is a character there) with a warning rather than refused. An XML file
    that declares another encoding is decoded with it.

    Returns
    -------
    text, warnings
    """
    warnings: list[str] = []
    data = f.data
    # Parsed graphs take ~40 times their text: bound that before decoding anything.
    check_tree_size(f, markup_tree_estimate(data), what=what)
    # Control characters other than tab and newlines mean binary data; report the first one
    # (check_text alone would only find a NUL, maybe lines after the first sign of trouble).
    ctrl = re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", data)
    if ctrl:
        line = data.count(b"\n", 0, ctrl.start()) + 1
        col = len(data[data.rfind(b"\n", 0, ctrl.start()) + 1: ctrl.start()].decode("latin-1")) + 1
        code = ctrl.group()[0]
        raise ValidationError(Problem(
            f"binary data ({'NUL byte' if code == 0 else f'control character 0x{code:02x}'}); "
            f"expected {what}", f.label, line, col))
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as e:
            line = data.count(b"\n", 0, e.start) + 1
            raise ValidationError(Problem(f"not valid {encoding}, the encoding the file declares "
                                          f"(byte 0x{data[e.start]:02x})", f.label, line)) from None
        check_text(InputFile(f.label, text.encode("utf-8")), what=what)
        return text.lstrip("\ufeff"), warnings
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        text = data.decode("latin-1")
        line = data.count(b"\n", 0, e.start) + 1
        warnings.append(f"{f.label}:{line}: not UTF-8 (byte 0x{data[e.start]:02x}); read the file as "
                        "ISO-8859-1 (Latin-1), the encoding GML is defined in")
    # check_text refuses empty files, NUL bytes and runaway lines; it wants UTF-8, which the
    # re-encoded text is, with the same line structure.
    check_text(InputFile(f.label, text.encode("utf-8")), what=what)
    return text.lstrip("\ufeff"), warnings


class Locator:
    """Turns character offsets in a text into 1-based (line, column) pairs."""

    def __init__(self, text: str):
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        self.starts = np.concatenate(([0], np.flatnonzero(codes == 10) + 1))
        self._starts = self.starts.tolist()  # bisect on a list beats numpy for single lookups

    def many(self, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lines and columns of many offsets at once."""
        offsets = np.asarray(offsets, dtype=np.int64)
        idx = np.searchsorted(self.starts, offsets, side="right") - 1
        return idx + 1, offsets - self.starts[idx] + 1

    def one(self, offset: int) -> tuple[int, int]:
        """Line and column of one offset."""
        i = bisect_right(self._starts, offset) - 1
        return i + 1, offset - self._starts[i] + 1


# --------------------------------------------------------------------------------------------
# the located result both formats share
# --------------------------------------------------------------------------------------------


class Value(NamedTuple):
    """An attribute value and where it was written."""

    value: Any
    line: int
    column: int


@dataclass
class Item:
    """A node or an edge: its attributes and the position of its opening."""

    attrs: dict[str, Value]
    line: int
    column: int


@dataclass
class GraphData:
    """A graph file read into located attributes.

    Attributes
    ----------
    file
        Name shown in messages.
    fmt
        ``"GML"`` or ``"GraphML"``.
    attrs
        Graph-level attributes.
    nodes, edges
        In file order. A GML node's key is its ``id`` attribute; a GraphML node's is its XML
        ``id``, stored under ``"id"``. Edges hold ``source`` and ``target``.
    line
        Where the graph opens.
    warnings
        Notes that do not stop the import (repeated keys, Latin-1 input).
    """

    file: str
    fmt: str
    attrs: dict[str, Value]
    nodes: list[Item]
    edges: list[Item]
    line: int = 1
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# GML tokenizer
# --------------------------------------------------------------------------------------------

_END = r"(?![A-Za-z0-9_.+\-\"])"  # a number or key must end at whitespace, a bracket or EOF
# One match per token, whitespace and comments before it included, so finditer walks the text
# in one linear pass with no gaps: "bad" takes any other character and "end" the trailing
# whitespace. The possessive skip never backtracks, so no input makes the scan slow.
_TOKEN = re.compile(
    r"(?:\s|\#[^\n]*)*+"
    r"(?:(?P<string>\"[^\"]*\")"
    r"|(?P<unterminated>\"[^\"]*\Z)"
    r"|(?P<open>\[)"
    r"|(?P<close>\])"
    rf"|(?P<real>[+-]?(?:\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+"
    rf"|(?:inf|INF|Inf|nan|NAN|NaN)){_END})"
    rf"|(?P<int>[+-]?\d+{_END})"
    rf"|(?P<key>[A-Za-z_][A-Za-z0-9_]*{_END})"
    r"|(?P<end>\Z)"
    r"|(?P<bad>.))",
    re.S,
)
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _entity(m: re.Match) -> str:
    ref = m.group(1)
    if ref[0] == "#":
        code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
        if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            return chr(code)
        return m.group(0)
    return html5.get(ref + ";", m.group(0))


def unescape(s: str) -> str:
    """Resolve ``&quot;``, ``&#233;`` and ``&#xE9;`` style references; leave stray ``&`` alone.

    Only references closed by ``;`` are resolved: Zoo notes hold raw URLs such as
    ``?id=1&notes=2`` that a lenient HTML unescaper would mangle.
    """
    return _ENTITY.sub(_entity, s) if "&" in s else s


@dataclass
class _Token:
    kind: str
    text: str
    pos: int


def _tokens(text: str) -> Iterator[tuple[str, str, int]]:
    """``(kind, text, offset)`` of every token, ending with ``("end", "", len(text))``."""
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        start = m.start(kind)
        if kind == "bad":
            run = re.match(r"[^\s\[\]\"]+", text[start:start + 80])
            yield kind, run.group(0) if run else text[start], start
            return
        yield kind, m.group(kind), start
        if kind in ("end", "unterminated"):
            return


def _looks_like(text: str) -> str | None:
    head = text.lstrip()[:200].lower()
    if head.startswith(("<!doctype html", "<html")) or "<html" in head:
        return "an HTML page"
    if head.startswith("<"):
        return "an XML document"
    if head.startswith(("{", "[")):
        return "JSON"
    return None


def _show(tok: _Token | None) -> str:
    if tok is None:
        return "the end of the file"
    kind = {"string": "string", "int": "number", "real": "number", "key": "key",
            "open": "'['", "close": "']'"}.get(tok.kind)
    shown = tok.text if len(tok.text) <= 40 else tok.text[:37] + "..."
    return f"{kind} {shown}" if kind in ("string", "number", "key") else (kind or repr(shown))


# --------------------------------------------------------------------------------------------
# GML parser
# --------------------------------------------------------------------------------------------


#: Keys whose lists make up a graph; one of them opened inside a node or an edge means a
#: missing ']' (graph GML never nests them), which is where the user has to look.
_STRUCTURE = ("graph", "node", "edge")


@dataclass
class GmlList:
    """A bracketed GML list, and where it opened.

    ``entries`` holds ``(key, value, key offset, value offset)`` in file order.
    """

    key: str
    pos: int
    entries: list[tuple[str, Any, int, int]] = field(default_factory=list)


def parse_gml(text: str, label: str, loc: Locator | None = None) -> GmlList:
    """Parse GML text into nested :class:`GmlList` objects (values keep their offsets).

    Raises
    ------
    ValidationError
        At the first syntax error, with line, column, the token found and the token expected.
    """
    loc = loc or Locator(text)
    root = GmlList("<file>", 0)
    stack = [root]
    top = root
    key: _Token | None = None
    kind_hint = _looks_like(text)

    def fail(tok: _Token | None, reason: str) -> ValidationError:
        # At the end of the file, point just after its last character, not at a phantom line.
        at = tok.pos if tok is not None else len(text.rstrip())
        line, col = loc.one(at)
        if kind_hint and not root.entries:
            reason += f"; the file looks like {kind_hint}, not GML"
        return ValidationError(Problem(reason, label, line, col,
                                       value=tok.text if tok is not None else None))

    for kind, ttext, tpos in _tokens(text):
        if kind == "end":
            break
        if key is None:
            if kind == "key":
                key = _Token(kind, ttext, tpos)
                continue
            if kind == "close" and len(stack) > 1:
                stack.pop()
                top = stack[-1]
                continue
            tok = _Token(kind, ttext, tpos)
            if kind == "close":
                raise fail(tok, "unexpected ']': no list is open here (unbalanced brackets)")
        elif kind == "int":
            top.entries.append((key.text, int(ttext), key.pos, tpos))
            key = None
            continue
        elif kind == "real":
            top.entries.append((key.text, float(ttext), key.pos, tpos))
            key = None
            continue
        elif kind == "string":
            top.entries.append((key.text, unescape(ttext[1:-1]), key.pos, tpos))
            key = None
            continue
        elif kind == "open":
            if len(stack) > MAX_DEPTH:
                raise fail(_Token(kind, ttext, tpos), f"lists nested more than {MAX_DEPTH} deep")
            if key.text in _STRUCTURE and top.key in ("node", "edge"):
                line, _ = loc.one(top.pos)
                raise fail(key, f"expected ']' to close {top.key!r} opened at line {line} "
                                f"before this {key.text!r}")
            child = GmlList(key.text, key.pos)
            top.entries.append((key.text, child, key.pos, tpos))
            stack.append(child)
            top = child
            key = None
            continue
        tok = _Token(kind, ttext, tpos)
        if kind == "bad":
            raise fail(tok, f"unexpected character {ttext[0]!r}: not valid GML")
        if kind == "unterminated":
            raise fail(tok, "string opened here is never closed with '\"' (file truncated?)")
        if key is None:
            raise fail(tok, f"expected a key (a name such as 'node'), found {_show(tok)}")
        raise fail(tok, f"expected a value for key {key.text!r} (a number, a quoted string or "
                        f"'['), found {_show(tok)}")
    if key is not None:
        raise fail(None, f"the file ends after key {key.text!r} without its value (truncated?)")
    if len(stack) > 1:
        line, _ = loc.one(top.pos)
        raise fail(None, f"expected ']' to close {top.key!r} opened at line {line}, "
                         "found the end of the file (truncated?)")
    return root


def _located(groups: list[GmlList], loc: Locator, label: str, warnings: list[str]
             ) -> list[dict[str, Value]]:
    """The scalar attributes of each list, located at their values (all offsets converted in
    one vectorised step); a repeated key keeps its first value, with a warning."""
    owner: list[int] = []
    keys: list[str] = []
    vals: list[Any] = []
    offsets: list[int] = []
    for gi, lst in enumerate(groups):
        for k, v, _, vpos in lst.entries:
            if not isinstance(v, GmlList):
                owner.append(gi)
                keys.append(k)
                vals.append(v)
                offsets.append(vpos)
    lines, cols = loc.many(np.array(offsets, dtype=np.int64))
    out: list[dict[str, Value]] = [{} for _ in groups]
    repeats = 0
    for gi, k, v, line, col in zip(owner, keys, vals, lines.tolist(), cols.tolist()):
        d = out[gi]
        if k not in d:
            d[k] = Value(v, line, col)
            continue
        repeats += 1
        if repeats <= 10:
            warnings.append(f"{label}:{line}: key {k!r} repeated in the {groups[gi].key} opened at "
                            f"line {loc.one(groups[gi].pos)[0]}; the first value is used")
    if repeats > 10:
        warnings.append(f"{label}: {repeats - 10} more repeated keys; the first values are used")
    return out


def read_gml(f: InputFile) -> GraphData:
    """Read a GML graph file.

    Raises
    ------
    ValidationError
        Not text, not GML, a syntax error, no ``graph [ ]``, or a ``node`` or ``edge`` nested
        where a ``]`` is missing.
    """
    text, warnings = decode_text(f, what="GML")
    loc = Locator(text)
    root = parse_gml(text, f.label, loc)
    graphs = [(v, pos) for k, v, pos, _ in root.entries if k == "graph"]
    if not graphs or not isinstance(graphs[0][0], GmlList):
        hint = _looks_like(text)
        first = root.entries[0] if root.entries else None
        line, col = loc.one(first[2]) if first else (1, 1)
        raise ValidationError(Problem(
            "no 'graph [ ... ]' list found: not a GML graph"
            + (f" (the file looks like {hint})" if hint else ""), f.label, line, col,
            value=first[0] if first else None))
    if len(graphs) > 1:
        line, col = loc.one(graphs[1][1])
        raise ValidationError(Problem("a second 'graph' in one file; put each network in its own "
                                      "file", f.label, line, col, value="graph"))
    graph: GmlList = graphs[0][0]
    groups: list[GmlList] = [graph]
    for k, v, pos, _ in graph.entries:
        if k in ("node", "edge") and not isinstance(v, GmlList):
            line, col = loc.one(pos)
            raise ValidationError(Problem(f"{k!r} must be a list '{k} [ ... ]', found a single value",
                                          f.label, line, col, value=v))
        if k in ("node", "edge"):
            groups.append(v)
    attrs = _located(groups, loc, f.label, warnings)
    glines, gcols = loc.many(np.array([g.pos for g in groups], dtype=np.int64))
    items = [Item(a, line, col) for a, line, col in zip(attrs, glines.tolist(), gcols.tolist())]
    nodes = [it for it, g in zip(items[1:], groups[1:]) if g.key == "node"]
    edges = [it for it, g in zip(items[1:], groups[1:]) if g.key == "edge"]
    return GraphData(f.label, "GML", attrs[0], nodes, edges, glines[0].item(), warnings)


# --------------------------------------------------------------------------------------------
# GraphML
# --------------------------------------------------------------------------------------------

_GRAPHML_TYPES = {"int": int, "long": int, "integer": int, "float": float, "double": float,
                  "string": str, "boolean": "bool"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class _GraphMLTarget:
    """Builds :class:`GraphData` from parser events, noting the line of every element."""

    def __init__(self, label: str):
        self.label = label
        self.parser = None  # set once the parser exists; gives expat's current position
        self.keys: dict[str, tuple[str, str, str, int]] = {}   # id -> (name, type, for, line)
        self.defaults: dict[str, str] = {}
        self.graph_attrs: dict[str, Value] = {}
        self.nodes: list[Item] = []
        self.edges: list[Item] = []
        self.graph_line = 1
        self.graphs = 0
        self.depth_graph = 0
        self.path: list[str] = []
        self.current: Item | None = None
        self.current_kind = ""
        self.data_key: tuple[str, int, int] | None = None
        self.key_id: str | None = None
        self.text: list[str] = []
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        self.root: str | None = None

    def _where(self) -> tuple[int, int]:
        p = self.parser.parser
        return p.CurrentLineNumber, p.CurrentColumnNumber + 1

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        name = _local(tag)
        line, col = self._where()
        if self.root is None:
            self.root = name
        self.path.append(name)
        self.text = []
        if name == "key":
            kid = attrs.get("id")
            if not kid:
                self.problems.append(Problem("<key> without an id", self.label, line, col))
                return
            self.keys[kid] = (attrs.get("attr.name", kid), attrs.get("attr.type", "string"),
                              attrs.get("for", "all"), line)
            self.key_id = kid
        elif name == "graph":
            self.graphs += 1
            if self.graphs == 1:
                self.graph_line = line
            elif self.graphs == 2:
                self.problems.append(Problem("a second <graph> in one file; put each network in "
                                             "its own file", self.label, line, col))
        elif name in ("node", "edge") and self.graphs == 1:
            if self.current is not None:
                self.problems.append(Problem(f"<{name}> inside another <{self.current_kind}>",
                                             self.label, line, col))
            item = Item({}, line, col)
            if name == "node":
                if "id" not in attrs:
                    self.problems.append(Problem("<node> without an id attribute", self.label, line, col))
                else:
                    item.attrs["id"] = Value(attrs["id"], line, col)
                self.nodes.append(item)
            else:
                for end in ("source", "target"):
                    if end not in attrs:
                        self.problems.append(Problem(f"<edge> without a {end} attribute",
                                                     self.label, line, col))
                    else:
                        item.attrs[end] = Value(attrs[end], line, col)
                self.edges.append(item)
            self.current, self.current_kind = item, name
        elif name == "data":
            self.data_key = (attrs.get("key", ""), line, col)

    def data(self, text: str) -> None:
        self.text.append(text)

    def end(self, tag: str) -> None:
        name = _local(tag)
        self.path.pop()
        text = "".join(self.text)
        self.text = []
        if name == "default" and self.key_id is not None:
            self.defaults[self.key_id] = text
        elif name == "key":
            self.key_id = None
        elif name in ("node", "edge"):
            self.current = None
        elif name == "data" and self.data_key is not None and self.graphs == 1:
            self._store(text)
            self.data_key = None

    def _store(self, text: str) -> None:
        kid, line, col = self.data_key
        if kid not in self.keys:
            self.problems.append(Problem(f"<data> refers to undeclared key {kid!r}", self.label,
                                         line, col, value=kid))
            return
        attr, typ, _for, _ = self.keys[kid]
        value = self._typed(text, typ, attr, line, col)
        if value is None:
            return
        target = self.current.attrs if self.current is not None else self.graph_attrs
        if self.current is not None and attr in ("id", "source", "target") and attr in target:
            return  # the XML attributes are the identity; Zoo data copies of them add nothing
        if attr in target:
            self.warnings.append(f"{self.label}:{line}: attribute {attr!r} given twice; the first "
                                 "value is used")
            return
        target[attr] = Value(value, line, col)

    def _typed(self, text: str, typ: str, attr: str, line: int, col: int) -> Any:
        conv = _GRAPHML_TYPES.get(typ.lower(), str)
        s = text.strip() if conv is not str else text
        try:
            if conv == "bool":
                low = s.lower()
                if low not in ("true", "false", "1", "0"):
                    raise ValueError(s)
                return low in ("true", "1")
            return conv(s)
        except ValueError:
            self.problems.append(Problem(f"{attr!r} is declared {typ} but the value is not one",
                                         self.label, line, col, value=text))
            return None

    def close(self) -> None:
        return None

    def apply_defaults(self) -> None:
        """Fill declared ``<default>`` values into the items that lack them."""
        for kid, raw in self.defaults.items():
            attr, typ, scope, line = self.keys[kid]
            value = self._typed(raw, typ, attr, line, 1)
            if value is None:
                continue
            groups = {"node": self.nodes, "edge": self.edges}
            for kind, items in groups.items():
                if scope in (kind, "all"):
                    for it in items:
                        it.attrs.setdefault(attr, Value(value, line, 1))
            if scope in ("graph", "all"):
                self.graph_attrs.setdefault(attr, Value(value, line, 1))


def _declared_encoding(data: bytes) -> str | None:
    """The encoding an XML declaration names, if it is a known codec other than UTF-8."""
    m = re.match(rb"(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]{1,40})[\"']", data)
    if not m:
        return None
    name = m.group(1).decode("ascii")
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    return None if codec == "utf-8" else codec


def read_graphml(f: InputFile) -> GraphData:
    """Read a GraphML graph file (XML parsed by defusedxml: no entities, no DTD, no network).

    Raises
    ------
    ValidationError
        Malformed XML (with expat's line and column), an HTML page, a root other than
        ``<graphml>``, no ``<graph>``, undeclared keys or values that do not fit their type.
    """
    from xml.etree.ElementTree import ParseError

    import defusedxml
    from defusedxml.ElementTree import DefusedXMLParser

    text, warnings = decode_text(f, what="GraphML", encoding=_declared_encoding(f.data))
    hint = _looks_like(text)
    if hint == "an HTML page":
        raise ValidationError(Problem("this is an HTML page, not GML or GraphML (a saved web page "
                                      "instead of the data file?)", f.label, 1, 1))
    target = _GraphMLTarget(f.label)
    parser = DefusedXMLParser(target=target, forbid_dtd=True)
    target.parser = parser
    try:
        parser.feed(text)
        parser.close()
    except ParseError as e:
        line, col = getattr(e, "position", (None, None))
        reason = str(e).split(":", 1)[0]
        raise ValidationError(Problem(f"not well-formed XML ({reason})", f.label, line,
                                      None if col is None else col + 1)) from None
    except defusedxml.DefusedXmlException as e:
        expat = parser.parser
        raise ValidationError(Problem(f"refused XML feature ({type(e).__name__}): DTDs and entity "
                                      "declarations are not allowed in GraphML input", f.label,
                                      expat.CurrentLineNumber, expat.CurrentColumnNumber + 1)) from None
    if target.root != "graphml":
        raise ValidationError(Problem(f"root element is <{target.root}>, expected <graphml>: not a "
                                      "GraphML file", f.label, 1, 1, value=target.root))
    if target.graphs == 0:
        raise ValidationError(Problem("no <graph> element: the file holds no network", f.label, 1, 1))
    if target.problems:
        raise ValidationError(target.problems)
    target.apply_defaults()
    return GraphData(f.label, "GraphML", target.graph_attrs, target.nodes, target.edges,
                     target.graph_line, warnings + target.warnings)


def read_graph(f: InputFile) -> GraphData:
    """Read GML or GraphML, chosen by content (an XML document is GraphML), not by file name."""
    head = f.data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return read_graphml(f)
    return read_gml(f)
