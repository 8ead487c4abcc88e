//! Events at the UTC day boundaries in several offsets, a date without a
//! time and rows without a user, around S = 2025-11-01 and A = 2026-01-01:
//! the cases every engine that computes the activity rollup must agree on
//! with the local engine (DuckDB's statement, Spark's).

#![allow(dead_code)]

use polars::prelude::*;

pub const BOUNDARY_EVENTS: [(i64, Option<i64>, &str, &str); 9] = [
    (1, Some(11), "2025-10-31T23:30:00-01:00", "login"), // 00:30 on S: in
    (1, Some(11), "2025-11-01T00:30:00+01:00", "export"), // 23:30 on S − 1: out
    (1, None, "2025-12-31T23:59:59Z", "login"),          // A − 1, no user: in
    (3, Some(31), "2026-01-01T00:00:00Z", "login"),      // A: out
    (3, Some(31), "2025-12-31T22:30:00-03:00", "report"), // 01:30 on A: out
    (3, Some(32), "2025-12-10T10:00:00+05:30", "report"), // in
    (3, Some(32), "2025-12-31T02:00:00+05:30", "login"), // 20:30 on 12-30: in
    (2, Some(21), "2025-11-15T10:00:00Z", "login"),      // an account churned on S
    (1, Some(12), "2025-11-20", "export"),               // a date: midnight UTC
];

/// The metrics over the boundary events: every event metric.
pub const EVENT_METRICS: &str = "[feature_adoption_rate, { active_user_rate: { window_days: [1, 7, 30], level: user } }, \
     { key_action_rate: { event: report, level: user } }, { return_rate: { min_active_days: 1, window_days: 28 } }, \
     { time_to_first_value: { event: report, within_days: 90 } }]";

/// Three fixtures ([`super::fixture`] with [`EVENT_METRICS`]) holding the
/// boundary events, each with the `sources.events` entry that reads them:
/// ISO text with offsets in a CSV, the same in gzip'd NDJSON with the
/// account nested, and epoch milliseconds in a Parquet column named
/// otherwise.
pub fn boundary_fixtures() -> Vec<(tempfile::TempDir, &'static str)> {
    let csv_dir = super::fixture(EVENT_METRICS);
    let mut csv = String::from("account_id,user_id,event_time,event_name\n");
    for (account, user, time, name) in BOUNDARY_EVENTS {
        let user = user.map_or(String::new(), |u| u.to_string());
        csv.push_str(&format!("{account},{user},{time},{name}\n"));
    }
    std::fs::write(csv_dir.path().join("events.csv"), csv).unwrap();

    let parquet_dir = super::fixture(EVENT_METRICS);
    let millis: Vec<i64> = BOUNDARY_EVENTS
        .iter()
        .map(|(_, _, time, _)| {
            chrono::DateTime::parse_from_rfc3339(time)
                .map(|t| t.timestamp_millis())
                .unwrap_or_else(|_| {
                    let day = chrono::NaiveDate::parse_from_str(time, "%Y-%m-%d").unwrap();
                    day.and_hms_opt(0, 0, 0)
                        .unwrap()
                        .and_utc()
                        .timestamp_millis()
                })
        })
        .collect();
    let mut frame = df!(
        "acct" => BOUNDARY_EVENTS.iter().map(|e| e.0).collect::<Vec<_>>(),
        "user_id" => BOUNDARY_EVENTS.iter().map(|e| e.1).collect::<Vec<_>>(),
        "ts" => millis,
        "event_name" => BOUNDARY_EVENTS.iter().map(|e| e.3).collect::<Vec<_>>(),
    )
    .unwrap();
    ParquetWriter::new(std::fs::File::create(parquet_dir.path().join("events.parquet")).unwrap())
        .finish(&mut frame)
        .unwrap();
    // NDJSON, gzip'd, the account as a nested field (Amplitude's shape).
    let ndjson_dir = super::fixture(EVENT_METRICS);
    let mut lines = String::new();
    for (account, user, time, name) in BOUNDARY_EVENTS {
        let user = user.map_or("null".to_string(), |u| u.to_string());
        lines.push_str(&format!(
            "{{\"event_type\":\"{name}\",\"time\":\"{time}\",\"user_id\":{user},\"groups\":{{\"company\":{account}}}}}\n"
        ));
    }
    let mut zipped = flate2::write::GzEncoder::new(
        std::fs::File::create(ndjson_dir.path().join("events.json.gz")).unwrap(),
        flate2::Compression::fast(),
    );
    std::io::Write::write_all(&mut zipped, lines.as_bytes()).unwrap();
    zipped.finish().unwrap();
    vec![
        (csv_dir, "{ path: events.csv }"),
        (
            ndjson_dir,
            "{ path: events.json.gz, columns: { account_id: groups.company, event_time: time, event_name: event_type } }",
        ),
        (
            parquet_dir,
            "{ path: events.parquet, columns: { account_id: acct, event_time: ts }, types: { event_time: epoch_ms } }",
        ),
    ]
}
