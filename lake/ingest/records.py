"""Landed records as bronze rows, typed by the contract, with nothing dropped.

A raw reader (:mod:`lake.ingest.formats`) turns every landed record into its fields' raw text (a
``_raw`` map, or one text column per field of a CSV header) plus the whole record when it cannot
be parsed at all. :func:`to_bronze` then types the contract's columns (``try_cast``; the
dataset's date and timestamp patterns; ``from_json`` for nested types) and keeps, in
``_rescued_data`` (JSON), every value that did not fit: a field of the wrong type, a field the
contract does not know, or the raw text of an unparsable record. One pass, no Python per row; the
rescued map is only built for a record that has something to rescue.

Spark's ``try_cast`` of text to a number or a boolean raises (and catches) an exception inside the
JVM for every value that does not fit, ~25 us each for ``int``: a column whose values mostly do
not fit its type (a type change the policy keeps out) is ``guarded``: its values are matched
against :data:`PATTERNS` first, so no exception is raised. A column with the odd bad value is not
guarded: matching every value would cost more than the few exceptions.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from lake.contracts.model import Contract, is_nested
from lake.ingest.formats.raw import CORRUPT, RAW, fields_of

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

METADATA_COLUMNS = ("_rescued_data", "_source_file", "_ingested_at", "_batch_id", "_record_id")
_CAST_PREFIX = "_cast:"
_TRIM = r"[\x00-\x20\x7f]*"  # what Spark trims around a number or a boolean before casting
# Java regexes (``rlike``) a text must match for ``try_cast`` to that type to succeed: each
# admits everything the cast accepts (the cast still decides), so a guard changes no result.
PATTERNS = {
    "int": rf"^{_TRIM}[+-]?[0-9]+{_TRIM}$",
    "bigint": rf"^{_TRIM}[+-]?[0-9]+{_TRIM}$",
    # Java's Double.parseDouble (decimal, hex, NaN, Infinity, d/f suffix) and Spark's inf/nan
    "double": (rf"^{_TRIM}[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?"
               r"|0[xX][0-9a-fA-F]*\.?[0-9a-fA-F]*[pP][+-]?[0-9]+[fFdD]?"
               rf"|(?i:nan|inf|infinity)){_TRIM}$"),
    # Java's BigDecimal, which takes any Unicode digit
    "decimal": rf"^{_TRIM}[+-]?(?:\p{{Nd}}+\.?\p{{Nd}}*|\.\p{{Nd}}+)(?:[eE][+-]?\p{{Nd}}+)?{_TRIM}$",
    "boolean": rf"^{_TRIM}(?i:t|true|y|yes|1|f|false|n|no|0){_TRIM}$",
}


def to_bronze(contract: Contract, batch_id: str, ingested_at: datetime,
              formats: dict[str, str] | None = None, *, guarded: frozenset[str] = frozenset(),
              check=None):
    """A transform from raw rows to bronze rows (use with ``df.transform``); ``formats``: the
    datetime pattern of each type, as the dataset declares them (``{"date": "dd.MM.yyyy"}``);
    ``guarded``: columns typed without exceptions (see the module doc); ``check``: a
    :class:`lake.ingest.observed_schema.BatchCheck` whose metrics the rows carry when written."""
    from pyspark.sql import functions as F

    def transform(df: DataFrame) -> DataFrame:
        # two projections: the casts, then what reads them (what fits, what to rescue), so a
        # value is cast once per record (Spark keeps a costly expression read twice uncollapsed)
        parts = _Parts(contract, formats or {}, fields_of(df.columns), guarded, staged=True)
        df = df.select(*parts.casts(), "*")
        metadata = [F.col("_source_file"), F.lit(ingested_at).cast("timestamp").alias("_ingested_at"),
                    F.lit(batch_id).alias("_batch_id"), F.expr("uuid()").alias("_record_id")]
        columns = [*parts.columns(), *metadata]
        if check is None:
            return df.select(*columns)
        flags = check.flag_columns(parts.text, parts.misfit, parts.unseen(check.seen))
        if not flags:  # nothing to check: every column a string the sample saw
            return df.select(*columns)
        checked = df.select(*columns, *(c for _, c in flags)).observe(check.observation,
                                                                     *check.metrics(flags))
        return checked.select(*[c for c in checked.columns if c not in {f for f, _ in flags}])

    return transform


def typed_value(raw: Column, type_: str, formats: dict[str, str], guard: bool = False) -> Column:
    """``raw`` text as ``type_``, NULL where it does not fit; ``guard``: match :data:`PATTERNS`
    before casting, so a misfit raises no exception inside the JVM."""
    from pyspark.sql import functions as F

    if is_nested(type_):  # JSON text of the right shape: an object, or a list for an array
        opening = "[" if type_.startswith("array<") else "{"
        return F.when(F.ltrim(raw).startswith(opening), F.from_json(raw, type_))
    if type_ in ("date", "timestamp") and type_ in formats:
        parsed = F.try_to_timestamp(raw, F.lit(formats[type_]))
        return F.to_date(parsed) if type_ == "date" else parsed
    pattern = PATTERNS.get(type_.split("(")[0]) if guard else None
    if pattern is not None:
        return F.when(raw.rlike(pattern), raw.try_cast(type_))
    return raw.try_cast(type_)


class _Parts:
    """The typed columns of raw rows of either shape, and what does not fit."""

    def __init__(self, contract: Contract, formats: dict[str, str], fields: dict[str, str] | None,
                 guarded: frozenset[str], staged: bool = False):
        from pyspark.sql import functions as F

        self.fields = fields
        self.known = list(contract.column_names)
        self.text: dict[str, Column] = {}
        for c in contract.columns:
            if fields is None:
                self.text[c.name] = F.col(RAW)[c.name]
            elif c.name in fields:
                self.text[c.name] = F.col(f"`{fields[c.name]}`")
        self.cast = {c.name: typed_value(self.text[c.name], c.type, formats, c.name in guarded)
                     if c.name in self.text else F.lit(None).cast(c.type)
                     for c in contract.columns}
        # staged: the casts are columns of a projection before (:meth:`casts`)
        self.typed = {c: F.col(f"`{_CAST_PREFIX}{c}`") for c in self.cast} if staged else self.cast
        types = {c.name: c.type for c in contract.columns}  # text always fits a string
        self.misfit = {c: self.typed[c].isNull() & t.isNotNull() for c, t in self.text.items()
                       if types[c] != "string"}

    def casts(self) -> list[Column]:
        """The typed values as columns of their own (for ``staged`` parts)."""
        return [cast.alias(f"{_CAST_PREFIX}{c}") for c, cast in self.cast.items()]

    def unknown(self) -> tuple[Column, Column | None]:
        """(whether the record has a field the contract does not know, the map of them; None
        for rows with a column per field, whose unknown fields :meth:`columns` names)."""
        from pyspark.sql import functions as F

        if self.fields is None:
            present = sum((F.map_contains_key(F.col(RAW), c).cast("int") for c in self.known),
                          F.lit(0))
            fields = F.map_filter(F.col(RAW), lambda k, v: ~F.array_contains(F.lit(self.known), k)
                                  & v.isNotNull())
            return F.size(F.col(RAW)) > present, fields
        return _any(F.col(f"`{col}`").isNotNull() for name, col in self.fields.items()
                    if name not in self.known), None

    def unseen(self, seen: frozenset[str]) -> Column | None:
        """Whether a record has a field outside ``seen`` (None: a header names every field)."""
        from pyspark.sql import functions as F

        if self.fields is not None:
            return None
        names = sorted(set(self.known) | seen)
        return F.exists(F.map_keys(F.col(RAW)), lambda k: ~F.array_contains(F.lit(names), k))

    def columns(self) -> list[Column]:
        """The contract's columns typed and ``_rescued_data``: JSON of every value that did not
        fit, every field the contract does not know, and the raw text of an unparsable record
        (``_corrupt_record``); NULL when there is none (built only for a record that has one)."""
        from pyspark.sql import functions as F

        has_unknown, unknown = self.unknown()
        anything = _any([*self.misfit.values(), has_unknown, F.col(CORRUPT).isNotNull()])
        typed = [self.typed[c].alias(c) for c in self.known]
        if self.fields is not None:  # every field has a name up front: a struct, JSON sans nulls
            extra = [F.col(f"`{col}`").alias(name) for name, col in self.fields.items()
                     if name not in self.known]
            rescued = F.struct(*[F.when(m, self.text[c]).alias(c) for c, m in self.misfit.items()],
                               *extra, F.col(CORRUPT).alias(CORRUPT))
            return [*typed, F.when(anything, F.to_json(rescued, {"ignoreNullFields": "true"}))
                    .alias("_rescued_data")]
        empty = F.create_map().cast("map<string,string>")
        misfits = F.map_filter(
            F.create_map(*[x for c in self.known
                           for x in (F.lit(c), F.when(self.typed[c].isNull(), self.text[c])
                                     if c in self.text else F.lit(None).cast("string"))]),
            lambda _k, v: v.isNotNull())
        corrupt = F.map_filter(F.create_map(F.lit(CORRUPT), F.col(CORRUPT)),
                               lambda _k, v: v.isNotNull())
        rescued = F.map_concat(F.coalesce(misfits, empty), F.coalesce(unknown, empty), corrupt)
        return [*typed, F.when(anything & (F.size(rescued) > 0), F.to_json(rescued)).alias("_rescued_data")]


def _any(conditions) -> Column:
    from functools import reduce

    from pyspark.sql import functions as F

    conditions = list(conditions)
    return reduce(lambda a, b: a | b, conditions) if conditions else F.lit(False)


def typed_columns(contract: Contract, formats: dict[str, str] | None = None) -> list[Column]:
    """The contract's columns typed from ``_raw`` map rows, and ``_rescued_data`` (see
    :meth:`_Parts.columns`)."""
    return _Parts(contract, formats or {}, None, frozenset()).columns()


def raw_of(columns: dict[str, str]) -> list[Column]:
    """The inverse of :func:`typed_columns` for stored bronze rows (``columns``: name -> type):
    ``_raw`` (each column's value as text, nested values as JSON, the rescued text where the
    value did not fit, unknown fields) and ``_corrupt_record``, so a row can be re-typed under
    another contract version."""
    from pyspark.sql import functions as F

    def text(name: str, type_: str) -> Column:
        col = F.col(f"`{name}`")
        return F.to_json(col) if is_nested(type_) else col.cast("string")

    rescued = F.coalesce(F.from_json("_rescued_data", "map<string,string>"),
                         F.create_map().cast("map<string,string>"))
    stored = F.map_filter(
        F.create_map(*[x for c, t in columns.items() for x in (F.lit(c), text(c, t))]),
        lambda _k, v: v.isNotNull())
    fields = F.map_filter(rescued, lambda k, _v: k != F.lit(CORRUPT))
    # rescued text wins over the (null) typed value of the same column
    merged = F.map_concat(F.map_filter(stored, lambda k, _v: ~F.array_contains(F.map_keys(fields), k)),
                          fields)
    return [merged.alias(RAW), rescued[F.lit(CORRUPT)].alias(CORRUPT)]
