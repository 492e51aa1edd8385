"""The crm example's sources, generated deterministically from a seed and a day: the CRM's history
(:mod:`~examples.crm.generator.history`), written into PostgreSQL
(:mod:`~examples.crm.generator.database`), and the usage feed's daily NDJSON files
(:mod:`~examples.crm.generator.usage`)."""
