//! `report.html`: written by every run into its partition, listed and
//! checksummed in the manifest, rendered again with the same bytes by
//! `cohort-metrics report`, self-contained, and holding the sample's
//! numbers.

mod common;

use common::*;
use polars::prelude::*;
use predicates::prelude::*;

fn sample_partition(dir: &std::path::Path) -> std::path::PathBuf {
    sample_run_as_of(dir, "2026-11-01")
}

#[test]
fn a_run_writes_the_report_and_report_renders_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let partition = sample_partition(dir.path());
    let page = std::fs::read_to_string(partition.join("report.html")).unwrap();

    // In the manifest with its checksum, and `verify` checks it.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(partition.join("_manifest.json")).unwrap())
            .unwrap();
    let entry = manifest["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["file"] == "report.html")
        .expect("report.html in the manifest")
        .clone();
    assert_eq!(entry["bytes"], page.len() as u64);
    bin().arg("verify").arg(&partition).assert().success();

    // The same bytes again from the published partition.
    let out = dir.path().join("again.html");
    bin()
        .args(["-q", "report"])
        .arg(&partition)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(&out).unwrap() == page,
        "not the same bytes"
    );

    // Self-contained: nothing from the network, no script needed.
    for outside in [
        "http://", "https://", "src=", "<link", "<script", "@import", "url(",
    ] {
        assert!(
            !page.contains(outside),
            "the page refers outside: {outside}"
        );
    }
    assert!(page.len() < 1_000_000, "{} bytes", page.len());
    assert!(page.contains(&format!(
        "data-run-id=\"{}\"",
        manifest["run_id"].as_str().unwrap()
    )));

    // The headline: churn, NRR, days retained, NPS, tickets, CSAT, with both cohorts' n.
    for metric in [
        "churn_rate",
        "net_revenue_retention",
        "survival",
        "nps",
        "support_incident_rate",
        "csat",
    ] {
        assert!(
            page.contains(&format!("data-metric=\"{metric}\"")),
            "{metric}"
        );
    }
    // Churn 11.0 % (263 trained) vs 26.0 % (434 untrained), −15.0 points.
    assert!(page.contains("11.0 %") && page.contains("26.0 %") && page.contains("−15.0 pts"));
    assert!(page.contains("n = 263") && page.contains("n = 434"));
    // Days retained out of the first 365: 340.6 vs 309.4, +31.2 days.
    assert!(page.contains("340.6 days") && page.contains("+31.2 days"));
    assert!(page.contains("Churn rate was 15.0 pts lower for trained accounts (95 % CI −20.6 to −9.4 pts); an association"));
    assert!(
        page.contains("Trained accounts stayed 31.2 more days out of the first 365"),
        "the RMST sentence"
    );
    // The caveat: without `adjust`, nothing is adjusted.
    assert!(
        page.contains("associations, not proof") && page.contains("has no <code>adjust</code>")
    );

    // Kaplan–Meier: an accessible SVG with one series per cohort; at risk at day 0
    // = the cohorts' accounts (552 trained, 1,099 untrained).
    assert!(page.contains(r#"role="img" aria-labelledby="km-title km-desc""#));
    assert_eq!(page.matches("data-series=\"trained\"").count(), 1);
    assert_eq!(page.matches("data-series=\"untrained\"").count(), 1);
    assert!(page.contains("<td>0</td><td>100.0 %</td>"));
    assert!(page.contains("<td>552</td>") && page.contains("<td>1,099</td>"));
    // The forest plot: a row per lift row (260 on the sample), each with its
    // interval, but the descriptive metrics' rows: the programme shows their
    // overall rows instead.
    let lift = read_table(&partition, "lift");
    let rows = ["better", "worse", "unclear", "thin"]
        .iter()
        .map(|c| page.matches(&format!("<tr class=\"{c}\">")).count())
        .sum::<usize>();
    let descriptive = lift
        .clone()
        .lazy()
        .filter(
            col("metric").is_in(
                lit(Series::new(
                    "m".into(),
                    [
                        "training_completion_rate",
                        "knowledge_retention",
                        "education_engagement",
                        "key_action_correlation",
                    ],
                ))
                .implode(false),
                false,
            ),
        )
        .collect()
        .unwrap()
        .height();
    assert_eq!(rows + descriptive, lift.height());
    assert!(page.contains("−15.0 pts <span class=\"small\">(−20.6 to −9.4 pts)</span>"));
    assert!(
        page.contains("all accounts · 2025-12"),
        "monthly rows name their month"
    );
    // The retention heatmaps: one cell per observable (signup month, month since signup)
    // of each cohort's `retention_curve` rows (segment null, all signups pooled too).
    let curve = read_table(&partition, "retention_curve");
    for cohort in ["trained", "untrained"] {
        let observable = curve
            .clone()
            .lazy()
            .filter(
                col("cohort")
                    .eq(lit(cohort))
                    .and(col("segment").is_null())
                    .and(col("rate").is_not_null()),
            )
            .collect()
            .unwrap()
            .height();
        let start = page
            .find(&format!(
                "<table class=\"heatmap\" data-cohort=\"{cohort}\">"
            ))
            .unwrap();
        let table = &page[start..start + page[start..].find("</table>").unwrap()];
        let cells = table.matches("<td class=\"cell\"").count()
            + table.matches("<td class=\"cell few\"").count();
        assert_eq!(cells, observable, "{cohort}");
        assert!(
            table.contains("<td class=\"blank\"></td>"),
            "unobservable months are blank"
        );
    }
    // Account health: the distribution per cohort, with each cohort's mean score.
    assert!(page.contains(r#"aria-labelledby="health-title health-desc""#));
    let health = read_table(&partition, "account_health");
    let mean = |cohort: &str| {
        let rows = health
            .clone()
            .lazy()
            .filter(col("cohort").eq(lit(cohort)))
            .select([col("health_score").mean()])
            .collect()
            .unwrap();
        rows.column("health_score")
            .unwrap()
            .f64()
            .unwrap()
            .get(0)
            .unwrap()
    };
    let means = format!(
        "<th>Mean</th><td colspan=\"2\">{:.2}</td><td colspan=\"2\">{:.2}</td>",
        mean("trained"),
        mean("untrained")
    );
    assert!(page.contains(&means), "{means}");
    // Definitions from the registry that `cohort-metrics metrics` prints.
    assert!(page.contains("<dt><code>churn_rate</code></dt>"));
    // Every svg is an image with a title.
    assert_eq!(
        page.matches("<svg").count(),
        page.matches("<svg role=\"img\"").count()
    );
}

#[test]
fn the_report_command_refuses_what_it_must_not_do() {
    let dir = tempfile::tempdir().unwrap();
    let partition = sample_partition(dir.path());
    // Never into the partition.
    bin()
        .arg("report")
        .arg(&partition)
        .arg("--out")
        .arg(partition.join("again.html"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("inside the partition"));
    assert!(!partition.join("again.html").exists());
    // Not from a partition without `_SUCCESS`.
    std::fs::remove_file(partition.join("_SUCCESS")).unwrap();
    bin()
        .arg("report")
        .arg(&partition)
        .arg("--out")
        .arg(dir.path().join("x.html"))
        .assert()
        .code(4)
        .stderr(predicate::str::contains("has no `_SUCCESS`"));
}

#[test]
fn a_changed_report_is_not_intact_and_the_report_can_be_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let partition = sample_partition(dir.path());
    let page = partition.join("report.html");
    let text = std::fs::read_to_string(&page).unwrap();
    std::fs::write(
        &page,
        text.replace("Does training pay off?", "Training pays off!"),
    )
    .unwrap();
    bin()
        .arg("verify")
        .arg(&partition)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("report.html"));

    let data = repo().join("sample_data");
    let pipeline = std::fs::read_to_string(repo().join("pipelines/education_impact.yaml"))
        .unwrap()
        .replace("../sample_data", data.to_str().unwrap())
        .replace(
            "output:   { path: ../out/education_impact }",
            "output:   { path: off, report: false }",
        );
    let path = dir.path().join("off.yaml");
    std::fs::write(&path, pipeline).unwrap();
    bin().args(["-q", "run"]).arg(&path).assert().success();
    let off = dir.path().join("off/as_of=2026-11-01");
    assert!(off.join("_SUCCESS").exists() && !off.join("report.html").exists());
}
