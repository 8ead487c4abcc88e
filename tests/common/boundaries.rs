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
/// ISO text with offsets in a CSV, the same in a directory of NDJSON files
/// (one gzip'd) with the account nested, and epoch milliseconds in a Parquet column named
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
    // NDJSON, the account as a nested field (Amplitude's shape), in a
    // directory: a gzip'd file and a plain one.
    let ndjson_dir = super::fixture(EVENT_METRICS);
    let parts = ndjson_dir.path().join("events");
    std::fs::create_dir(&parts).unwrap();
    let mut plain = String::new();
    let mut zipped = flate2::write::GzEncoder::new(
        std::fs::File::create(parts.join("part-1.json.gz")).unwrap(),
        flate2::Compression::fast(),
    );
    for (i, (account, user, time, name)) in BOUNDARY_EVENTS.iter().enumerate() {
        let user = user.map_or("null".to_string(), |u| u.to_string());
        let line = format!(
            "{{\"event_type\":\"{name}\",\"time\":\"{time}\",\"user_id\":{user},\"groups\":{{\"company\":{account}}}}}\n"
        );
        if i % 2 == 0 {
            std::io::Write::write_all(&mut zipped, line.as_bytes()).unwrap();
        } else {
            plain.push_str(&line);
        }
    }
    zipped.finish().unwrap();
    std::fs::write(parts.join("part-2.ndjson"), plain).unwrap();
    std::fs::write(parts.join("_SUCCESS"), "").unwrap();
    vec![
        (csv_dir, "{ path: events.csv }"),
        (
            ndjson_dir,
            "{ path: events/, format: ndjson, columns: { account_id: groups.company, event_time: time, event_name: event_type } }",
        ),
        (
            parquet_dir,
            "{ path: events.parquet, columns: { account_id: acct, event_time: ts }, types: { event_time: epoch_ms } }",
        ),
    ]
}
