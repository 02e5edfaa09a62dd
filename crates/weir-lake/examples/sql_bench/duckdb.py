# Runs the query benchmark's queries in DuckDB over the same Parquet files weir reads.
# Usage: python3 duckdb.py QUERIES.json LAKE_DIR RUNS
# Prints one JSON object: {"version": ..., "results": [{"name", "ms", "rows"}]}.
# Exits 3 when the duckdb package is missing.
import json
import statistics
import sys
import time

try:
    import duckdb
except ImportError:
    print("the duckdb Python package is not installed: pip install duckdb", file=sys.stderr)
    sys.exit(3)

queries_path, lake, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(queries_path) as f:
    queries = json.load(f)

con = duckdb.connect()
con.execute("CREATE SCHEMA bench")
con.execute(
    "CREATE VIEW bench.clicks AS SELECT * FROM read_parquet("
    f"'{lake}/bench/clicks/**/*.parquet', hive_partitioning = true)"
)
con.execute(
    f"CREATE VIEW bench.countries AS SELECT * FROM read_parquet('{lake}/bench/countries/*.parquet')"
)

results = []
for q in queries:
    rows = len(con.execute(q["sql"]).fetchall())  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        con.execute(q["sql"]).fetchall()
        times.append((time.perf_counter() - start) * 1000.0)
    results.append({"name": q["name"], "ms": statistics.median(times), "rows": rows})

print(json.dumps({"version": duckdb.__version__, "results": results}))
