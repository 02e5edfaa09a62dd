# DuckDB's side of the SQL benchmark: one DuckDB connection driven over stdin/stdout, so the
# benchmark can run each query in weir and in DuckDB one after the other (interleaved) on the
# same files in the same run.
#
# Requests, one JSON object a line:
#   {"op": "setup", "sql": ["CREATE VIEW …", …]}  -> {"version": "2.0.1"}
#   {"op": "run", "sql": "SELECT …", "save": PATH or null}
#       -> {"ms": 12.3, "rows": 4}: the query's time, its whole result fetched as Arrow (every
#          value produced, as weir's side renders every value); with "save", the result is also
#          written to PATH as an Arrow IPC file (after the time is taken) for the comparison.
# Errors answer {"error": "…"}. Exits 3 when the duckdb or pyarrow package is missing.
import json
import sys
import time

try:
    import duckdb
    import pyarrow
    import pyarrow.ipc
except ImportError as e:
    print(f"{e.name} is not installed: pip install duckdb pyarrow", file=sys.stderr)
    sys.exit(3)

con = duckdb.connect()


def answer(value):
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    request = json.loads(line)
    try:
        if request["op"] == "setup":
            for statement in request["sql"]:
                con.execute(statement)
            answer({"version": duckdb.__version__})
        elif request["op"] == "run":
            start = time.perf_counter()
            table = con.sql(request["sql"]).to_arrow_table()
            ms = (time.perf_counter() - start) * 1000.0
            if request.get("save"):
                with pyarrow.ipc.new_file(request["save"], table.schema) as writer:
                    writer.write_table(table)
            answer({"ms": ms, "rows": table.num_rows})
        else:
            answer({"error": f"unknown op {request['op']}"})
    except Exception as e:  # the benchmark reports it and goes on with the next query
        answer({"error": str(e)})
