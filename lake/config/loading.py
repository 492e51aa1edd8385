"""Reading declaration files: YAML with line numbers, typed models, errors that say what to do.

Every declaration (``lakehouse.yaml``, ``source.yaml``, a contract, a warehouse model) is read by
:func:`read_yaml` and validated by :func:`parse`. A problem becomes one :class:`ConfigError`
naming the file, the key (with its line where YAML knows it) and the fix::

    sources/retail/source.yaml: datasets.orders.filez (line 14): unknown key; did you mean
    'files'? known keys: csv, files, format, json, optional, unstructured

Files are bounded (:data:`MAX_BYTES`) and read with ``yaml.safe_load`` only: a declaration is
data, never code.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from lake.errors import ConfigError

MAX_BYTES = 1 << 20  # a declaration larger than 1 MiB is a mistake, not a declaration
MAX_PROBLEMS = 8  # listed per file; the rest are counted

M = TypeVar("M", bound=BaseModel)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The safe loader (libyaml's parser where installed: ten times faster, which matters when
    Airflow parses a DAG per source) that remembers the line of every mapping key."""


def _mapping_with_lines(loader: _Loader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value
             if isinstance(k, yaml.ScalarNode)}
    return _Located(mapping, lines)


class _Located(dict):
    """A YAML mapping with the line of each key (for error messages only)."""

    def __init__(self, data: dict, lines: dict[str, int]) -> None:
        super().__init__(data)
        self.lines = lines


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_lines)
# YAML 1.2 booleans: only true/false. YAML 1.1 also reads on/off/yes/no (and y/n) as booleans,
# which turns a key such as `on:` or a country code `NO` into True/False.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}

_Loader.add_implicit_resolver("tag:yaml.org,2002:bool",
                              re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


def read_text(path: Path, what: str = "declaration") -> str:
    """The text of ``path`` (UTF-8, at most :data:`MAX_BYTES`); ConfigError naming the file."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ConfigError(f"{path}: {size} bytes is too large for a {what} "
                              f"(at most {MAX_BYTES}); split it or remove generated content")
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as err:
        raise ConfigError(f"{path}: no such file; create it (lakehouse init DIR scaffolds a "
                          "project)") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start}); save it "
                          "as UTF-8") from err
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror}") from err


def load_yaml_text(text: str, origin: str) -> Any:
    """Parse YAML ``text``; ConfigError naming ``origin`` and the line of a syntax error."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"{origin}{where}: not valid YAML: {problem}; check the indentation "
                          "and quote values that contain ': ' or start with '{', '[', '*' or '&'"
                          ) from err


def read_yaml(path: Path, what: str = "declaration", origin: str | None = None) -> Any:
    """Read and parse one YAML declaration file (``origin``: how messages name it)."""
    return load_yaml_text(read_text(path, what), origin or str(path))


def parse(model: type[M], data: Any, origin: str, context: dict[str, Any] | None = None) -> M:
    """Validate ``data`` as ``model``; a ConfigError names ``origin``, each bad key and its fix."""
    if data is None:
        raise ConfigError(f"{origin}: the file is empty; see `lakehouse init` for an example")
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: must be a mapping of keys to values, not a "
                          f"{type(data).__name__}")
    try:
        return model.model_validate(data, context=context)
    except ValidationError as err:
        raise ConfigError(describe(err, origin, model, data)) from err


def describe(err: ValidationError, origin: str, model: type[BaseModel], data: Any) -> str:
    """One message for every problem pydantic found, each with its key path and fix."""
    problems = [_problem(e, model, data) for e in err.errors()]
    shown = problems[:MAX_PROBLEMS]
    more = len(problems) - len(shown)
    text = "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
    return f"{origin}: {text}"


def _problem(error: dict, model: type[BaseModel], data: Any) -> str:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    key = ".".join(map(str, loc))
    line = _line(data, loc)
    where = f"{key}{f' (line {line})' if line else ''}"
    if not key:  # a rule across keys: the message names them
        return error["msg"].removeprefix("Value error, ")
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _known_keys(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"{where}: unknown key; {hint}known keys: {', '.join(sorted(known))}"
    if kind == "missing":
        return f"{where}: required; add it"
    message = error["msg"].removeprefix("Value error, ")
    if kind.endswith(("_type", "_parsing")) and "input" in error:
        message += f" (got {error['input']!r})"
    return f"{where}: {message}"


def _line(data: Any, loc: tuple) -> int | None:
    """The line of the deepest key of ``loc`` that the YAML reader recorded."""
    line = None
    node = data
    for part in loc:
        if isinstance(node, _Located) and str(part) in node.lines:
            line = node.lines[str(part)]
        if isinstance(node, dict):
            node = node.get(part, node.get(str(part)))
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            break
    return line


def _known_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names (aliases where set) of the model found at ``loc`` inside ``model``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        field = getattr(current, "model_fields", {}).get(str(part))
        current = _model_of(field.annotation) if field is not None else current
    fields = getattr(current, "model_fields", {})
    return [f.alias or name for name, f in fields.items()]


def _model_of(annotation: Any) -> Any:
    """The BaseModel inside ``annotation`` (``X``, ``X | None``, ``dict[str, X]``, ``tuple[X, ...]``)."""
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
