"""Reading the YAML and JSON files users give (grids, range files) safely.

Three hostile shapes get one line naming the file instead of eating the machine:

- alias bombs: a few hundred bytes of YAML whose aliases stand for billions of
  nodes. Aliases may add at most :data:`MAX_ALIAS_NODES` nodes beyond those
  written out, counted on the composed node graph before anything is built;
  an alias that refers to its own node (a cycle) is refused too;
- nesting deeper than :data:`MAX_DEPTH` levels (no real file nests past 5),
  which would otherwise end in a RecursionError somewhere downstream;
- malformed text: the parser's own message and line;
- files that are not text, or too large to be a grid (``/dev/zero`` included).
"""
from __future__ import annotations

import json

from ..errors import UsageError

MAX_ALIAS_NODES = 10_000  # nodes aliases may add; a grid or range file needs a handful
MAX_DEPTH = 64  # nesting levels
MAX_FILE_BYTES = 1 << 24  # 16 MiB: grids, ranges and specs are a few KiB
MAX_TABLE_BYTES = 1 << 26  # 64 MiB: all 15,625 NB201 architectures with a few columns are ~2 MiB


def read_text_file(path, what: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """A user's text file, read with a size bound (so ``/dev/zero`` or a huge file is
    refused, not read into memory), as UTF-8; one line on any problem."""
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise UsageError(cannot_read(what, path, e)) from None
    if len(data) > max_bytes:
        raise UsageError(too_large(what, path, max_bytes))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(not_utf8(what, path)) from None


# The messages of a text file that cannot be read, one wording for every reader.
def cannot_read(what: str, path, error: OSError) -> str:
    return f"cannot read {what} {str(path)!r}: {error.strerror}"


def too_large(what: str, path, max_bytes: int) -> str:
    return f"{what} {str(path)!r} is over {max_bytes >> 20} MiB, too large to be one"


def not_utf8(what: str, path) -> str:
    return f"{what} {str(path)!r} is not UTF-8 text"


def parse_yaml_or_json(text: str, source: str, what: str, *, as_json: bool):
    """The data in ``text``; ``what`` names the file in messages (``grid file 'g.yaml'``)."""
    if as_json:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise UsageError(f"{what} {source!r} is not valid JSON: {e.msg} at line {e.lineno}") from None
        except RecursionError:
            raise UsageError(f"{what} {source!r} is nested more than {MAX_DEPTH} levels deep") from None
        _check_depth(data, source, what)
        return data
    import yaml  # YAML is a superset of JSON, so any other suffix goes through it

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(node, source, what)
        return loader.construct_document(node)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or type(e).__name__
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise UsageError(f"{what} {source!r} is not valid YAML: {problem}{at}") from None
    except RecursionError:
        raise UsageError(f"{what} {source!r} is nested more than {MAX_DEPTH} levels deep") from None
    finally:
        loader.dispose()


def _children(node) -> list:
    import yaml
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_nodes(root, source: str, what: str) -> None:
    """Refuse a node graph whose aliases expand past the budget, that nests too deep,
    or that contains a cycle. Iterative, with each node's expanded size and height
    computed once, so the check itself costs no more than the nodes written."""
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            height[key] = 1 + max((height[id(k)] for k in kids), default=0)
            # The nodes below this one that are written out number at most len(size);
            # the rest of its expanded size comes from aliases.
            if size[key] - len(size) > MAX_ALIAS_NODES:
                raise UsageError(f"{what} {source!r} uses YAML aliases that expand to more than "
                                 f"{MAX_ALIAS_NODES:,} extra values; write the values out")
            if height[key] > MAX_DEPTH:
                raise UsageError(f"{what} {source!r} is nested more than {MAX_DEPTH} levels deep")
            continue
        if key in size:
            continue
        if key in open_nodes:
            raise UsageError(f"{what} {source!r} has a YAML alias inside its own anchor (a cycle)")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in size)


def _check_depth(data, source: str, what: str) -> None:
    """JSON has no aliases; only its nesting needs a bound."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise UsageError(f"{what} {source!r} is nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
