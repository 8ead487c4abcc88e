"""The metrics of bench/pipeline.yaml written by hand as DuckDB SQL.

Usage: python3 bench/duckdb_metrics.py DATA_DIR OUT.parquet

This is the contender a data engineer would otherwise write: plain SQL over
the same files, native column types (integer ids), DuckDB's own parallel
Parquet reader. It writes one long table (metric, cohort, segment,
dimension, period_start, numerator, denominator, value) that
bench/compare.py checks against our `metrics` table.

Covered: every metric of the pipeline except `retention_curve`,
`revenue_movements` (tables), `survival` (Kaplan–Meier), `health_score` and
`customer_lifetime_value`; those are listed in docs/BENCHMARKS.md. The
parameters are those of bench/pipeline.yaml (as_of 2026-11-01, 12 months,
window 90 days, courses onboarding-101 and admin-cert, segment plan).
"""

import sys

import duckdb

A = "2026-11-01"
S = "2025-11-01"
W = 90
COURSES = "('onboarding-101', 'admin-cert')"


def main() -> None:
    data, out = sys.argv[1], sys.argv[2]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET file_search_path = '{data}'")
    rows = run(con)
    rows.write_parquet(out)


def grouped(metric: str, base: str, num: str, den: str, value: str = "num / den",
            dimension: str = "NULL", period_start: str = f"DATE '{S}'", by_dim: bool = False):
    """One metric over `base` (one row per subject or fact, with `cohort`,
    `plan` and the columns `num` and `den` add up), for the cohorts trained,
    untrained and all, each overall and per plan."""
    keys = ["dim", "ps", "pe"] if by_dim else []
    sets = ", ".join(
        "(" + ", ".join(keys + extra) + ")" for extra in (["cohort", "plan"], ["cohort"], ["plan"], [])
    )
    query = f"""
    SELECT '{metric}' AS metric,
           CASE WHEN grouping(cohort) = 1 THEN 'all' ELSE cohort END AS cohort,
           CASE WHEN grouping(plan) = 1 THEN NULL
                ELSE 'plan=' || coalesce(plan, '(null)') END AS segment,
           {"dim" if by_dim else dimension}::VARCHAR AS dimension,
           {"ps" if by_dim else period_start} AS period_start,
           {"pe" if by_dim else f"DATE '{A}'"}::DATE AS period_end,
           sum({num})::DOUBLE AS num, sum({den})::DOUBLE AS den
    FROM ({base})
    GROUP BY GROUPING SETS ({sets})
    HAVING NOT (grouping(cohort) = 0 AND cohort IS NULL)
    """
    return query, value


def cohort_at(reference: str) -> str:
    """docs/METRICS.md#cohorts: the cohort at reference date R of rows with `lm` (landmark),
    `signup_date`, `churn_date` and `courses` (qualifying courses by L)."""
    return f"""CASE WHEN lm <= {reference} AND signup_date < lm
                     AND (churn_date IS NULL OR churn_date >= lm)
                THEN CASE WHEN coalesce(courses, 0) >= 1 THEN 'trained' ELSE 'untrained' END
           END AS cohort"""


def run(con):
    con.execute(f"""
    CREATE TEMP TABLE acc AS
    WITH a AS (
        SELECT account_id, signup_date, churn_date, plan,
               signup_date + INTERVAL {W} DAY AS lm
        FROM read_csv('accounts.csv')
    ),
    done AS (
        SELECT t.account_id, count(DISTINCT t.course_id) AS courses
        FROM 'training.parquet' t JOIN a USING (account_id)
        WHERE t.completed_at IS NOT NULL AND t.completed_at < TIMESTAMPTZ '{A}'
          AND t.course_id IN {COURSES} AND t.completed_at::DATE < a.lm
        GROUP BY ALL
    )
    SELECT a.*,
           {cohort_at(f"DATE '{S}'")},
           signup_date < DATE '{A}' AND (churn_date IS NULL OR churn_date > DATE '{S}')
               AND (churn_date IS NULL OR churn_date > signup_date) AS in_period
    FROM a LEFT JOIN done USING (account_id)
    """)
    con.execute(f"""
    CREATE TEMP TABLE usr AS
    WITH u AS (
        SELECT u.user_id, u.account_id, acc.plan, acc.signup_date, acc.churn_date, acc.in_period,
               u.created_at,
               coalesce(u.created_at, acc.signup_date) + INTERVAL {W} DAY AS lm
        FROM read_csv('users.csv') u JOIN acc USING (account_id)
    ),
    done AS (
        SELECT t.user_id, count(DISTINCT t.course_id) AS courses
        FROM 'training.parquet' t JOIN u USING (user_id)
        WHERE t.completed_at IS NOT NULL AND t.completed_at < TIMESTAMPTZ '{A}'
          AND t.course_id IN {COURSES} AND t.completed_at::DATE < u.lm
        GROUP BY ALL
    )
    SELECT u.*,
           {cohort_at(f"DATE '{S}'")}
    FROM u LEFT JOIN done USING (user_id)
    """)
    # Events of the period, reduced once to (account, user, day, event) facts.
    con.execute(f"""
    CREATE TEMP TABLE ev AS
    SELECT account_id, user_id, event_time::DATE AS day, event_name
    FROM 'events/*.parquet'
    WHERE event_time >= TIMESTAMPTZ '{S}' AND event_time < TIMESTAMPTZ '{A}'
    """)
    months = f"(SELECT unnest(generate_series(DATE '{S}', DATE '{A}' - INTERVAL 1 MONTH, INTERVAL 1 MONTH))::DATE AS m)"
    pop_s = f"signup_date < DATE '{S}' AND (churn_date IS NULL OR churn_date >= DATE '{S}')"
    customers = "SELECT * FROM acc WHERE in_period"
    parts = []

    def add(query_value):
        query, value = query_value
        parts.append(f"SELECT *, {value} AS value FROM ({query})")

    # Retention and churn.
    add(grouped("logo_retention", f"SELECT cohort, plan, (churn_date IS NULL OR churn_date >= DATE '{A}')::INT AS x FROM acc WHERE {pop_s}", "x", "1"))
    add(grouped("churn_rate", f"SELECT cohort, plan, (churn_date < DATE '{A}')::INT AS x FROM acc WHERE {pop_s}", "coalesce(x, 0)", "1"))
    add(grouped("monthly_churn_rate", f"""
        SELECT NULL AS dim, m AS ps, m + INTERVAL 1 MONTH AS pe, cohort, plan, (churn_date < m + INTERVAL 1 MONTH)::INT AS x
        FROM acc, {months}
        WHERE signup_date < m AND (churn_date IS NULL OR churn_date >= m)""",
        "coalesce(x, 0)", "1", by_dim=True))

    # Revenue ratios: MRR per account and month (a missing month is 0), in
    # whole cents: with floats, a month split over two rows can come out a
    # hair above the month before and count as an expansion.
    con.execute(f"""
    CREATE TEMP TABLE mrr AS
    SELECT account_id, date_trunc('month', month)::DATE AS m, round(sum(mrr) * 100) AS mrr
    FROM 'revenue.parquet' GROUP BY ALL
    """)
    m0 = f"DATE '{S}' - INTERVAL 1 MONTH"
    mk = f"DATE '{A}' - INTERVAL 1 MONTH"
    grid = f"""
        SELECT acc.account_id, acc.cohort, acc.plan, g.m,
               coalesce(cur.mrr, 0) AS cur, coalesce(prev.mrr, 0) AS prev
        FROM acc JOIN (SELECT DISTINCT account_id FROM mrr) USING (account_id)
        CROSS JOIN {months} g
        LEFT JOIN mrr cur ON cur.account_id = acc.account_id AND cur.m = g.m
        LEFT JOIN mrr prev ON prev.account_id = acc.account_id AND prev.m = g.m - INTERVAL 1 MONTH
    """
    add(grouped("expansion_revenue_rate", grid, "CASE WHEN prev > 0 AND cur > prev THEN cur - prev ELSE 0 END / 100", "cur / 100"))
    base = f"""
        SELECT acc.cohort, acc.plan, b.mrr AS b, coalesce(k.mrr, 0) AS k
        FROM acc JOIN mrr b ON b.account_id = acc.account_id AND b.m = {m0} AND b.mrr > 0
        LEFT JOIN mrr k ON k.account_id = acc.account_id AND k.m = {mk}
    """
    add(grouped("net_revenue_retention", base, "k / 100", "b / 100"))
    add(grouped("gross_revenue_retention", base, "least(k, b) / 100", "b / 100"))
    add(grouped("upsell_rate", f"""
        SELECT cohort, plan, max((prev > 0 AND cur > prev)::INT) AS x, max((cur > 0)::INT) AS y
        FROM ({grid}) GROUP BY account_id, cohort, plan""", "x", "y"))

    # Voice of the customer.
    add(grouped("nps", f"""
        SELECT acc.cohort, acc.plan, (score >= 9)::INT - (score <= 6)::INT AS x
        FROM read_csv('nps_responses.csv') r JOIN acc USING (account_id)
        WHERE responded_at >= TIMESTAMPTZ '{S}' AND responded_at < TIMESTAMPTZ '{A}'""",
        "x", "1", value="100 * num / den"))
    add(grouped("csat", f"""
        SELECT acc.cohort, acc.plan, (score >= 4)::INT AS x
        FROM read_csv('csat_responses.csv') r JOIN acc USING (account_id)
        WHERE responded_at >= TIMESTAMPTZ '{S}' AND responded_at < TIMESTAMPTZ '{A}'""",
        "x", "1", value="100 * num / den"))

    # Education.
    add(grouped("training_completion_rate", f"""
        SELECT acc.cohort, acc.plan, (completed_at < TIMESTAMPTZ '{A}')::INT AS x
        FROM 'training.parquet' t JOIN acc USING (account_id)
        WHERE enrolled_at >= TIMESTAMPTZ '{S}' AND enrolled_at < TIMESTAMPTZ '{A}'""",
        "coalesce(x, 0)", "1"))
    scored = f"""
        SELECT acc.cohort, acc.plan, score
        FROM 'training.parquet' t JOIN acc USING (account_id)
        WHERE completed_at >= TIMESTAMPTZ '{S}' AND completed_at < TIMESTAMPTZ '{A}' AND score IS NOT NULL"""
    add(grouped("knowledge_retention", scored, "score", "1", dimension="'mean_score'"))
    add(grouped("knowledge_retention", f"SELECT cohort, plan, (score >= 80)::INT AS x FROM ({scored})", "x", "1", dimension="'pass_rate'"))
    add(grouped("education_engagement", f"""
        SELECT c.cohort, c.plan, (t.account_id IS NOT NULL)::INT AS x
        FROM ({customers}) c LEFT JOIN (
            SELECT DISTINCT account_id FROM 'training.parquet'
            WHERE (enrolled_at >= TIMESTAMPTZ '{S}' AND enrolled_at < TIMESTAMPTZ '{A}')
               OR (completed_at >= TIMESTAMPTZ '{S}' AND completed_at < TIMESTAMPTZ '{A}')
        ) t USING (account_id)""", "x", "1"))

    # Support and success operations.
    con.execute(f"""
    CREATE TEMP TABLE tk AS
    SELECT account_id, created_at::DATE AS day, product_area
    FROM 'tickets.parquet'
    WHERE created_at >= TIMESTAMPTZ '{S}' AND created_at < TIMESTAMPTZ '{A}'
    """)
    add(grouped("support_incident_rate", f"""
        SELECT c.cohort, c.plan, coalesce(n, 0) AS x
        FROM ({customers}) c LEFT JOIN (SELECT account_id, count(*) AS n FROM tk GROUP BY ALL) USING (account_id)""",
        "x", "1"))
    add(grouped("support_incident_rate", f"""
        SELECT 'product_area=' || area AS dim, DATE '{S}' AS ps, DATE '{A}' AS pe, c.cohort, c.plan, coalesce(n, 0) AS x
        FROM ({customers}) c
        CROSS JOIN (SELECT DISTINCT product_area AS area FROM tk)
        LEFT JOIN (SELECT account_id, product_area, count(*) AS n FROM tk GROUP BY ALL) t
          ON t.account_id = c.account_id AND t.product_area = area""",
        "x", "1", by_dim=True))
    add(grouped("support_incident_rate", f"""
        SELECT NULL AS dim, g.m AS ps, g.m + INTERVAL 1 MONTH AS pe, c.cohort, c.plan, coalesce(n, 0) AS x
        FROM acc c CROSS JOIN {months} g
        LEFT JOIN (SELECT account_id, date_trunc('month', day)::DATE AS m, count(*) AS n FROM tk GROUP BY ALL) t
          ON t.account_id = c.account_id AND t.m = g.m
        WHERE c.signup_date < g.m + INTERVAL 1 MONTH AND (c.churn_date IS NULL OR c.churn_date > g.m)
          AND (c.churn_date IS NULL OR c.churn_date > c.signup_date)""",
        "x", "1", by_dim=True))
    add(grouped("save_rate", f"""
        SELECT acc.cohort, acc.plan, (lower(outcome) = 'saved')::INT AS x
        FROM 'cancellations.parquet' r JOIN acc USING (account_id)
        WHERE requested_at >= DATE '{S}' AND requested_at < DATE '{A}'""", "x", "1"))
    for metric, table, column in [("customer_base_coverage", "touchpoints", "contacted_at"),
                                  ("referral_rate", "referrals", "referred_at")]:
        counted = f"""
            SELECT c.cohort, c.plan, coalesce(n, 0) AS n
            FROM ({customers}) c LEFT JOIN (
                SELECT account_id, count(*) AS n FROM '{table}.parquet'
                WHERE {column} >= DATE '{S}' AND {column} < DATE '{A}' GROUP BY ALL
            ) USING (account_id)"""
        add(grouped(metric, counted, "(n > 0)::INT", "1"))
        if metric == "referral_rate":
            # Referrals per customer (docs/STATISTICS.md: counts are compared per account).
            add(grouped(metric, counted, "n", "1", dimension="'referrals'"))

    # Adoption. Users: created before A, account a customer in the period.
    users = f"SELECT * FROM usr WHERE (created_at IS NULL OR created_at < DATE '{A}') AND in_period"
    for days in [1, 7, 30]:
        add(grouped("active_user_rate", f"""
            SELECT u.cohort, u.plan, (e.user_id IS NOT NULL)::INT AS x
            FROM ({users}) u LEFT JOIN (
                SELECT DISTINCT user_id FROM ev WHERE day >= DATE '{A}' - INTERVAL {days} DAY
            ) e USING (user_id)""", "x", "1", dimension=f"'window={days}d'",
            period_start=f"(DATE '{A}' - INTERVAL {days} DAY)::DATE"))
    add(grouped("feature_adoption_rate", f"""
        SELECT f.event_name AS dim, DATE '{S}' AS ps, DATE '{A}' AS pe, c.cohort, c.plan, (e.account_id IS NOT NULL)::INT AS x
        FROM ({customers}) c CROSS JOIN (SELECT DISTINCT event_name FROM ev) f
        LEFT JOIN (SELECT DISTINCT account_id, event_name FROM ev) e
          ON e.account_id = c.account_id AND e.event_name = f.event_name""",
        "x", "1", by_dim=True))
    add(grouped("key_action_rate", f"""
        SELECT u.cohort, u.plan, (e.user_id IS NOT NULL)::INT AS x
        FROM ({users}) u LEFT JOIN (
            SELECT DISTINCT user_id FROM ev WHERE event_name = 'report_created'
        ) e USING (user_id)""", "x", "1"))
    add(grouped("return_rate", f"""
        SELECT c.cohort, c.plan, (coalesce(d, 0) >= 4)::INT AS x
        FROM ({customers}) c LEFT JOIN (
            SELECT account_id, count(DISTINCT day) AS d FROM ev
            WHERE day >= DATE '{A}' - INTERVAL 28 DAY GROUP BY ALL
        ) USING (account_id)""", "x", "1",
        period_start=f"(DATE '{A}' - INTERVAL 28 DAY)::DATE"))

    # key_action_correlation: the 2×2 table over assigned accounts.
    parts.append(f"""
    WITH t AS (
        SELECT CASE WHEN grouping(plan) = 1 THEN NULL ELSE 'plan=' || coalesce(plan, '(null)') END AS segment,
               count(*) FILTER (cohort = 'trained' AND did)::DOUBLE AS a,
               count(*) FILTER (cohort = 'trained' AND NOT did)::DOUBLE AS b,
               count(*) FILTER (cohort = 'untrained' AND did)::DOUBLE AS c,
               count(*) FILTER (cohort = 'untrained' AND NOT did)::DOUBLE AS d
        FROM (SELECT c.cohort, c.plan, e.account_id IS NOT NULL AS did
              FROM ({customers}) c LEFT JOIN (
                  SELECT DISTINCT account_id FROM ev WHERE event_name = 'report_created'
              ) e USING (account_id)
              WHERE c.cohort IS NOT NULL)
        GROUP BY GROUPING SETS ((plan), ())
    )
    SELECT 'key_action_correlation', 'all', segment, 'phi', DATE '{S}', DATE '{A}', NULL::DOUBLE, NULL::DOUBLE,
           CASE WHEN (a + b) * (c + d) * (a + c) * (b + d) > 0
                THEN (a * d - b * c) / sqrt((a + b)::DOUBLE * (c + d) * (a + c) * (b + d)) END
    FROM t
    UNION ALL
    SELECT 'key_action_correlation', 'all', segment, 'tetrachoric', DATE '{S}', DATE '{A}', NULL::DOUBLE, NULL::DOUBLE,
           CASE WHEN b * c = 0 AND a * d > 0 THEN 1
                WHEN a * d = 0 AND b * c > 0 THEN -1
                WHEN a * d = 0 AND b * c = 0 THEN NULL
                ELSE cos(pi() / (1 + sqrt((a * d)::DOUBLE / (b * c)))) END
    FROM t
    """)

    # time_to_first_value: R = A cohorts; signups in [S, A − W).
    con.execute(f"""
    CREATE TEMP TABLE acc_a AS
    SELECT acc.* REPLACE (
        {cohort_at(f"DATE '{A}'")})
    FROM acc LEFT JOIN (
        SELECT t.account_id, count(DISTINCT t.course_id) AS courses
        FROM 'training.parquet' t JOIN acc a USING (account_id)
        WHERE t.completed_at < TIMESTAMPTZ '{A}' AND t.course_id IN {COURSES} AND t.completed_at::DATE < a.lm
        GROUP BY ALL
    ) USING (account_id)
    """)
    first = f"""
        SELECT a.cohort, a.plan, a.signup_date, min(e.event_time)::DATE - a.signup_date AS days
        FROM acc_a a LEFT JOIN 'events/*.parquet' e
          ON e.account_id = a.account_id AND e.event_name = 'report_created'
         AND e.event_time < TIMESTAMPTZ '{A}' AND e.event_time >= a.signup_date
        WHERE a.signup_date >= DATE '{S}' AND a.signup_date < DATE '{A}' - INTERVAL {W} DAY
        GROUP BY a.account_id, a.cohort, a.plan, a.signup_date"""
    add(grouped("time_to_first_value", f"SELECT cohort, plan, (days <= 30)::INT AS x FROM ({first})",
                "coalesce(x, 0)", "1", dimension="'reached_within'"))
    parts.append(f"""
    SELECT 'time_to_first_value',
           CASE WHEN grouping(cohort) = 1 THEN 'all' ELSE cohort END,
           CASE WHEN grouping(plan) = 1 THEN NULL ELSE 'plan=' || coalesce(plan, '(null)') END,
           'median_days', DATE '{S}', DATE '{A}', NULL::DOUBLE, NULL::DOUBLE, median(days)::DOUBLE
    FROM ({first}) WHERE days IS NOT NULL
    GROUP BY GROUPING SETS ((cohort, plan), (cohort), (plan), ())
    HAVING NOT (grouping(cohort) = 0 AND cohort IS NULL)
    """)
    return con.sql("\nUNION ALL\n".join(f"SELECT * FROM ({p})" for p in parts))


if __name__ == "__main__":
    main()
