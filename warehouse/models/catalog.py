"""Every warehouse model of a project, checked together and put in load order.

The checks need only the project's folder listing (which sources and datasets exist), not the
sources' contents, so one broken source never breaks the warehouse's declarations:

- each model's SQL is one read-only SELECT over known tables (:mod:`warehouse.models.sql_check`):
  ``<source>_silver.<dataset>`` of a declared dataset, or ``warehouse.<model>``;
- a dimension reads its ``from`` dataset and gives its key and tracked columns;
- a fact gives its grain, event time, measures and lookup columns (``SELECT *`` is refused: a
  fact's columns are its contract with the analysts), and reads one silver table incrementally;
- a lookup names a declared dimension by its whole key;
- no cycle among models. :attr:`ModelCatalog.order` loads dimensions before the facts and views
  that read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lake.config.loading import parse, read_text, read_yaml
from lake.config.project import Project
from lake.errors import ConfigError
from warehouse.models.dimension import Dimension
from warehouse.models.fact import Fact, parse_fact
from warehouse.models.sql_check import SelectInfo, read_select
from warehouse.models.view import View, parse_view

VIEWS_DIR = "views"
Model = Dimension | Fact | View


@dataclass(frozen=True)
class ModelCatalog:
    dimensions: dict[str, Dimension] = field(default_factory=dict)
    facts: dict[str, Fact] = field(default_factory=dict)
    views: dict[str, View] = field(default_factory=dict)
    selects: dict[str, SelectInfo] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    order: tuple[str, ...] = ()

    def model(self, name: str) -> Model:
        for group in (self.dimensions, self.facts, self.views):
            if name in group:
                return group[name]
        raise ConfigError(f"no warehouse model {name!r}; models: {', '.join(self.order) or 'none'}")

    def reads(self, name: str) -> tuple[str, ...]:
        """The tables model ``name`` reads (silver and warehouse)."""
        return self.selects[name].tables

    def silver_inputs(self, names: tuple[str, ...] | None = None) -> list[str]:
        """The silver tables the models (default: all) read, sorted."""
        wanted = names if names is not None else self.order
        return sorted({t for n in wanted for t in self.reads(n) if not t.startswith("warehouse.")})

    def dags(self) -> dict[str, list[str]]:
        """DAG name -> its models in load order."""
        out: dict[str, list[str]] = {}
        for name in self.order:
            out.setdefault(self.model(name).dag, []).append(name)
        return out

    def driving_table(self, name: str) -> str | None:
        """The silver table whose new batches a load of ``name`` reads (None for views)."""
        model = self.model(name)
        if isinstance(model, Dimension):
            return model.input_table
        if isinstance(model, Fact):
            if model.incremental:
                source, dataset = model.incremental.split(".")
                return f"{source}_silver.{dataset}"
            return next(t for t in self.reads(name) if not t.startswith("warehouse."))
        return None


def load_models(project: Project) -> ModelCatalog:
    """Read and check every model under ``warehouse/`` (see module doc)."""
    folder = project.warehouse_dir
    if not folder.is_dir():
        return ModelCatalog()
    dims: dict[str, Dimension] = {}
    facts: dict[str, Fact] = {}
    views: dict[str, View] = {}
    files: dict[str, Path] = {}

    def claim(name: str, path: Path) -> None:
        if name in files:
            raise ConfigError(f"{project.relative(path)}: model {name!r} is also declared in "
                              f"{project.relative(files[name])}; model names are unique")
        files[name] = path

    for path in sorted(folder.iterdir()):
        origin = project.relative(path)
        if path.suffix in (".yaml", ".yml"):
            claim(path.stem, path)
            raw = read_yaml(path, origin=origin)
            if isinstance(raw, dict):
                raw.setdefault("dimension", path.stem)  # keeps the lines of its keys
            dim = parse(Dimension, raw, origin)
            if dim.dimension != path.stem:
                raise ConfigError(f"{origin}: dimension: says {dim.dimension!r} but the file is "
                                  f"named for {path.stem!r}; make them equal")
            dims[dim.name] = dim
        elif path.suffix == ".sql":
            claim(path.stem, path)
            facts[path.stem] = parse_fact(read_text(path), origin, path.stem)
    views_dir = folder / VIEWS_DIR
    if views_dir.is_dir():
        for path in sorted(views_dir.glob("*.sql")):
            claim(path.stem, path)
            views[path.stem] = parse_view(read_text(path), project.relative(path), path.stem)
    known = _known_tables(project, [*dims, *facts, *views])
    selects = {}
    for name, dim in dims.items():
        selects[name] = _check_dimension(dim, project, files[name], known)
    for name, fact in facts.items():
        selects[name] = _check_fact(fact, project.relative(files[name]), known, dims)
    for name, view in views.items():
        info = read_select(view.sql, project.relative(files[name]))
        _known(info, known, project.relative(files[name]))
        selects[name] = info
    order = _load_order(dims, facts, views, selects, files, project)
    return ModelCatalog(dims, facts, views, selects, files, order)


def _known_tables(project: Project, models: list[str]) -> set[str]:
    silver = {f"{s}_silver.{d}" for s in project.source_names() for d in project.dataset_names(s)}
    generated = {"warehouse.dim_date"} if project.date_range is not None else set()
    return silver | generated | {f"warehouse.{m}" for m in models}


def _known(info: SelectInfo, known: set[str], origin: str) -> None:
    for table in info.tables:
        if table not in known:
            import difflib

            close = difflib.get_close_matches(table, sorted(known), n=3)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise ConfigError(f"{origin}: reads {table}, which is not a declared dataset's silver "
                              f"table or a warehouse model; {hint}known: "
                              f"{', '.join(sorted(known)) or 'none'}")


def _need(columns: tuple[str, ...], wanted: list[str], origin: str, what: str) -> None:
    if "*" in columns:
        return
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise ConfigError(f"{origin}: {what} {missing} are not columns of its SELECT "
                          f"({', '.join(columns)}); select them or fix the names")


def _check_dimension(dim: Dimension, project: Project, path: Path, known: set[str]) -> SelectInfo:
    origin = project.relative(path)
    if dim.source not in project.source_names() or dim.dataset not in \
            project.dataset_names(dim.source):
        declared = [f"{s}.{d}" for s in project.source_names() for d in project.dataset_names(s)]
        raise ConfigError(f"{origin}: from: {dim.from_} is not a declared dataset with a "
                          f"contract; declared: {', '.join(declared) or 'none'}")
    info = read_select(dim.select_sql(), f"{origin} (sql)")
    _known(info, known, f"{origin} (sql)")
    if dim.input_table not in info.tables:
        raise ConfigError(f"{origin}: sql: must read {dim.input_table} (the from: dataset)")
    if any(t.startswith("warehouse.") for t in info.tables):
        raise ConfigError(f"{origin}: sql: a dimension reads silver tables only")
    wanted = [*dim.key, *dim.tracked, *([dim.changed_at] if dim.changed_at else [])]
    _need(info.columns, wanted, origin, "key, tracked and changed_at columns")
    if dim.deleted_when:
        _check_expression(dim.deleted_when, f"{origin}: deleted_when")
    from warehouse import scd1, scd2

    meta = scd2 if dim.scd == 2 else scd1
    _check_layout(dim.layout, [dim.sk, *dim.key, *dim.tracked, *_ddl_names(meta.META_DDL)],
                  origin)
    return info


def _ddl_names(ddl: str) -> list[str]:
    return [part.split()[0] for part in ddl.split(",")]


def _check_layout(layout, columns: list[str], origin: str) -> None:
    unknown = [c for c in layout.columns if c not in columns]
    if unknown:
        raise ConfigError(f"{origin}: layout: {', '.join(unknown)} is not a column of the table; "
                          f"its columns: {', '.join(columns)}")


def _check_expression(text: str, origin: str) -> None:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    try:
        tree = sqlglot.parse_one(text, read="spark")
    except (ParseError, TokenError) as err:
        raise ConfigError(f"{origin}: not a valid SQL expression: {str(err).splitlines()[0]}") \
            from err
    if any(isinstance(n, (exp.Query, exp.Subquery)) for n in tree.walk()):
        raise ConfigError(f"{origin}: a row condition, without subqueries")


def _check_fact(fact: Fact, origin: str, known: set[str], dims: dict[str, Dimension]
                ) -> SelectInfo:
    info = read_select(fact.sql, origin)
    _known(info, known, origin)
    if "*" in info.columns:
        raise ConfigError(f"{origin}: SELECT * is not allowed in a fact; list its columns")
    silver = [t for t in info.tables if not t.startswith("warehouse.")]
    if fact.incremental:
        source, dataset = fact.incremental.split(".")
        if f"{source}_silver.{dataset}" not in silver:
            raise ConfigError(f"{origin}: incremental: {fact.incremental} is not read by the "
                              f"SELECT (it reads {', '.join(info.tables)})")
    elif len(silver) != 1:
        raise ConfigError(f"{origin}: the SELECT reads {len(silver)} silver tables "
                          f"({', '.join(silver) or 'none'}); say which one's new rows make new "
                          "facts with incremental: SOURCE.DATASET")
    wanted = [*fact.grain, *fact.measures, *([fact.event_time] if fact.event_time else [])]
    wanted += [c for lk in fact.lookups for c in lk.on]
    _need(info.columns, wanted, origin, "grain, measures, event_time and lookup columns")
    for lk in fact.lookups:
        if lk.dimension not in dims:
            raise ConfigError(f"{origin}: lookups: {lk.dimension} is not a declared dimension; "
                              f"dimensions: {', '.join(dims) or 'none'}")
        key = dims[lk.dimension].key
        if sorted(lk.on.values()) != sorted(key):
            raise ConfigError(f"{origin}: lookups: {lk.dimension} is keyed on {list(key)}; map "
                              f"each key column in on: (fact column: key column)")
        if dims[lk.dimension].scd == 2 and not fact.event_time:
            raise ConfigError(f"{origin}: lookups of SCD 2 dimension {lk.dimension} need "
                              "event_time: the versions are looked up as of it")
    from warehouse.facts import META_DDL, sk_column

    _check_layout(fact.layout, [*info.columns, *(sk_column(lk, dims[lk.dimension])
                                                  for lk in fact.lookups), *_ddl_names(META_DDL)],
                  origin)
    return info


def dependencies(name: str, dims: dict, facts: dict, selects: dict) -> set[str]:
    deps = {t.split(".", 1)[1] for t in selects[name].tables if t.startswith("warehouse.")}
    deps &= selects.keys()  # generated tables (warehouse.dim_date) are no model to load first
    if name in facts:
        deps |= {lk.dimension for lk in facts[name].lookups}
    return deps


def _load_order(dims: dict, facts: dict, views: dict, selects: dict, files: dict,
                project: Project) -> tuple[str, ...]:
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in path:
            cycle = " -> ".join((*path[path.index(name):], name))
            raise ConfigError(f"{project.relative(files[name])}: warehouse models form a cycle "
                              f"({cycle}); a model cannot read itself through others")
        for dep in sorted(dependencies(name, dims, facts, selects)):
            visit(dep, (*path, name))
        order.append(name)

    for name in [*sorted(dims), *sorted(facts), *sorted(views)]:
        visit(name, ())
    return tuple(order)
