"""A simplified SQL version of the EUCORA counters, run by DuckDB over a bundle's own files.

Issue 15 compares the engine with what a user gets by loading the same exports into DuckDB.
This script is that user's query, kept honest about its work: it reads every row of every
``signals/*.csv`` file (the printed row counts prove it), normalises the identity hints, maps
products to SKUs through the bundle's ruleset, keeps the latest version of each
(source, raw_id), applies the look-back windows and the confidence floor, and counts distinct
principals per SKU. ``benches/compare.sh`` times it with ``/usr/bin/time -v``.

What it keeps of DESIGN Part A: SKU from the row's ``sku`` or the first matching
``sku_mappings`` rule (exact or prefix, lower-cased and trimmed; resolved once per distinct
product); instants with an offset normalised to UTC (one without an offset is dropped); the
look-back windows per kind, future rows and ``min_confidence``; hint normalisation (serial
upper-cased without spaces and placeholders, device id and user lower-cased, hostname cut at
the first dot, NETBIOS domain stripped); device and user SKUs count principals with a
qualifying installation or usage, or whose latest qualifying assignment is active;
subscription and feature SKUs count users whose latest assignment is active; concurrent SKUs
count the peak of the summed quantities of open sessions over the window (half-open
intervals, open sessions end at ``as_of``); entitled = the quantities of the entitlements
active on the date of ``as_of``.

What it leaves out (so its figures are a lower bound on the work, and its counts differ
slightly): no union-find over devices or directory aliases (a device is keyed by its first
usable hint: serial, else device id, else hostname; ``directory.csv`` is not read); no
attribution of device-only signals to a user (they are not counted for user SKUs); no
merging of duplicate or overlapping sessions (``dup_group``); no pools or reservations
(remaining = entitled - consumed, available = max(0, remaining)); no exceptions, hashing,
canonical JSON, snapshot or pack; duplicates with different content are not an error (the
latest ``observed_at`` wins); ``*.jsonl`` signal files and ``imports/`` are not read.

usage: duckdb_counters.py <bundle-dir> <out.csv> [--threads N|all]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb


def log(msg: str) -> None:
    """Progress on stderr, so stdout keeps only the counts compare.sh parses."""
    print(msg, file=sys.stderr, flush=True)


def sql_str(v: str) -> str:
    """A SQL string literal (the ruleset's values are data, not SQL)."""
    return "'" + v.replace("'", "''") + "'"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundle", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--threads", default="1", help="DuckDB threads: a number or 'all' (default 1)")
    args = ap.parse_args()

    bundle: Path = args.bundle
    meta = json.loads((bundle / "bundle.json").read_text())
    ruleset = json.loads((bundle / meta.get("ruleset", "ruleset.json")).read_text())
    catalog = json.loads((bundle / "catalog.json").read_text())
    signal_files = sorted((bundle / "signals").glob("*.csv"))
    if not signal_files:
        log(f"duckdb_counters: no signals/*.csv in {bundle}")
        return 1

    as_of = datetime.fromisoformat(meta["as_of"].replace("Z", "+00:00"))
    lookback = {"assignment": 30, "installation": 30, "usage": 90} | ruleset.get("lookback_days", {})
    window = ruleset.get("concurrent", {}).get("window_days", 30)
    cutoff = {kind: as_of - timedelta(days=days) for kind, days in lookback.items()}
    cutoff["session"] = as_of - timedelta(days=window)
    placeholders = [p.strip().upper().replace(" ", "") for p in ruleset.get("identity", {}).get("serial_placeholders", [])]
    strip_netbios = ruleset.get("identity", {}).get("strip_netbios_domain", True)

    threads = (os.cpu_count() or 1) if args.threads == "all" else int(args.threads)
    con = duckdb.connect()
    con.execute(f"SET threads={threads}")
    con.execute("SET TimeZone='UTC'")
    con.execute("SET preserve_insertion_order=false")

    # The small inputs (catalog, ordered product mappings) go in as tables.
    con.execute("CREATE TEMP TABLE catalog(sku VARCHAR, model VARCHAR)")
    con.executemany("INSERT INTO catalog VALUES (?, ?)", [(s["id"], s["model"]) for s in catalog["skus"]])
    con.execute("CREATE TEMP TABLE mapping(ord INTEGER, exact BOOLEAN, value VARCHAR, sku VARCHAR)")
    con.executemany(
        "INSERT INTO mapping VALUES (?, ?, ?, ?)",
        [
            (i, m["match"] == "exact", m["value"].strip().lower(), m["sku"])
            for i, m in enumerate(ruleset.get("sku_mappings", []))
            if m.get("field", "product") == "product"
        ],
    )

    t0 = time.perf_counter()
    files = [str(f) for f in signal_files]
    user_key = "CASE WHEN contains(u, '\\') THEN split_part(u, '\\', 2) ELSE u END" if strip_netbios else "u"
    placeholder_list = ", ".join(sql_str(p) for p in placeholders) or "NULL"
    # One scan of every signal row (no CTE: DuckDB would materialise the raw rows): parse the
    # instant (an instant without an offset is rejected, as in A1), normalise the hints (A3)
    # into one user key and one device key (serial, else device id, else hostname), and keep
    # the latest version of each (source, raw_id) with only the columns the counters need;
    # `versions` keeps the count of rows read.
    con.execute(
        f"""
        CREATE TEMP TABLE latest AS
        SELECT source, count(*) AS versions,
            arg_max(struct_pack(ts, sku, p, kind, status, confidence, ukey, dkey, ss, se, qty), ts) AS s
        FROM (
            SELECT source, raw_id, ts, sku, p, kind, status, confidence, ss, se, qty,
                nullif({user_key}, '') AS ukey,
                CASE WHEN serial <> '' AND serial NOT IN ({placeholder_list}) THEN 'serial:' || serial
                     WHEN did <> '' THEN 'id:' || did
                     WHEN host <> '' THEN 'name:' || host END AS dkey
            FROM (
                SELECT source, raw_id,
                    CASE WHEN right(observed_at, 1) IN ('Z', 'z') OR substr(observed_at, -6, 1) IN ('+', '-')
                         THEN try_cast(observed_at AS TIMESTAMPTZ) END AS ts,
                    nullif(trim(sku), '') AS sku,
                    CASE WHEN sku IS NULL THEN lower(trim(product)) END AS p,
                    kind, coalesce(status, 'active') AS status,
                    coalesce(try_cast(confidence AS DECIMAL(9, 6)), 1) AS confidence,
                    try_cast(session_start AS TIMESTAMPTZ) AS ss, try_cast(session_end AS TIMESTAMPTZ) AS se,
                    coalesce(try_cast(quantity AS BIGINT), 1) AS qty,
                    lower(trim("user")) AS u,
                    upper(replace(trim(device_serial), ' ', '')) AS serial,
                    lower(trim(device_id)) AS did,
                    lower(split_part(trim(device_name), '.', 1)) AS host
                FROM read_csv(?, header = true, all_varchar = true, auto_detect = false,
                    columns = {{'source': 'VARCHAR', 'raw_id': 'VARCHAR', 'observed_at': 'VARCHAR',
                      'sku': 'VARCHAR', 'product': 'VARCHAR', 'kind': 'VARCHAR', 'status': 'VARCHAR',
                      'user': 'VARCHAR', 'device_serial': 'VARCHAR', 'device_id': 'VARCHAR',
                      'device_name': 'VARCHAR', 'last_used_at': 'VARCHAR', 'session_start': 'VARCHAR',
                      'session_end': 'VARCHAR', 'quantity': 'VARCHAR', 'confidence': 'VARCHAR'}})
            )
        )
        GROUP BY source, raw_id
        """,
        [files],
    )
    # Products to SKUs: the first mapping rule (exact or prefix, A2) matching each distinct
    # product; the rows without a `sku` are resolved through this small table below.
    con.execute(
        """
        CREATE TEMP TABLE product_sku AS
        SELECT p, arg_min(m.sku, m.ord) AS sku
        FROM (SELECT DISTINCT s.p AS p FROM latest WHERE s.p IS NOT NULL)
        JOIN mapping m ON (m.exact AND p = m.value) OR (NOT m.exact AND starts_with(p, m.value))
        GROUP BY p
        """
    )
    t1 = time.perf_counter()
    per_source = con.execute("SELECT source, sum(versions) FROM latest GROUP BY source ORDER BY source").fetchall()
    read_rows = sum(n for _, n in per_source)
    latest_rows = con.execute("SELECT count(*) FROM latest").fetchone()[0]
    # Each latest row with its SKU (its own, else through its product), the SKU's model, the
    # key of the principal the model counts (device key or user key), and whether it
    # qualifies (A2 look-back windows, future rows and the confidence floor).
    con.execute(
        f"""
        CREATE TEMP VIEW resolved AS
        SELECT r.*, c.model,
            CASE WHEN c.model IS NULL THEN NULL WHEN c.model = 'device' THEN r.dkey ELSE r.ukey END AS key,
            r.ts IS NOT NULL AND r.ts <= TIMESTAMPTZ '{as_of.isoformat()}'
              AND r.confidence >= {ruleset.get("min_confidence", "0")}
              AND r.ts > CASE r.kind
                    WHEN 'assignment' THEN TIMESTAMPTZ '{cutoff["assignment"].isoformat()}'
                    WHEN 'installation' THEN TIMESTAMPTZ '{cutoff["installation"].isoformat()}'
                    WHEN 'usage' THEN TIMESTAMPTZ '{cutoff["usage"].isoformat()}'
                    WHEN 'session' THEN TIMESTAMPTZ '{cutoff["session"].isoformat()}' END AS q
        FROM (
            SELECT l.s.ts AS ts, coalesce(l.s.sku, ps.sku) AS sku, l.s.kind AS kind, l.s.status AS status,
                l.s.confidence AS confidence, l.s.ukey AS ukey, l.s.dkey AS dkey,
                l.s.ss AS ss, l.s.se AS se, l.s.qty AS qty
            FROM latest l LEFT JOIN product_sku ps ON l.s.p = ps.p
        ) r LEFT JOIN catalog c ON r.sku = c.sku
        """
    )
    # One unit per (SKU, principal) over the qualifying signals: counted when it has
    # qualifying use, or when its latest qualifying assignment is active (A4, without
    # identity resolution). Rows without a catalog SKU are kept in groups of their own
    # (model NULL, key NULL) so the same pass counts them.
    con.execute(
        """
        CREATE TEMP TABLE units AS
        SELECT sku, model, key, count(*) AS signals,
            bool_or(kind IN ('installation', 'usage')) AS used,
            arg_max(status, ts) FILTER (WHERE kind = 'assignment') AS last_assignment
        FROM resolved
        WHERE model IS NULL OR (model <> 'concurrent' AND key IS NOT NULL AND q)
        GROUP BY sku, model, key
        """
    )
    # Concurrent SKUs: the peak of the summed quantities of open sessions over
    # [as_of - window_days, as_of), intervals half-open (an end sorts before a start at the
    # same instant), open sessions end at as_of (A4; no merging of duplicate sessions).
    con.execute(
        f"""
        CREATE TEMP TABLE peaks AS
        WITH sess AS (
            SELECT sku, greatest(ss, TIMESTAMPTZ '{cutoff["session"].isoformat()}') AS a,
                least(coalesce(se, TIMESTAMPTZ '{as_of.isoformat()}'), TIMESTAMPTZ '{as_of.isoformat()}') AS b, qty
            FROM resolved WHERE model = 'concurrent' AND kind = 'session' AND q AND ss IS NOT NULL
        ),
        ev AS (
            SELECT sku, a AS t, qty AS d FROM sess WHERE a < b
            UNION ALL
            SELECT sku, b AS t, -qty AS d FROM sess WHERE a < b
        )
        SELECT sku, max(level) AS peak, count(*) // 2 AS signals
        FROM (SELECT sku, sum(d) OVER (PARTITION BY sku ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS level FROM ev)
        GROUP BY sku
        """
    )
    unmapped = con.execute("SELECT coalesce(sum(signals), 0) FROM units WHERE model IS NULL").fetchone()[0]
    qualifying = con.execute(
        "SELECT (SELECT coalesce(sum(signals), 0) FROM units WHERE model IS NOT NULL) + (SELECT coalesce(sum(signals), 0) FROM peaks)"
    ).fetchone()[0]
    as_of_date = as_of.date().isoformat()
    copied = con.execute(
        f"""
        COPY (
            WITH consumed AS (
                SELECT sku, count(*) FILTER (WHERE CASE
                    WHEN model IN ('device', 'user') THEN used OR last_assignment = 'active'
                    WHEN model IN ('subscription', 'feature') THEN last_assignment = 'active' END) AS consumed
                FROM units GROUP BY sku
                UNION ALL
                SELECT sku, peak FROM peaks
            ),
            entitled AS (
                SELECT sku, sum(try_cast(quantity AS BIGINT)) AS entitled
                FROM read_csv(?, header = true, all_varchar = true)
                WHERE starts_on <= '{as_of_date}' AND (ends_on IS NULL OR ends_on >= '{as_of_date}')
                GROUP BY sku
            )
            SELECT c.sku, greatest(0, coalesce(e.entitled, 0) - coalesce(u.consumed, 0)) AS available,
                coalesce(u.consumed, 0) AS consumed, coalesce(e.entitled, 0) - coalesce(u.consumed, 0) AS remaining
            FROM catalog c LEFT JOIN consumed u USING (sku) LEFT JOIN entitled e USING (sku)
            ORDER BY c.sku
        ) TO {sql_str(str(args.out))} (HEADER)
        """,
        [str(bundle / "entitlements.csv")],
    ).fetchone()[0]
    totals = con.execute(f"SELECT sum(available), sum(consumed), sum(remaining) FROM read_csv({sql_str(str(args.out))})").fetchone()
    t2 = time.perf_counter()

    print(f"threads: {threads}")
    print(f"signal rows read: {read_rows} ({', '.join(f'{s} {n}' for s, n in per_source)})")
    print(f"after keeping the latest per (source, raw_id): {latest_rows}")
    print(f"without a catalog SKU (unmapped product or unknown sku): {unmapped}")
    print(f"qualifying signals counted: {qualifying}")
    print(f"SKU rows written to {args.out}: {copied}")
    print(f"totals: available {totals[0]}, consumed {totals[1]}, remaining {totals[2]}")
    log(f"    duckdb: load {t1 - t0:.2f} s, counters {t2 - t1:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
