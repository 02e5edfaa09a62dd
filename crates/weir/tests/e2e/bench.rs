//! `weir bench` commands run and print their figures. Benchmarks are not timed tests: nothing
//! here is about speed.

use crate::support::*;

/// `weir bench auth` starts two real servers (authentication on and off), makes every call of
/// every figure succeed on both (a refused call fails the benchmark: the signed and bearer calls
/// are accepted), and prints each figure with both sides and the overhead.
#[test]
fn bench_auth_prints_each_figure_with_and_without_authentication() {
    let output = weir(&[
        "bench", "auth", "--calls", "3", "--rounds", "2", "--chain", "3",
    ]);
    let text = stdout(&output);
    assert!(
        output.status.success(),
        "weir bench auth failed: {}\n{text}",
        stderr(&output)
    );
    assert!(
        text.contains("AUTH ON: MEDIAN / P95") && text.contains("AUTH OFF: MEDIAN / P95"),
        "{text}"
    );
    for figure in [
        "GET /api/v1/runs/{id} (bearer token)",
        "trigger + wait, one no-op task",
        "DescribeStateMachine (SigV4)",
        "StartExecution, express Pass machine (SigV4)",
        "StartExecution, standard Pass machine, durable (SigV4)",
        "chain of 3 no-op tasks, gap between tasks",
    ] {
        let line = text
            .lines()
            .find(|line| line.starts_with(figure))
            .unwrap_or_else(|| panic!("no line for {figure}:\n{text}"));
        assert_eq!(line.matches(" ms").count(), 2, "{line}");
        assert_eq!(line.matches(" %").count(), 2, "{line}");
    }
}

/// `weir bench transforms` runs the representative recipe and DuckDB's equivalent SQL on the
/// same generated files, prints both rates and their ratio, and finds the outputs equal value
/// by value (needs the `duckdb` Python package, which scripts/test.sh installs).
#[test]
fn bench_transforms_compares_with_duckdb_value_by_value() {
    let dir = tempfile::tempdir().unwrap();
    let output = weir(&[
        "bench",
        "transforms",
        "--rows",
        "20000",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    let text = stdout(&output);
    assert!(
        output.status.success(),
        "weir bench transforms failed: {}\n{text}",
        stderr(&output)
    );
    for expected in [
        "transform benchmark: 20000 source rows",
        "  weir ",
        "  DuckDB ",
        "ratio (weir time / DuckDB time)",
        "outputs equal value by value",
    ] {
        assert!(text.contains(expected), "no `{expected}` in:\n{text}");
    }
    assert!(!text.contains("WARNING"), "{text}");
}
