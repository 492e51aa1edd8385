"""The platform's error tree: one root, specific subclasses, messages that say what to do."""

from __future__ import annotations


class LakehouseError(Exception):
    """Root of every error the platform raises on purpose."""


class ConfigError(LakehouseError):
    """A setting is missing or invalid; the message names the setting and the fix."""


class IngestError(LakehouseError):
    """A landed file cannot be read; the message names the file."""


class ContractViolation(LakehouseError):
    """A batch broke a rule whose severity stops the batch."""


class SchemaEvolutionError(LakehouseError):
    """A source changed its schema in a way the dataset's policy does not accept."""


class SqlError(LakehouseError):
    """An analyst's query cannot be run: not read-only, unparsable, or unknown objects."""


class MetastoreError(LakehouseError):
    """The catalog's metastore database cannot be reached or its server does not start."""
