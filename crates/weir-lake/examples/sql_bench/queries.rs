//! The benchmark's analytical queries: filters, group-bys, a join with a dimension table,
//! window functions, top-N, count distinct, date truncation. Written in SQL both DataFusion and
//! DuckDB accept unchanged.

pub struct BenchQuery {
    pub name: &'static str,
    pub sql: &'static str,
}

pub const QUERIES: [BenchQuery; 12] = [
    BenchQuery {
        name: "q01_filter_count",
        sql: "SELECT count(*) AS purchases FROM bench.clicks WHERE event_type = 'purchase'",
    },
    BenchQuery {
        name: "q02_revenue_by_country",
        sql: "SELECT country, sum(revenue) AS revenue, count(*) AS purchases \
              FROM bench.clicks WHERE event_type = 'purchase' \
              GROUP BY country ORDER BY revenue DESC",
    },
    BenchQuery {
        name: "q03_partition_week",
        sql: "SELECT day, device, count(*) AS events FROM bench.clicks \
              WHERE day BETWEEN DATE '2024-01-10' AND DATE '2024-01-16' \
              GROUP BY day, device ORDER BY day, device",
    },
    BenchQuery {
        name: "q04_top_pages",
        sql: "SELECT url, count(*) AS views FROM bench.clicks WHERE event_type = 'page_view' \
              GROUP BY url ORDER BY views DESC, url LIMIT 10",
    },
    BenchQuery {
        name: "q05_daily_users",
        sql: "SELECT day, count(DISTINCT user_id) AS users FROM bench.clicks \
              GROUP BY day ORDER BY day",
    },
    BenchQuery {
        name: "q06_join_regions",
        sql: "SELECT c.region, count(*) AS events, sum(k.revenue) AS revenue \
              FROM bench.clicks k JOIN bench.countries c ON k.country = c.code \
              GROUP BY c.region ORDER BY c.region",
    },
    BenchQuery {
        name: "q07_hourly_one_day",
        sql: "SELECT date_trunc('hour', ts) AS hour, count(*) AS events, \
              count(DISTINCT session_id) AS sessions FROM bench.clicks \
              WHERE day = DATE '2024-01-15' GROUP BY 1 ORDER BY 1",
    },
    BenchQuery {
        name: "q08_top_sessions",
        sql: "SELECT session_id, count(*) AS events, sum(duration_ms) AS time_ms \
              FROM bench.clicks GROUP BY session_id ORDER BY events DESC, session_id LIMIT 10",
    },
    BenchQuery {
        name: "q09_top3_pages_per_country",
        sql: "SELECT country, url, views FROM ( \
                SELECT country, url, count(*) AS views, \
                       row_number() OVER (PARTITION BY country ORDER BY count(*) DESC, url) AS rn \
                FROM bench.clicks WHERE event_type = 'page_view' GROUP BY country, url) ranked \
              WHERE rn <= 3 ORDER BY country, rn",
    },
    // Events of a session can share a timestamp (the generator clamps the day's last instant):
    // the window's order is made total so that the answer is one, and comparable.
    BenchQuery {
        name: "q10_session_window",
        sql: "SELECT event_type, avg(step) AS avg_step, count(*) AS events FROM ( \
                SELECT event_type, duration_ms - lag(duration_ms) \
                       OVER (PARTITION BY session_id ORDER BY ts, duration_ms, event_type) AS step \
                FROM bench.clicks WHERE day BETWEEN DATE '2024-01-15' AND DATE '2024-01-17') s \
              GROUP BY event_type ORDER BY event_type",
    },
    BenchQuery {
        name: "q11_top_spenders",
        sql: "SELECT user_id, sum(revenue) AS spent, count(*) AS purchases FROM bench.clicks \
              WHERE revenue IS NOT NULL GROUP BY user_id ORDER BY spent DESC, user_id LIMIT 20",
    },
    BenchQuery {
        name: "q12_mobile_product_long_views",
        sql: "SELECT referrer, count(*) AS views FROM bench.clicks \
              WHERE url LIKE '/product/%' AND device = 'mobile' AND duration_ms > 5000 \
              GROUP BY referrer ORDER BY views DESC, referrer LIMIT 10",
    },
];
