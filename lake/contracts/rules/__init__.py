"""Row rules a contract implies, one module per kind, found through
:mod:`lake.contracts.rules.registry`.

* :mod:`~lake.contracts.rules.rule` — the :class:`Rule` record and what a rule's check may read
* :mod:`~lake.contracts.rules.malformed`, :mod:`~lake.contracts.rules.type_fit`,
  :mod:`~lake.contracts.rules.not_null`, :mod:`~lake.contracts.rules.value_range`,
  :mod:`~lake.contracts.rules.accepted_values`, :mod:`~lake.contracts.rules.duplicate`,
  :mod:`~lake.contracts.rules.unique_key`, :mod:`~lake.contracts.rules.reference`,
  :mod:`~lake.contracts.rules.custom` — the kinds
"""
