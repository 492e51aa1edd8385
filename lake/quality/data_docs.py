"""The Great Expectations Data Docs site, updated incrementally by one long-lived site builder.

GX's ``UpdateDataDocsAction`` builds a new site builder for every validation: it compiles the
site's Jinja templates again (most of its time on a small batch) and re-reads every stored
validation result to list them on the index page, a cost that grows with the project's history.
:class:`DataDocs` keeps one site builder per GX project and process, so:

- templates are compiled once per process;
- :meth:`DataDocs.update` renders the pages of the given validation results and suites only, and
  the index once for all of them (one call per validated batch, not per dataset);
- the index reads each stored validation result once per process: a stored result never changes,
  so what the index shows of it (success, batch and asset) is kept (in a small stand-in, not the
  whole result).

The site is the one GX would build: the same pages, and an index listing every validation.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

DATA_DOCS_SITE = "local_site"


class DataDocs:
    """The ``local_site`` Data Docs of one GX file context."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self._builder: Any = None

    def update(self, resources: Iterable[Any]) -> Path | None:
        """Render the pages of ``resources`` (validation result and suite identifiers) and the
        index; the index page's path."""
        builder = self.builder()
        builder.build(resource_identifiers=list(resources), build_index=True)
        return self.index()

    def index(self, *, only_if_exists: bool = True) -> Path | None:
        """The site's index page, if it has been built (or, ``only_if_exists=False``, where it
        will be)."""
        url = self.builder().get_resource_url(only_if_exists=only_if_exists)
        if url and url.startswith("file://"):
            return Path(unquote(urlparse(url).path))
        return None

    def builder(self) -> Any:
        if self._builder is None:
            from great_expectations.data_context.util import instantiate_class_from_config

            config = self.context.variables.data_docs_sites[DATA_DOCS_SITE]
            builder = instantiate_class_from_config(
                config=config,
                runtime_environment={"data_context": self.context,
                                     "root_directory": self.context.root_directory,
                                     "site_name": DATA_DOCS_SITE},
                config_defaults={"class_name": "SiteBuilder",
                                 "module_name": "great_expectations.render.renderer.site_builder"})
            builder.site_index_builder.data_context = _KeptResults(self.context)
            self._builder = builder
        return self._builder


class _KeptResults:
    """The data context as the index builder sees it, with each validation result it lists read
    once: a stand-in keeps what the index shows (success, meta, asset name)."""

    def __init__(self, context: Any) -> None:
        self._context = context
        self._kept: dict[tuple, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def get_validation_result(self, *, batch_identifier: Any, expectation_suite_name: str,
                              run_id: Any, validation_results_store_name: str | None = None,
                              **kwargs: Any) -> Any:
        from great_expectations.core import ExpectationSuiteValidationResult

        key = (expectation_suite_name, str(run_id), batch_identifier,
               validation_results_store_name)
        if key not in self._kept:
            result = self._context.get_validation_result(
                batch_identifier=batch_identifier, expectation_suite_name=expectation_suite_name,
                run_id=run_id, validation_results_store_name=validation_results_store_name,
                **kwargs)
            if not isinstance(result, ExpectationSuiteValidationResult):
                return result  # not stored (yet): ask again next time
            self._kept[key] = _index_entry(result)
        return self._kept[key]


def _index_entry(result: Any) -> Any:
    """What the index page reads of a validation result, without its expectation results."""
    from great_expectations.core import ExpectationSuiteValidationResult

    return ExpectationSuiteValidationResult(success=result.success, results=[],
                                            suite_name=result.suite_name, meta=dict(result.meta),
                                            statistics={}, batch_id=result.batch_id)
