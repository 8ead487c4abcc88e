//! End to end: generate a dataset with planted effects, run the pipeline
//! binary on it, read the Parquet outputs and check that the effects are
//! recovered and that revenue movements reconcile with MRR.

mod common;

use common::*;
use polars::prelude::*;

fn write_pipeline(dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(repo().join("pipelines/education_impact.yaml"))
        .expect("sample pipeline")
        .replace("../sample_data/", "data/")
        .replace("../out/education_impact", "out");
    let path = dir.join("pipeline.yaml");
    std::fs::write(&path, text).expect("write pipeline");
    path
}

#[test]
fn planted_effects_are_recovered() {
    let dir = tempfile::tempdir().unwrap();
    bin()
        .args([
            "-q",
            "generate",
            "--accounts",
            "6000",
            "--seed",
            "7",
            "--out",
        ])
        .arg(dir.path().join("data"))
        .assert()
        .success();
    let pipeline = write_pipeline(dir.path());
    bin()
        .args(["-q", "run"])
        .arg(&pipeline)
        .assert()
        .success()
        .stdout("");
    let partition = dir.path().join("out/as_of=2026-11-01");
    assert!(partition.join("_SUCCESS").exists());
    let metrics = read_table(&partition, "metrics");
    let lift = read_table(&partition, "lift");

    // Trained churn is lower, significantly.
    assert!(
        overall(&metrics, "churn_rate", "trained", "value")
            < overall(&metrics, "churn_rate", "untrained", "value")
    );
    assert!(lift_value(&lift, "churn_rate", "p_value") < 0.05);
    assert!(lift_value(&lift, "logo_retention", "abs_diff") > 0.0);
    // Net revenue retention and upsell are higher.
    assert!(
        overall(&metrics, "net_revenue_retention", "trained", "value")
            > overall(&metrics, "net_revenue_retention", "untrained", "value")
    );
    assert!(lift_value(&lift, "upsell_rate", "abs_diff") > 0.0);
    assert!(lift_value(&lift, "upsell_rate", "p_value") < 0.05);
    // NPS and CSAT are higher.
    assert!(lift_value(&lift, "nps", "abs_diff") > 0.0);
    assert!(lift_value(&lift, "nps", "p_value") < 0.05);
    assert!(lift_value(&lift, "csat", "abs_diff") > 0.0);
    assert!(lift_value(&lift, "csat", "p_value") < 0.05);
    // Catalog effects planted by the generator (GENERATOR.md): fewer tickets, more activity and key actions,
    // more returning accounts, faster first value, longer survival, better scores, more saves and referrals,
    // higher health.
    for (metric, dimension, trained_better) in [
        ("support_incident_rate", None, false),
        ("active_user_rate", Some("window=30d"), true),
        ("key_action_rate", None, true),
        ("return_rate", None, true),
        ("time_to_first_value", Some("reached_within"), true),
        ("survival", Some("days=365"), true),
        ("save_rate", None, true),
        ("referral_rate", None, true),
        ("health_score", Some("without_trained"), true),
    ] {
        let filter = overall_row(metric, dimension);
        let diff = floats(&lift, filter.clone(), "abs_diff");
        let p = floats(&lift, filter, "p_value");
        assert!(!diff.is_empty(), "{metric}: no lift row");
        let (diff, p) = (diff[0].unwrap(), p[0].unwrap());
        assert_eq!(
            diff > 0.0,
            trained_better,
            "{metric} {dimension:?}: trained − untrained = {diff}"
        );
        assert!(p < 0.05, "{metric} {dimension:?}: p = {p}");
    }
    // Descriptive rows keep the difference and carry no test: the trained score higher in the
    // quizzes, and so does the configured health score (which includes `trained`).
    for (metric, dimension) in [
        ("knowledge_retention", Some("mean_score")),
        ("health_score", None),
    ] {
        let filter = overall_row(metric, dimension);
        assert!(
            floats(&lift, filter.clone(), "abs_diff")[0].unwrap() > 0.0,
            "{metric}"
        );
        for column in ["p_value", "q_value", "diff_ci_low", "mde"] {
            assert_eq!(
                floats(&lift, filter.clone(), column),
                [None],
                "{metric} {column}"
            );
        }
    }
    // Median days to first value: trained faster.
    let median = |cohort: &str| {
        let filter = col("metric")
            .eq(lit("time_to_first_value"))
            .and(col("cohort").eq(lit(cohort)))
            .and(col("segment").is_null())
            .and(col("dimension").eq(lit("median_days")));
        floats(&metrics, filter, "value")[0].unwrap()
    };
    assert!(median("trained") < median("untrained"));
    // The association of training and the key action is positive.
    let phi = floats(
        &metrics,
        col("metric")
            .eq(lit("key_action_correlation"))
            .and(col("segment").is_null())
            .and(col("dimension").eq(lit("phi"))),
        "value",
    );
    assert!(phi[0].unwrap() > 0.0);

    // Every comparison carries its uncertainty (docs/STATISTICS.md): ratios of sums and CLV have a
    // p-value and an interval of the difference around abs_diff; q ≥ p on every row.
    for metric in [
        "net_revenue_retention",
        "gross_revenue_retention",
        "expansion_revenue_rate",
        "customer_lifetime_value",
        "nps",
        "churn_rate",
    ] {
        let p = lift_value(&lift, metric, "p_value");
        let (low, diff, high) = (
            lift_value(&lift, metric, "diff_ci_low"),
            lift_value(&lift, metric, "abs_diff"),
            lift_value(&lift, metric, "diff_ci_high"),
        );
        assert!((0.0..=1.0).contains(&p), "{metric}: p {p}");
        assert!(low < diff && diff < high, "{metric}: {low} {diff} {high}");
        // The interval excludes 0 exactly when the Wald p-value is below 0.05 (both come
        // from the same variances; proportions use the pooled test, so skip churn).
        if metric != "churn_rate" {
            assert_eq!(low > 0.0 || high < 0.0, p < 0.05, "{metric}");
        }
        assert!(lift_value(&lift, metric, "q_value") >= p, "{metric}");
    }
    // NPS responses are nested in accounts: fewer clusters than responses.
    let nps = lift_value(&lift, "nps", "n_trained");
    let clusters = floats(
        &metrics,
        col("metric")
            .eq(lit("nps"))
            .and(col("cohort").eq(lit("trained")))
            .and(col("segment").is_null()),
        "clusters",
    )[0]
    .unwrap();
    assert!(clusters < nps, "{clusters} accounts, {nps} responses");

    // Revenue movements reconcile: Σ MRR(Mk) − Σ MRR(M0) = Σ(new + reactivation + expansion − contraction − churn).
    let movements = read_table(&partition, "revenue_movements");
    let net = movements
        .lazy()
        .filter(col("cohort").eq(lit("all")).and(col("segment").is_null()))
        .select([when(
            col("movement")
                .eq(lit("contraction"))
                .or(col("movement").eq(lit("churn"))),
        )
        .then(-col("mrr"))
        .otherwise(col("mrr"))
        .sum()
        .alias("net")])
        .collect()
        .unwrap();
    let net = net.column("net").unwrap().f64().unwrap().get(0).unwrap();
    let revenue_file = std::fs::File::open(dir.path().join("data/revenue.parquet")).unwrap();
    let revenue = ParquetReader::new(revenue_file).finish().unwrap();
    let month_total = |first_day: &str| -> f64 {
        let day = chrono::NaiveDate::parse_from_str(first_day, "%Y-%m-%d").unwrap();
        let df = revenue
            .clone()
            .lazy()
            .filter(
                col("month")
                    .dt()
                    .month_start()
                    .eq(cohort_metrics::time::date_lit(day)),
            )
            .select([col("mrr").sum()])
            .collect()
            .unwrap();
        df.column("mrr")
            .unwrap()
            .f64()
            .unwrap()
            .get(0)
            .unwrap_or(0.0)
    };
    // Period [2025-11-01, 2026-11-01): M0 = Oct 2025, Mk = Oct 2026.
    let expected = month_total("2026-10-01") - month_total("2025-10-01");
    assert!(
        (net - expected).abs() < 0.01,
        "movements {net} vs MRR change {expected}"
    );
}

/// `sample_data/` is what `generate` writes with its documented options
/// (GENERATOR.md): the truth recorded beside it (`truth.csv`) belongs to
/// exactly these tables. (The sample keeps its events in one file.)
#[test]
fn the_sample_data_is_what_generate_writes() {
    let dir = tempfile::tempdir().unwrap();
    bin()
        .args(["-q", "generate", "--accounts", "2000", "--seed", "42"])
        .args(["--end", "2026-11-01", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let sample = repo().join("sample_data");
    for csv in [
        "accounts.csv",
        "users.csv",
        "nps_responses.csv",
        "csat_responses.csv",
        "truth.csv",
    ] {
        let read = |d: &std::path::Path| std::fs::read_to_string(d.join(csv)).unwrap();
        assert!(read(&sample) == read(dir.path()), "{csv} differs");
    }
    for table in [
        "training",
        "revenue",
        "tickets",
        "cancellations",
        "touchpoints",
        "referrals",
    ] {
        let (a, b) = (read_table(&sample, table), read_table(dir.path(), table));
        assert!(a.height() > 0 && a.equals_missing(&b), "{table} differs");
    }
}

/// The lift row of `metric` without a segment, with `dimension` (or none).
fn overall_row(metric: &str, dimension: Option<&str>) -> Expr {
    let dim = match dimension {
        Some(d) => col("dimension").eq(lit(d)),
        None => col("dimension").is_null(),
    };
    col("metric")
        .eq(lit(metric))
        .and(col("segment").is_null())
        .and(dim)
}
