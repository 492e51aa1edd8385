"""Column-level lineage of a SQL transform, read off its syntax tree with sqlglot.

    column_lineage(sql, dialect="spark")
    -> {"city": [Source("silver.customers", "city", "IDENTITY", False)],
        "customer_sk": [Source("silver.customers", "customer_id", "TRANSFORMATION", True)]}

``sql`` is the transform that builds one table: a ``SELECT``, an ``INSERT INTO … SELECT`` or a
``MERGE INTO … USING … WHEN … THEN UPDATE SET / INSERT``. Every output column maps to the source
table columns its value is computed from (the OpenLineage ``columnLineage`` facet's direct
inputs), followed through subqueries, CTEs, joins and ``UNION``. Columns used only to filter or
join are not listed; a column of the MERGE target that feeds its own update (``t.x``) is not a
source. Literals and parameters (``:effective_at``) have no lineage.

Each source says how the value is derived, as the OpenLineage ``DIRECT`` transformation subtypes:
``IDENTITY`` (the column as it is, maybe renamed), ``TRANSFORMATION`` (computed from it: a function,
arithmetic, a cast) or ``AGGREGATION`` (an aggregate over it), with ``masking`` when a hash stands
between the two (the value cannot be read back). Through subqueries, CTEs and the MERGE's source
the strongest step wins: an identity of a hash is a masked transformation.

:func:`to_locations` swaps table names for the dataset locations a job knows, ready for
:class:`lineage.events.run_events.DatasetRef`'s ``column_lineage``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from lineage.errors import QueryError

IDENTITY, TRANSFORMATION, AGGREGATION = "IDENTITY", "TRANSFORMATION", "AGGREGATION"
_STRENGTH = {IDENTITY: 0, TRANSFORMATION: 1, AGGREGATION: 2}
# Functions whose result does not let the input be read back: their outputs are masked.
_HASH_FUNCTIONS = frozenset({
    "md5", "sha", "sha1", "sha2", "sha256", "sha512", "hash", "xxhash64", "crc32",
    "murmur3_hash", "farm_fingerprint", "cityhash64",
})


class Source(NamedTuple):
    """One column an output column is computed from, and how (an OpenLineage DIRECT subtype)."""

    table: str  # the source table, or (after :func:`to_locations`) its dataset location
    column: str
    subtype: str = IDENTITY  # IDENTITY, TRANSFORMATION or AGGREGATION
    masking: bool = False


Sources = set[Source]


def column_lineage(sql: str, dialect: str = "spark") -> dict[str, list[Source]]:
    """``{output column: [Source(table, column, subtype, masking), ...]}`` of ``sql`` (sorted)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except ParseError as err:
        raise QueryError(f"cannot read the transform's SQL for column lineage: {err}") from err
    if isinstance(tree, exp.Merge):
        found = _merge(tree)
    elif isinstance(tree, exp.Insert):
        found = _insert(tree)
    elif isinstance(tree, exp.Query):
        found = _query(tree, {})
    else:
        raise QueryError(
            f"column lineage reads SELECT, INSERT … SELECT or MERGE, not {tree.key.upper()}: "
            "describe the transform as the query that builds its table"
        )
    return {column: sorted(sources) for column, sources in sorted(found.items())}


def to_locations(
    mapping: dict[str, list[Source]], locations: dict[str, str]
) -> dict[str, list[Source]]:
    """``mapping`` with each source table replaced by its location (tables not in
    ``locations`` are dropped: they are not datasets the run recorded), and columns left with no
    source (literals, parameters) dropped."""
    found = {
        column: [s._replace(table=locations[s.table]) for s in sources if s.table in locations]
        for column, sources in mapping.items()
    }
    return {column: sources for column, sources in found.items() if sources}


def _merge(tree: Any) -> dict[str, Sources]:
    from sqlglot import exp

    target = tree.this
    target_alias = target.alias_or_name
    source = tree.args["using"]
    source_alias = source.alias_or_name
    source_columns = _relation(source, {})
    found: dict[str, Sources] = {}

    def refs(expression: Any) -> Sources:
        sources: Sources = set()
        for column in expression.find_all(exp.Column):
            if column.table == target_alias:
                continue  # the target's own current value, not an input
            if column.table in ("", source_alias):
                sources |= _through(source_columns.get(column.name, set()), column, expression)
        return sources

    for when in tree.args["whens"].expressions:
        then = when.args.get("then")
        if isinstance(then, exp.Insert):
            names = [c.name for c in then.this.expressions]
            values = then.expression.expressions
            for name, value in zip(names, values, strict=True):
                found.setdefault(name, set()).update(refs(value))
        elif isinstance(then, exp.Update):
            for assignment in then.expressions:
                found.setdefault(assignment.this.name, set()).update(refs(assignment.expression))
    return found


def _insert(tree: Any) -> dict[str, Sources]:
    from sqlglot import exp

    produced = _query(tree.expression, {})
    target = tree.this
    if isinstance(target, exp.Schema) and target.expressions:
        names = [c.name for c in target.expressions]
        return {name: sources for name, sources in zip(names, produced.values(), strict=False)}
    return produced


def _query(query: Any, ctes: dict[str, dict[str, Sources]]) -> dict[str, Sources]:
    """Output column -> sources of a SELECT, UNION or parenthesised query."""
    from sqlglot import exp

    ctes = dict(ctes)
    with_ = query.args.get("with_") or query.args.get("with")
    for cte in with_.expressions if with_ else ():
        ctes[cte.alias_or_name] = _query(cte.this, ctes)
    if isinstance(query, exp.Subquery):
        return _query(query.this, ctes)
    if isinstance(query, exp.SetOperation):
        left, right = _query(query.left, ctes), _query(query.right, ctes)
        if isinstance(left, _Extended) or isinstance(right, _Extended):
            return _Extended([left, right], {  # with a star: match by name
                name: left.get(name, set()) | right.get(name, set())
                for name in set(left) | set(right)})
        merged = {name: set(sources) for name, sources in left.items()}
        for (name, _), extra in zip(left.items(), right.values(), strict=False):
            merged[name] |= extra  # UNION matches columns by position
        return merged
    relations = {}
    for relation in _from_and_joins(query):
        relations[relation.alias_or_name] = _relation(relation, ctes)
    found: dict[str, Sources] = {}
    starred = []
    for projection in query.expressions:
        if isinstance(projection, exp.Star):
            starred += list(relations.values())  # SELECT *: every relation's columns pass on
            continue
        if isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
            starred += [relations[projection.table]] if projection.table in relations else []
            continue
        sources: Sources = set()
        for column in projection.find_all(exp.Column):
            sources |= _through(_column(column, relations), column, projection.unalias())
        found[projection.alias_or_name] = sources
    return _Extended(starred, found) if starred else found


def _from_and_joins(select: Any) -> list[Any]:
    relations = []
    from_ = select.args.get("from_") or select.args.get("from")
    if from_ is not None:
        relations.append(from_.this)
    relations += [join.this for join in select.args.get("joins") or ()]
    return relations


def _relation(relation: Any, ctes: dict[str, dict[str, Sources]]) -> dict[str, Sources]:
    """Column -> sources of something in FROM: a table (each column is itself), a CTE, or a
    subquery. A table's columns are open-ended, so it answers any column name."""
    from sqlglot import exp

    if isinstance(relation, exp.Table):
        if relation.name in ctes and not relation.db:
            return ctes[relation.name]
        return _TableColumns(".".join(p for p in (relation.db, relation.name) if p))
    return _query(relation, ctes)


class _TableColumns(dict):
    """A base table: any column ``c`` comes from ``(table, c)``."""

    def __init__(self, table: str) -> None:
        super().__init__()
        self.table = table

    def get(self, name: str, default: Any = None) -> Sources:  # noqa: ARG002
        return {Source(self.table, name)}


class _Extended(dict):
    """Named columns plus whatever ``*`` passed on from ``relations``."""

    def __init__(self, relations: list[dict[str, Sources]], named: dict[str, Sources]) -> None:
        super().__init__(named)
        self.relations = relations

    def get(self, name: str, default: Any = None) -> Sources:
        if name in self.keys():
            return self[name]
        found: Sources = set()
        for relation in self.relations:
            found |= relation.get(name, set()) or set()
        return found if found else (default if default is not None else set())

    def __contains__(self, name: object) -> bool:
        return name in self.keys() or any(
            isinstance(r, _TableColumns) or name in r for r in self.relations)


def _column(column: Any, relations: dict[str, dict[str, Sources]]) -> Sources:
    if column.table:
        relation = relations.get(column.table)
        return relation.get(column.name, set()) if relation is not None else set()
    for relation in relations.values():  # unqualified: the first relation that has it
        if isinstance(relation, _TableColumns) or column.name in relation:  # noqa: SIM102
            return relation.get(column.name, set())
    return set()


def _through(sources: Sources, column: Any, expression: Any) -> Sources:
    """``sources`` of ``column`` as seen through the ``expression`` it appears in: a column
    standing alone keeps their subtypes; inside a function, arithmetic or cast it becomes a
    transformation, inside an aggregate an aggregation, and behind a hash a masked one."""
    from sqlglot import exp

    subtype, masking = IDENTITY, False
    node = column
    while node is not expression and node.parent is not None:
        node = node.parent
        if isinstance(node, exp.AggFunc):
            subtype = AGGREGATION
        elif subtype == IDENTITY and not isinstance(node, exp.Paren):
            subtype = TRANSFORMATION
        masking = masking or _hashes(node)
    return {
        s._replace(subtype=max(s.subtype, subtype, key=_STRENGTH.__getitem__),
                   masking=s.masking or masking)
        for s in sources
    }


def _hashes(node: Any) -> bool:
    from sqlglot import exp

    if isinstance(node, exp.Anonymous):
        return node.name.lower() in _HASH_FUNCTIONS
    return isinstance(node, exp.Func) and node.key.lower() in _HASH_FUNCTIONS
