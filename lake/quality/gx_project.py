"""The file-backed Great Expectations project under ``gx_root``, opened once per process.

Opening a GX file context parses its YAML configuration, and adding a suite, a
ValidationDefinition and a Checkpoint writes and re-reads their JSON: together most of a
validation's time on a small batch when done for every call. :func:`project` keeps each
project open for the process, and :meth:`Project.suite` adds a suite's objects once per set of
specs. A process reopens the project when ``gx/great_expectations.yml`` changed since it last
used it (another process added an asset, or the folder was recreated).

Great Expectations is imported inside the functions: importing it takes several seconds
(:func:`import_in_background` overlaps the import with a job's Spark work).
"""

from __future__ import annotations

import logging
import sys
import threading
import warnings
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lake.quality.data_docs import DATA_DOCS_SITE, DataDocs

DATASOURCE_NAME = "lakehouse_spark"
BATCH_DEFINITION_NAME = "whole_dataframe"
# Counts only: the platform quarantines every failing row itself, so GX need not sample them
# (samples cost one extra Spark job per expectation).
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0}

# GX's objects are not thread-safe: one validation or Data Docs build at a time per process
LOCK = threading.RLock()
_GX_IMPORT = threading.Lock()  # one import at a time: a half-imported GX is not GX


def import_in_background() -> None:
    """Start importing Great Expectations (several seconds) in a thread, so a job's Spark work
    overlaps it; :func:`import_gx` then finds it imported (or waits for the import)."""
    if "great_expectations" not in sys.modules:
        threading.Thread(target=import_gx, name="import-great-expectations", daemon=True).start()


def import_gx() -> Any:
    """Import GX without letting the import change how the process handles warnings.

    Importing GX calls ``logging.captureWarnings(True)``, which sends every later warning of the
    process to the ``py.warnings`` logger (and past pytest's warning capture); when capture was
    off before, it is switched off again. GX's own imports of the deprecated ``sre_constants``
    and ``sre_parse`` modules are muted, and nothing else.
    """
    # under the lock: while another thread imports GX, sys.modules already holds the module,
    # half initialised, and a second import of its submodules races the first
    with _GX_IMPORT:
        if "great_expectations" in sys.modules:
            return sys.modules["great_expectations"]
        return _import_gx_once()


def _import_gx_once() -> Any:
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message=r"module 'sre_(constants|parse)' is deprecated",
            category=DeprecationWarning,
        )
        showwarning = warnings.showwarning
        import great_expectations

        if warnings.showwarning is not showwarning:
            logging.captureWarnings(False)
    return great_expectations


@dataclass
class Suite:
    """A suite's GX objects as added to the project, and the specs they were made from."""

    specs: Hashable
    validation: Any
    checkpoint: Any


class Project:
    """One GX file project: its context, its Data Docs site and the suites added so far."""

    def __init__(self, gx: Any, gx_root: Path) -> None:
        self.root = gx_root
        self.context = _file_context(gx, gx_root)
        self.docs = DataDocs(self.context)
        self.suites: dict[str, Suite] = {}
        self.stamp = self._stamp()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = (self.root / "gx" / "great_expectations.yml").stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def current(self) -> bool:
        """Whether the project file is as this process left it (no other writer since)."""
        return self.stamp is not None and self._stamp() == self.stamp

    def touched(self) -> None:
        """Record the project file as this process leaves it."""
        self.stamp = self._stamp()

    def suite(self, gx: Any, name: str, specs: Hashable,
              expectations: Callable[[], list[Any]]) -> Suite:
        """Suite ``name`` with its ValidationDefinition and Checkpoint (whose
        UpdateDataDocsAction rebuilds the local Data Docs site when run by hand), added or
        updated unless this process already added them for the same ``specs``."""
        from great_expectations.checkpoint import UpdateDataDocsAction

        cached = self.suites.get(name)
        if cached is not None and cached.specs == specs:
            return cached
        context = self.context
        batch_definition = _batch_definition(context, asset_name=name)
        suite = context.suites.add_or_update(gx.ExpectationSuite(name=name,
                                                                 expectations=expectations()))
        validation = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=name, data=batch_definition, suite=suite))
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=name,
                validation_definitions=[validation],
                actions=[UpdateDataDocsAction(name="update_data_docs",
                                              site_names=[DATA_DOCS_SITE])],
                result_format=RESULT_FORMAT,
            )
        )
        self.suites[name] = Suite(specs, validation, checkpoint)
        return self.suites[name]

    def forget(self, name: str) -> None:
        """Drop suite ``name``'s objects (their stored copies changed under this process)."""
        self.suites.pop(name, None)


_PROJECTS: dict[Path, Project] = {}


def project(gx: Any, gx_root: Path) -> Project:
    """The process's open project under ``gx_root`` (call with :data:`LOCK` held)."""
    key = gx_root.absolute()
    opened = _PROJECTS.get(key)
    if opened is None or not opened.current():
        opened = _PROJECTS[key] = Project(gx, key)
    return opened


def _file_context(gx: Any, gx_root: Path) -> Any:
    """The file-backed context under ``gx_root``, with analytics and progress bars off."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="file", project_root_dir=gx_root)
    variables = context.variables
    bars = variables.progress_bars
    if variables.analytics_enabled is not False or not bars or bars.get("globally") is not False:
        variables.analytics_enabled = False
        # tqdm "Calculating Metrics" bars would flood job logs on stderr
        variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        variables.save()  # once: later calls find both settings in great_expectations.yml
    return context


def _batch_definition(context: Any, *, asset_name: str) -> Any:
    try:
        datasource = context.data_sources.get(DATASOURCE_NAME)
    except KeyError:
        datasource = context.data_sources.add_spark(name=DATASOURCE_NAME)
    try:
        asset = datasource.get_asset(asset_name)
    except LookupError:
        asset = datasource.add_dataframe_asset(name=asset_name)
    try:
        return asset.get_batch_definition(BATCH_DEFINITION_NAME)
    except KeyError:
        return asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION_NAME)
