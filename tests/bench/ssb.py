"""The Star Schema Benchmark (O'Neil, O'Neil, Chen: "Star Schema Benchmark", rev. 3): its five
tables as Parquet files, and its 13 queries.

At scale factor 1 the fact ``lineorder`` has at least 6,000,000 rows (orders of 1 to 7 lines,
1.5M orders), ``customer`` 30,000, ``supplier`` 2,000, ``part`` 200,000 (times ``1 + log2(SF)``
above 1) and the date dimension one row a day of 1992-1998. Columns and value domains are the
spec's: TPC-H's 25 nations and 5 regions, cities as a nation's first 9 letters and a digit
(``UNITED KI1``), 5 manufacturers x 5 categories x 40 brands (``MFGR#2221``), prices in cents,
discounts 0-10 %, order dates spread evenly over the seven years. The date table is ``dwdate``
(as in Redshift's SSB tutorial): ``date`` is a keyword in the dialects the queries run in.
Generated with numpy and pyarrow in chunks (no downloads), deterministic for a seed.

The queries are plain SQL that Spark SQL (through sqlglot's postgres dialect) and DuckDB both
run unchanged.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

NATIONS = (
    ("ALGERIA", "AFRICA"), ("ARGENTINA", "AMERICA"), ("BRAZIL", "AMERICA"), ("CANADA", "AMERICA"),
    ("EGYPT", "MIDDLE EAST"), ("ETHIOPIA", "AFRICA"), ("FRANCE", "EUROPE"), ("GERMANY", "EUROPE"),
    ("INDIA", "ASIA"), ("INDONESIA", "ASIA"), ("IRAN", "MIDDLE EAST"), ("IRAQ", "MIDDLE EAST"),
    ("JAPAN", "ASIA"), ("JORDAN", "MIDDLE EAST"), ("KENYA", "AFRICA"), ("MOROCCO", "AFRICA"),
    ("MOZAMBIQUE", "AFRICA"), ("PERU", "AMERICA"), ("CHINA", "ASIA"), ("ROMANIA", "EUROPE"),
    ("SAUDI ARABIA", "MIDDLE EAST"), ("VIETNAM", "ASIA"), ("RUSSIA", "EUROPE"),
    ("UNITED KINGDOM", "EUROPE"), ("UNITED STATES", "AMERICA"),
)  # fmt: skip
COLORS = tuple((
    "almond antique aquamarine azure beige bisque black blanched blue blush brown burlywood "
    "burnished chartreuse chiffon chocolate coral cornflower cornsilk cream cyan dark deep dim "
    "dodger drab firebrick floral forest frosted gainsboro ghost goldenrod green grey honeydew "
    "hot indian ivory khaki lace lavender lawn lemon light lime linen magenta maroon medium "
    "metallic midnight mint misty moccasin navajo navy olive orange orchid pale papaya peach "
    "peru pink plum powder puff purple red rose rosy royal saddle salmon sandy seashell sienna "
    "sky slate smoke snow spring steel tan thistle tomato turquoise violet wheat white yellow"
).split())
TYPES = tuple(f"{a} {b} {c}" for a in ("STANDARD", "SMALL", "MEDIUM", "LARGE", "ECONOMY", "PROMO")
              for b in ("ANODIZED", "BURNISHED", "PLATED", "POLISHED", "BRUSHED")
              for c in ("TIN", "NICKEL", "BRASS", "STEEL", "COPPER"))
CONTAINERS = tuple(f"{a} {b}" for a in ("SM", "LG", "MED", "JUMBO", "WRAP")
                   for b in ("CASE", "BOX", "BAG", "JAR", "PKG", "PACK", "CAN", "DRUM"))
SEGMENTS = ("AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY")
PRIORITIES = ("1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECI", "5-LOW")
SHIP_MODES = ("REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB")
FIRST_DAY, LAST_DAY = dt.date(1992, 1, 1), dt.date(1998, 12, 31)
ORDER_DAYS = (LAST_DAY - FIRST_DAY).days + 1 - 151  # orders end 151 days before the last day
TABLES = ("dwdate", "customer", "supplier", "part", "lineorder")

_Q3_CITIES = "(c_city = 'UNITED KI1' or c_city = 'UNITED KI5') and (s_city = 'UNITED KI1' or " \
             "s_city = 'UNITED KI5')"
_Q1 = ("select sum(lo_extendedprice * lo_discount) as revenue from lineorder, dwdate "
       "where lo_orderdate = d_datekey and {}")
_Q2 = ("select sum(lo_revenue) as revenue, d_year, p_brand1 from lineorder, dwdate, part, supplier "
       "where lo_orderdate = d_datekey and lo_partkey = p_partkey and lo_suppkey = s_suppkey "
       "and {} group by d_year, p_brand1 order by d_year, p_brand1")
_Q3 = ("select {0}, d_year, sum(lo_revenue) as revenue from customer, lineorder, supplier, dwdate "
       "where lo_custkey = c_custkey and lo_suppkey = s_suppkey and lo_orderdate = d_datekey "
       "and {1} group by {0}, d_year order by d_year asc, revenue desc")
_Q4 = ("select d_year, {0}, sum(lo_revenue - lo_supplycost) as profit "
       "from dwdate, customer, supplier, part, lineorder where lo_custkey = c_custkey "
       "and lo_suppkey = s_suppkey and lo_partkey = p_partkey and lo_orderdate = d_datekey "
       "and {1} group by d_year, {0} order by d_year, {0}")
QUERIES = {
    "Q1.1": _Q1.format("d_year = 1993 and lo_discount between 1 and 3 and lo_quantity < 25"),
    "Q1.2": _Q1.format("d_yearmonthnum = 199401 and lo_discount between 4 and 6 "
                       "and lo_quantity between 26 and 35"),
    "Q1.3": _Q1.format("d_weeknuminyear = 6 and d_year = 1994 and lo_discount between 5 and 7 "
                       "and lo_quantity between 26 and 35"),
    "Q2.1": _Q2.format("p_category = 'MFGR#12' and s_region = 'AMERICA'"),
    "Q2.2": _Q2.format("p_brand1 between 'MFGR#2221' and 'MFGR#2228' and s_region = 'ASIA'"),
    "Q2.3": _Q2.format("p_brand1 = 'MFGR#2239' and s_region = 'EUROPE'"),
    "Q3.1": _Q3.format("c_nation, s_nation", "c_region = 'ASIA' and s_region = 'ASIA' "
                       "and d_year >= 1992 and d_year <= 1997"),
    "Q3.2": _Q3.format("c_city, s_city", "c_nation = 'UNITED STATES' and s_nation = "
                       "'UNITED STATES' and d_year >= 1992 and d_year <= 1997"),
    "Q3.3": _Q3.format("c_city, s_city", f"{_Q3_CITIES} and d_year >= 1992 and d_year <= 1997"),
    "Q3.4": _Q3.format("c_city, s_city", f"{_Q3_CITIES} and d_yearmonth = 'Dec1997'"),
    "Q4.1": _Q4.format("c_nation", "c_region = 'AMERICA' and s_region = 'AMERICA' "
                       "and (p_mfgr = 'MFGR#1' or p_mfgr = 'MFGR#2')"),
    "Q4.2": _Q4.format("s_nation, p_category", "c_region = 'AMERICA' and s_region = 'AMERICA' "
                       "and (d_year = 1997 or d_year = 1998) "
                       "and (p_mfgr = 'MFGR#1' or p_mfgr = 'MFGR#2')"),
    "Q4.3": _Q4.format("s_city, p_brand1", "s_nation = 'UNITED STATES' "
                       "and (d_year = 1997 or d_year = 1998) and p_category = 'MFGR#14'"),
}
"""The 13 SSB queries, Q1.1-Q4.3, as the spec words them (``date`` spelled ``dwdate``)."""


def sizes(sf: float) -> dict[str, int]:
    """Rows of each dimension and the lineorder rows to reach at scale factor ``sf``."""
    parts = 200_000 * math.floor(1 + math.log2(sf)) if sf >= 1 else 200_000 * sf
    return {"customer": max(int(30_000 * sf), 10), "supplier": max(int(2_000 * sf), 10),
            "part": max(int(parts), 100), "lineorder": max(int(6_000_000 * sf), 1_000)}


def generate(folder: Path, sf: float = 1.0, seed: int = 7) -> dict[str, Path]:
    """Write the five tables as ``folder/<table>.parquet``; returns their paths."""
    import numpy as np

    n = sizes(sf)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.parquet" for name in TABLES}
    rng = np.random.default_rng(seed)
    _write(_dates(), paths["dwdate"])
    _write(_customers(rng, n["customer"]), paths["customer"])
    _write(_suppliers(rng, n["supplier"]), paths["supplier"])
    _write(_parts(rng, n["part"]), paths["part"])
    _write_lineorder(paths["lineorder"], n, seed)
    return paths


def _write(table, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, path)


def _dates():
    import pyarrow as pa

    holidays = {(1, 1), (7, 4), (11, 11), (12, 24), (12, 25), (12, 31)}
    seasons = {12: "Christmas", 1: "Winter", 2: "Winter", 3: "Spring", 4: "Spring", 5: "Spring",
               6: "Summer", 7: "Summer", 8: "Summer"}
    days = [FIRST_DAY + dt.timedelta(days=i) for i in range((LAST_DAY - FIRST_DAY).days + 1)]
    in_week = [(d.isoweekday() % 7) + 1 for d in days]  # Sunday 1 ... Saturday 7
    day_of_year = [d.timetuple().tm_yday for d in days]
    return pa.table({
        "d_datekey": pa.array([d.year * 10_000 + d.month * 100 + d.day for d in days], pa.int32()),
        "d_date": [f"{d:%B} {d.day}, {d.year}" for d in days],
        "d_dayofweek": [f"{d:%A}" for d in days],
        "d_month": [f"{d:%B}" for d in days],
        "d_year": pa.array([d.year for d in days], pa.int32()),
        "d_yearmonthnum": pa.array([d.year * 100 + d.month for d in days], pa.int32()),
        "d_yearmonth": [f"{d:%b}{d.year}" for d in days],
        "d_daynuminweek": pa.array(in_week, pa.int32()),
        "d_daynuminmonth": pa.array([d.day for d in days], pa.int32()),
        "d_daynuminyear": pa.array(day_of_year, pa.int32()),
        "d_monthnuminyear": pa.array([d.month for d in days], pa.int32()),
        "d_weeknuminyear": pa.array([(y - 1) // 7 + 1 for y in day_of_year], pa.int32()),
        "d_sellingseason": [seasons.get(d.month, "Fall") for d in days],
        "d_lastdayinweekfl": pa.array([int(w == 7) for w in in_week], pa.int32()),
        "d_lastdayinmonthfl": pa.array([int((d + dt.timedelta(days=1)).day == 1) for d in days],
                                       pa.int32()),
        "d_holidayfl": pa.array([int((d.month, d.day) in holidays) for d in days], pa.int32()),
        "d_weekdayfl": pa.array([int(1 < w < 7) for w in in_week], pa.int32()),
    })  # fmt: skip


def _places(rng, rows: int, prefix: str) -> dict:
    """The address columns customers and suppliers share: address, city, nation, region, phone."""
    import numpy as np

    nation = rng.integers(0, len(NATIONS), rows)
    digit = rng.integers(0, 10, rows)
    phone = rng.integers(0, 10, (rows, 10))
    letters = np.array(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,. "))
    lengths = rng.integers(10, 26, rows)
    chars = letters[rng.integers(0, len(letters), (rows, 25))]
    return {
        f"{prefix}_address": ["".join(chars[i, :lengths[i]]) for i in range(rows)],
        f"{prefix}_city": [f"{NATIONS[k][0][:9]:<9}{d}" for k, d in zip(nation, digit, strict=True)],
        f"{prefix}_nation": [NATIONS[k][0] for k in nation],
        f"{prefix}_region": [NATIONS[k][1] for k in nation],
        f"{prefix}_phone": [f"{k + 10}-{''.join(map(str, p[:3]))}-{''.join(map(str, p[3:6]))}-"
                            f"{''.join(map(str, p[6:]))}" for k, p in zip(nation, phone, strict=True)],
    }


def _customers(rng, rows: int):
    import pyarrow as pa

    keys = range(1, rows + 1)
    return pa.table({"c_custkey": pa.array(keys, pa.int32()),
                     "c_name": [f"Customer#{k:09d}" for k in keys],
                     **_places(rng, rows, "c"),
                     "c_mktsegment": [SEGMENTS[i] for i in rng.integers(0, len(SEGMENTS), rows)]})


def _suppliers(rng, rows: int):
    import pyarrow as pa

    keys = range(1, rows + 1)
    return pa.table({"s_suppkey": pa.array(keys, pa.int32()),
                     "s_name": [f"Supplier#{k:09d}" for k in keys], **_places(rng, rows, "s")})


def _parts(rng, rows: int):
    import pyarrow as pa

    mfgr, category = rng.integers(1, 6, rows), rng.integers(1, 6, rows)
    brand = rng.integers(1, 41, rows)
    colors = rng.integers(0, len(COLORS), (rows, 2))
    return pa.table({
        "p_partkey": pa.array(range(1, rows + 1), pa.int32()),
        "p_name": [f"{COLORS[a]} {COLORS[b]}" for a, b in colors],
        "p_mfgr": [f"MFGR#{m}" for m in mfgr],
        "p_category": [f"MFGR#{m}{c}" for m, c in zip(mfgr, category, strict=True)],
        "p_brand1": [f"MFGR#{m}{c}{b}" for m, c, b in zip(mfgr, category, brand, strict=True)],
        "p_color": [COLORS[a] for a, _ in colors],
        "p_type": [TYPES[i] for i in rng.integers(0, len(TYPES), rows)],
        "p_size": pa.array(rng.integers(1, 51, rows), pa.int32()),
        "p_container": [CONTAINERS[i] for i in rng.integers(0, len(CONTAINERS), rows)],
    })  # fmt: skip


def _write_lineorder(path: Path, n: dict[str, int], seed: int, chunk: int = 250_000) -> None:
    """Orders of 1 to 7 lines, as many as reach ``n["lineorder"]`` lines, written ``chunk``
    orders at a time."""
    import numpy as np
    import pyarrow.parquet as pq

    rng = np.random.default_rng([seed, 1])
    lines = rng.integers(1, 8, n["lineorder"] // 4 + 1_000)
    orders = int(np.searchsorted(np.cumsum(lines), n["lineorder"])) + 1
    days = [FIRST_DAY + dt.timedelta(days=i) for i in range((LAST_DAY - FIRST_DAY).days + 1)]
    datekeys = np.array([d.year * 10_000 + d.month * 100 + d.day for d in days], np.int32)
    writer = None
    for i, start in enumerate(range(0, orders, chunk)):
        table = _lineorder_chunk(np.random.default_rng([seed, 2, i]),
                                 lines[start:min(start + chunk, orders)], start, datekeys, n)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()


def _lineorder_chunk(rng, lines, first_order: int, datekeys, n: dict[str, int]):
    """The lines of orders ``first_order + 1 ...``, ``lines[i]`` lines for order i; ``datekeys``:
    the date dimension's keys, a day each."""
    import numpy as np
    import pyarrow as pa

    orders, rows = len(lines), int(lines.sum())
    starts = np.cumsum(lines) - lines
    order_of = np.repeat(np.arange(orders), lines)
    day = rng.integers(0, ORDER_DAYS, orders)[order_of]
    quantity = rng.integers(1, 51, rows)
    discount = rng.integers(0, 11, rows)
    tax = rng.integers(0, 9, rows)
    partkey = rng.integers(1, n["part"] + 1, rows)
    price = 90_000 + (partkey // 10) % 20_001 + 100 * (partkey % 1_000)  # TPC-H's, in cents
    extended = quantity * price
    charged = extended * (100 - discount) // 100 * (100 + tax) // 100

    def ints(values, kind=None):
        return pa.array(values, kind or pa.int32())

    return pa.table({
        "lo_orderkey": ints(first_order + 1 + order_of, pa.int64()),
        "lo_linenumber": ints(np.arange(rows) - np.repeat(starts, lines) + 1),
        "lo_custkey": ints(rng.integers(1, n["customer"] + 1, orders)[order_of]),
        "lo_partkey": ints(partkey),
        "lo_suppkey": ints(rng.integers(1, n["supplier"] + 1, rows)),
        "lo_orderdate": ints(datekeys[day]),
        "lo_orderpriority": pa.array(PRIORITIES).take(rng.integers(0, 5, orders)[order_of]),
        "lo_shippriority": pa.array(["0"] * rows),
        "lo_quantity": ints(quantity),
        "lo_extendedprice": ints(extended),
        "lo_ordtotalprice": ints(np.add.reduceat(charged, starts)[order_of]),
        "lo_discount": ints(discount),
        "lo_revenue": ints(extended * (100 - discount) // 100),
        "lo_supplycost": ints(6 * price // 10),
        "lo_tax": ints(tax),
        "lo_commitdate": ints(datekeys[day + rng.integers(30, 91, rows)]),
        "lo_shipmode": pa.array(SHIP_MODES).take(rng.integers(0, len(SHIP_MODES), rows)),
    })  # fmt: skip
