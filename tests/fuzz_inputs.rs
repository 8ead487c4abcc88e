//! Property test: random pipeline files and random small CSV inputs end in a
//! result or a clean error (exit 0, 2, 3 or 4 with a message), never a panic,
//! an unclassified failure or a hang.

mod common;

use std::time::Duration;

use common::*;
use proptest::prelude::*;

fn junk() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("2026-13-45".to_string()),
        Just("not a date".to_string()),
        Just("\"quoted, with comma\"".to_string()),
        Just("\"unterminated".to_string()),
        Just("NA".to_string()),
        (-5.0f64..200.0).prop_map(|f| format!("{f:.2}")),
        "[a-z]{1,6}",
    ]
}

/// Mostly valid values for a column, sometimes junk.
fn cell(column: &'static str) -> BoxedStrategy<String> {
    let good: BoxedStrategy<String> = match column {
        "account_id" => (1i64..7).prop_map(|i| i.to_string()).boxed(),
        "plan" => prop::sample::select(vec!["a", "b", ""])
            .prop_map(str::to_string)
            .boxed(),
        "mrr" => (0i64..500).prop_map(|i| i.to_string()).boxed(),
        "score" => (0i64..11).prop_map(|i| i.to_string()).boxed(),
        "churn_date" => prop_oneof![
            Just(String::new()),
            (0u32..700).prop_map(|d| (chrono::NaiveDate::from_ymd_opt(2024, 6, 1).unwrap()
                + chrono::Days::new(d as u64))
            .to_string())
        ]
        .boxed(),
        _ => prop_oneof![
            (0u32..700).prop_map(|d| (chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
                + chrono::Days::new(d as u64))
            .to_string()),
            (0u32..700).prop_map(|d| format!(
                "{}T23:30:00-03:00",
                chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Days::new(d as u64)
            )),
        ]
        .boxed(),
    };
    prop_oneof![12 => good, 1 => junk()].boxed()
}

fn csv(columns: Vec<&'static str>) -> impl Strategy<Value = String> {
    let row: Vec<BoxedStrategy<String>> = columns.iter().map(|c| cell(c)).collect();
    let header = columns.join(",");
    prop::collection::vec(row, 0..8).prop_map(move |rows| {
        let mut text = header.clone();
        text.push('\n');
        for row in rows {
            text.push_str(&row.join(","));
            text.push('\n');
        }
        text
    })
}

fn header(all: &'static [&'static str]) -> impl Strategy<Value = Vec<&'static str>> {
    prop_oneof![4 => Just(all.to_vec()), 1 => prop::sample::subsequence(all.to_vec(), 0..=all.len())]
}

fn pipeline() -> impl Strategy<Value = String> {
    let metric = prop::sample::select(vec![
        "logo_retention",
        "churn_rate",
        "monthly_churn_rate",
        "{ retention_curve: { max_months: 3 } }",
        "net_revenue_retention",
        "revenue_movements",
        "nps",
        "{ csat: { scale_max: 5 } }",
        "survival",
        "{ key_action_rate: { event: login } }",
        "health_score",
    ]);
    let broken_metric = prop::sample::select(vec!["unknown_metric", "{ nps: { bad: 1 } }"]);
    let metric = prop_oneof![9 => metric, 1 => broken_metric];
    let good_extra = prop::sample::select(vec![
        "",
        "segment_by: [plan]\n",
        "quality: { orphans: error }\n",
    ]);
    let extra = prop::sample::select(vec![
        "segment_by: [missing_column]\n",
        "cohort: { window_days: 0 }\n",
        "period: { as_of: 2026-02-30 }\n",
        "quality: { orphans: error }\n",
        "stats: { alpha: 2 }\n",
        "bogus: true\n",
        "sources: [1, 2]\n",
    ]);
    let extra = prop_oneof![4 => good_extra, 1 => extra];
    (prop::collection::vec(metric, 1..4), extra, 1u32..14).prop_map(|(metrics, extra, months)| {
        format!(
            "name: fuzz\nsources:\n  accounts: {{ path: accounts.csv }}\n  revenue: {{ path: revenue.csv }}\n  nps_responses: {{ path: nps.csv }}\n\
             period: {{ as_of: 2026-01-01, months: {months} }}\n{extra}metrics: [{}]\noutput: {{ path: out }}\n",
            metrics.join(", ")
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_inputs_end_cleanly(
        pipeline_text in pipeline(),
        accounts in header(&["account_id", "signup_date", "churn_date", "plan"]).prop_flat_map(csv),
        revenue in header(&["account_id", "month", "mrr"]).prop_flat_map(csv),
        nps in header(&["account_id", "responded_at", "score"]).prop_flat_map(csv),
    ) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [("p.yaml", &pipeline_text), ("accounts.csv", &accounts), ("revenue.csv", &revenue), ("nps.csv", &nps)] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let output = bin()
            .args(["-q", "run"])
            .arg(dir.path().join("p.yaml"))
            .timeout(Duration::from_secs(30))
            .output()
            .unwrap();
        let code = output.status.code();
        let stderr = String::from_utf8_lossy(&output.stderr);
        prop_assert!(
            matches!(code, Some(0) | Some(2) | Some(3) | Some(4)),
            "exit {:?}\nstderr: {}\npipeline:\n{}\naccounts:\n{}\nrevenue:\n{}\nnps:\n{}",
            code, stderr, pipeline_text, accounts, revenue, nps
        );
        prop_assert!(!stderr.contains("panicked"), "{}", stderr);
        if code != Some(0) {
            prop_assert!(stderr.contains("error: "), "a failure says why: {}", stderr);
        }
    }
}
