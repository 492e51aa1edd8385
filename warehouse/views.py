"""Views and marts: ``CREATE OR REPLACE VIEW warehouse.<name>`` from the declared SQL.

A view is replaced only when its SQL changed, so an unchanged project leaves the catalog alone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from warehouse.sql_parts import ident

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from warehouse.models.view import View


def create_view(spark: SparkSession, view: View) -> bool:
    """Create or replace ``view`` unless the catalog already has this SQL; True if it did."""
    database, name = view.table.split(".")
    if spark.catalog.tableExists(view.table):
        current = [r for r in spark.sql(f"DESCRIBE TABLE EXTENDED {view.table}").collect()
                   if r["col_name"] == "View Text"]
        if current and current[0]["data_type"].strip() == view.sql.strip():
            return False
    comment = re.sub(r"['\\\n]", " ", view.description)
    spark.sql(f"CREATE OR REPLACE VIEW {ident(database)}.{ident(name)}"
              + (f" COMMENT '{comment}'" if comment else "") + f" AS {view.sql}")
    return True
