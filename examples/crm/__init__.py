"""The crm example project: a PostgreSQL CRM extracted incrementally over JDBC (accounts by
``updated_at``, with updates and soft deletes between runs; orders by ``order_id``; plans read
whole) into an SCD2 account dimension on the composite key (region, account_no), and a file feed
of usage events into a fact keyed to the account version valid at each event's time. Its
declarations are the YAML and SQL files beside this one; :mod:`examples.crm.generator` writes the
database's days and the usage files (``python -m examples.crm.generator``, see README.md)."""
