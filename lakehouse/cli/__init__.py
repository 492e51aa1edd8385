"""The ``lakehouse`` command: :mod:`~lakehouse.cli.main` wires one module per command group."""
