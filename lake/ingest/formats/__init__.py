"""Raw readers, one module per file format, found through :mod:`lake.ingest.formats.registry`.

* :mod:`~lake.ingest.formats.csv` — CSV and other delimited text, with its options
* :mod:`~lake.ingest.formats.ndjson` — one JSON record per line (JSON Lines)
* :mod:`~lake.ingest.formats.json` — JSON documents: one record, or an array of records, per file
* :mod:`~lake.ingest.formats.parquet`, :mod:`~lake.ingest.formats.avro` — typed files
* :mod:`~lake.ingest.formats.raw` — what every reader returns: raw records as text maps
"""
