"""The metadata store's Alembic scripts, shipped inside the package and run by
:func:`lineage.store.schema_upgrade.upgrade`.

* ``env.py`` — Alembic's entry point: runs on the caller's connection.
* ``script.py.mako`` — the template of a new revision.
* ``versions/`` — one revision per schema change, oldest first (``0001_…``).
"""
