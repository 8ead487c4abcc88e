//! The report's page as a browser and a reader see it: its structure
//! parsed with an HTML parser (views in order, one curve per cohort, the
//! heatmap, MRR and segment cells against the tables, no external URL,
//! size), the adjusted run's views, and the sample report rendered by a
//! real headless Chromium with the network blocked.

mod common;

use common::*;
use polars::prelude::*;
use scraper::{Html, Selector};

fn select<'a>(page: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    let selector = Selector::parse(css).unwrap_or_else(|e| panic!("{css}: {e:?}"));
    page.select(&selector).collect()
}

/// Rows of `df` matching `filter`.
fn count(df: &DataFrame, filter: Expr) -> usize {
    df.clone().lazy().filter(filter).collect().unwrap().height()
}

/// The views in their order: the bottom line first, then the headline
/// tiles, the charts, then the reading aids.
const VIEWS: [&str; 12] = [
    "bottom-line",
    "headline",
    "trend",
    "forest",
    "programme",
    "survival",
    "retention",
    "movements",
    "segments",
    "health",
    "glossary",
    "definitions",
];

#[test]
fn the_sample_page_has_every_view_drawn_from_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let partition = sample_run_as_of(dir.path(), "2026-11-01");
    let text = std::fs::read_to_string(partition.join("report.html")).unwrap();
    let page = Html::parse_document(&text);
    assert!(
        page.errors.is_empty(),
        "HTML parse errors: {:?}",
        page.errors
    );

    // The views, in order.
    let sections: Vec<&str> = select(&page, "body > section")
        .iter()
        .filter_map(|s| s.value().attr("id"))
        .collect();
    assert_eq!(sections, VIEWS);

    // Nothing from anywhere else: no script, stylesheet link, image or frame, and
    // no attribute that points at a URL.
    for tag in ["script", "link", "img", "iframe", "object", "embed", "use"] {
        assert!(select(&page, tag).is_empty(), "<{tag}>");
    }
    for element in select(&page, "*") {
        for (name, value) in element.value().attrs() {
            assert!(
                !matches!(name, "src" | "href" | "xlink:href" | "action" | "srcset")
                    && !value.contains("://"),
                "<{} {name}={value:?}>",
                element.value().name()
            );
        }
    }
    assert!(!text.contains("url(") && !text.contains("@import"));
    // Size budget: the page opens instantly and mails as an attachment.
    assert!(text.len() < 600_000, "{} bytes", text.len());

    // Every chart is an image with a title; the large ones with a description.
    let svgs = select(&page, "svg");
    assert!(svgs.len() > 100, "{}", svgs.len());
    for svg in &svgs {
        assert_eq!(svg.value().attr("role"), Some("img"));
        assert!(
            svg.children()
                .filter_map(scraper::ElementRef::wrap)
                .any(|c| c.value().name() == "title"),
            "an svg without a title"
        );
        if let Some(ids) = svg.value().attr("aria-labelledby") {
            for id in ids.split(' ') {
                assert_eq!(select(&page, &format!("#{id}")).len(), 1, "{id}");
            }
        }
    }

    // Kaplan–Meier: one series per cohort.
    let series: Vec<&str> = select(&page, "#survival svg g[data-series]")
        .iter()
        .filter_map(|g| g.value().attr("data-series"))
        .collect();
    assert_eq!(series, ["trained", "untrained"]);

    // Retention heatmap: one filled cell per observable (signup month, k) pair.
    let curve = read_table(&partition, "retention_curve");
    for cohort in ["trained", "untrained"] {
        let observable = count(
            &curve,
            col("cohort")
                .eq(lit(cohort))
                .and(col("segment").is_null())
                .and(col("rate").is_not_null()),
        );
        let cells = select(
            &page,
            &format!("table.heatmap[data-cohort={cohort}] td.cell"),
        );
        assert_eq!(cells.len(), observable, "{cohort}");
    }

    // MRR movements: a panel per cohort, one bar per (month, movement) with MRR,
    // one net point per month, and a table row per month.
    let movements = read_table(&partition, "revenue_movements");
    let mut months = 0;
    for cohort in ["trained", "untrained"] {
        let filter = col("cohort").eq(lit(cohort)).and(col("segment").is_null());
        let bars = count(&movements, filter.clone().and(col("mrr").gt(lit(0.0))));
        let panel = format!("#movements svg[data-cohort={cohort}]");
        assert_eq!(
            select(&page, &format!("{panel} rect")).len(),
            bars,
            "{cohort}"
        );
        let cohort_months = movements
            .clone()
            .lazy()
            .filter(filter)
            .select([col("month").n_unique()])
            .collect()
            .unwrap()
            .column("month")
            .unwrap()
            .get(0)
            .unwrap()
            .try_extract::<u32>()
            .unwrap() as usize;
        assert_eq!(
            select(&page, &format!("{panel} circle.net")).len(),
            cohort_months
        );
        months = months.max(cohort_months);
    }
    assert!(months >= 12, "{months}");
    assert_eq!(
        select(&page, "#movements table.movements tbody tr").len(),
        months
    );

    // Segment dot plot: a dot per (metric, segment or all, cohort) of `metrics` over
    // the whole period (not a per-month row) with at least 30 accounts, for metrics
    // with segment rows.
    let metrics = read_table(&partition, "metrics");
    let whole = col("dimension")
        .is_null()
        .and(
            col("cohort")
                .eq(lit("trained"))
                .or(col("cohort").eq(lit("untrained"))),
        )
        .and(col("period_start").eq(lit(chrono::NaiveDate::from_ymd_opt(2025, 11, 1).unwrap())))
        .and(col("period_end").eq(lit(chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap())));
    let segmented = metrics
        .clone()
        .lazy()
        .filter(whole.clone().and(col("segment").is_not_null()))
        .select([col("metric").unique().sort(Default::default())])
        .collect()
        .unwrap();
    let segmented: Vec<String> = segmented
        .column("metric")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .map(str::to_string)
        .collect();
    assert!(segmented.len() >= 10, "{segmented:?}");
    let dots: usize = segmented
        .iter()
        .map(|metric| {
            count(
                &metrics,
                whole
                    .clone()
                    .and(col("metric").eq(lit(metric.as_str())))
                    .and(col("n").gt_eq(lit(30)))
                    .and(col("value").is_not_null()),
            )
        })
        .sum();
    let drawn = select(&page, "#segments circle.dot-trained").len()
        + select(&page, "#segments rect.dot-untrained").len();
    assert_eq!(drawn, dots);
    assert_eq!(
        select(&page, "#segments svg[data-metric]").len(),
        segmented.len()
    );

    // The cohorts at the as-of date shown as such: the accounts in neither cohort split
    // into those that left before their landmark (landmark ≤ as_of) and those not at it yet.
    let cohorts = read_table(&partition, "account_cohorts");
    let as_of = lit(chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
    let (trained, untrained) = (
        count(&cohorts, col("cohort").eq(lit("trained"))),
        count(&cohorts, col("cohort").eq(lit("untrained"))),
    );
    let unassigned = col("cohort").eq(lit("unassigned"));
    let lost = count(
        &cohorts,
        unassigned
            .clone()
            .and(col("landmark_date").lt_eq(as_of.clone())),
    );
    let waiting = count(&cohorts, unassigned.and(col("landmark_date").gt(as_of)));
    assert_eq!((trained, untrained), (552, 1_099));
    assert_eq!(lost + waiting, 349);
    assert!(lost > 0 && waiting > 0, "{lost} {waiting}");
    let facts: String = select(&page, "#cohort-counts")[0].text().collect();
    assert!(
        facts.contains(&format!("{lost} that left before their landmark"))
            && facts.contains(&format!("{waiting} not at their landmark yet"))
            && facts.contains("552 trained")
            && facts.contains("1,099 untrained"),
        "{facts}"
    );

    // The headline tiers: the primary outcomes, then the guardrails apart (NPS, tickets and CSAT;
    // the sample's headline has no secondary metric).
    let tiers: Vec<String> = select(&page, "#headline h3.tier")
        .iter()
        .map(|h| h.text().collect())
        .collect();
    assert_eq!(tiers.len(), 2, "{tiers:?}");
    assert!(
        tiers[0].starts_with("Primary") && tiers[1].starts_with("Guardrails"),
        "{tiers:?}"
    );
    // Every chart names itself and says its numbers (title and desc).
    let charts = select(&page, "svg");
    assert!(charts.len() > 100);
    for chart in &charts {
        for part in ["title", "desc"] {
            assert!(
                chart
                    .select(&Selector::parse(part).unwrap())
                    .next()
                    .is_some(),
                "an svg without {part}: {}",
                chart.html().chars().take(300).collect::<String>()
            );
        }
    }
    // The programme: training completion with its counts, no verdict, and
    // not among the comparisons.
    let programme: String = select(&page, "#programme tr[data-metric=training_completion_rate]")[0]
        .text()
        .collect();
    assert!(
        programme.contains("47.8 %") && programme.contains("68.3 %"),
        "{programme}"
    );
    assert!(select(
        &page,
        "#forest div.metric-block[data-metric=training_completion_rate]"
    )
    .is_empty());

    // The bottom line, above the tiles: churn (primary) with the money of
    // its naive `impact` row, the numbers the table holds.
    let impact = read_table(&partition, "impact");
    let churn = col("metric")
        .eq(lit("churn_rate"))
        .and(col("estimate").eq(lit("naive")))
        .and(col("quantity").eq(lit("revenue_kept_per_year")));
    let money = |column: &str| {
        let v = floats(&impact, churn.clone(), column)[0].unwrap().round() as i64;
        cohort_metrics::report::format::count(v)
    };
    let line: String = select(&page, "#bottom-line p[data-metric=churn_rate]")[0]
        .text()
        .collect();
    let expected = format!(
        "; about {} of MRR kept a year (95 % CI {} to {}).",
        money("value"),
        money("ci_low"),
        money("ci_high")
    );
    assert!(
        line.starts_with("Churn rate was 15.0 pts lower for trained accounts")
            && line.ends_with(&expected),
        "{line} does not end with {expected}"
    );
    assert!(text.find("id=\"bottom-line\"") < text.find("id=\"headline\""));

    // No adjustment in the sample: no balance view, no adjusted columns.
    assert!(select(&page, "#balance").is_empty());
    assert!(!text.contains("Adjusted (95 % CI)"));
}

#[test]
fn an_adjusted_run_shows_naive_and_adjusted_side_by_side_with_the_balance() {
    let dir = tempfile::tempdir().unwrap();
    let partition = adjusted_sample_run(dir.path());
    let text = std::fs::read_to_string(partition.join("report.html")).unwrap();
    let page = Html::parse_document(&text);

    // The forest: the adjusted difference and the units used beside the naive one.
    assert!(select(&page, "#forest th")
        .iter()
        .any(|th| th.text().collect::<String>() == "Adjusted (95 % CI)"));
    // Churn: naive −15.0 pts, standardized to the trained plan mix −11.3 pts, 263 trained used.
    let churn = select(&page, "#forest tr.better")
        .into_iter()
        .find(|tr| tr.text().collect::<String>().contains("−15.0 pts"))
        .expect("the churn row");
    let churn: String = churn.text().collect();
    assert!(
        churn.contains("−11.3 pts") && churn.contains("263 / "),
        "{churn}"
    );
    // The tile leads with the adjusted estimate of `lift` (its big number,
    // interval and q), the naive one second, "before adjustment".
    let lift = read_table(&partition, "lift");
    let overall = col("metric")
        .eq(lit("churn_rate"))
        .and(col("segment").is_null())
        .and(col("dimension").is_null());
    let adjusted = floats(&lift, overall.clone(), "adjusted_abs_diff")[0].unwrap();
    let naive = floats(&lift, overall, "abs_diff")[0].unwrap();
    let tile = select(&page, "div.tile[data-metric=churn_rate]")[0];
    assert_eq!(tile.value().attr("data-lead"), Some("adjusted"));
    let big: String = tile
        .select(&Selector::parse("div.diff").unwrap())
        .next()
        .unwrap()
        .text()
        .collect();
    let shown = format!("{:.1} pts", 100.0 * adjusted).replace('-', "−");
    assert!(big.starts_with(&shown), "{big} leads, not {shown}");
    let tile: String = tile.text().collect();
    let before = format!("Before adjustment: {:.1} pts", 100.0 * naive).replace('-', "−");
    assert!(tile.contains(&before), "{tile}");
    assert!(
        tile.contains("Churn rate was 11.3 pts lower for trained accounts after adjustment (stratify, 95 % CI"),
        "{tile}"
    );
    assert!(tile.contains("▼ lower, better"), "{tile}");
    assert!(tile.contains("E-value "), "{tile}");
    // The forest's row leads with the same estimate, and its verdict follows
    // the adjusted q: customer base coverage is +10.2 pts before adjustment
    // (q < 0.05) and +0.8 pts after, its interval across 0.
    let coverage = select(
        &page,
        "#forest div.metric-block[data-metric=customer_base_coverage] tbody tr",
    )[0];
    let verdict: String = coverage
        .select(&Selector::parse("td.verdict").unwrap())
        .next()
        .unwrap()
        .text()
        .collect();
    let cells: Vec<String> = coverage
        .select(&Selector::parse("td.diff").unwrap())
        .map(|td| td.text().collect())
        .collect();
    assert_eq!(verdict, "● unclear", "{cells:?}");
    assert!(cells[2].starts_with("+0.8 pts"), "{cells:?}");
    assert!(cells[3].starts_with("+10.2 pts"), "{cells:?}");

    // Balance: the largest standardized difference before and after, and a Love plot
    // with a hollow and a filled point per covariate level of `balance`.
    let balance = read_table(&partition, "balance");
    let levels = count(&balance, col("smd").is_not_null());
    assert!(levels >= 3);
    assert_eq!(select(&page, "#balance svg circle.before").len(), levels);
    assert_eq!(
        select(&page, "#balance svg circle.after").len(),
        count(&balance, col("smd_adjusted").is_not_null())
    );
    let line: String = select(&page, "#balance p")[0].text().collect();
    assert!(
        line.contains("before adjustment") && line.contains(" after"),
        "{line}"
    );
    assert!(text.contains("<dt>E-value</dt>"));
}

#[test]
fn chromium_renders_the_sample_report_offline() {
    let Some(browser) = browser::chromium_or_skip("browser") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let partition = sample_run_as_of(dir.path(), "2026-11-01");
    let page = partition.join("report.html");
    let source = Html::parse_document(&std::fs::read_to_string(&page).unwrap());
    let profile = dir.path().join("profile");

    // The DOM after rendering: every view and every chart still there.
    let dom = Html::parse_document(&browser::headless(
        &browser,
        &profile,
        &["--dump-dom"],
        &page,
    ));
    let ids = |page: &Html| -> Vec<String> {
        select(page, "body > section")
            .iter()
            .filter_map(|s| s.value().attr("id").map(str::to_string))
            .collect()
    };
    assert_eq!(ids(&dom), VIEWS);
    assert_eq!(select(&dom, "svg").len(), select(&source, "svg").len());
    assert_eq!(select(&dom, "#survival svg g[data-series]").len(), 2);
    let title: String = select(&dom, "h1")[0].text().collect();
    assert_eq!(title, "Does training pay off?");

    // A screenshot of the top of the page (1400 × 2000), kept for a person to
    // look at: target/tmp/report-sample.png.
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-sample.png");
    let _ = std::fs::remove_file(&shot);
    browser::headless(
        &browser,
        &profile,
        &[
            "--window-size=1400,2000",
            &format!("--screenshot={}", shot.display()),
        ],
        &page,
    );
    let png = std::fs::read(&shot).expect("the screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // Width and height from the IHDR chunk.
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    assert_eq!((be(&png[16..20]), be(&png[20..24])), (1400, 2000));
    // A rendered page, not a blank one: far more than a white PNG's few kB.
    assert!(png.len() > 100_000, "{} bytes", png.len());
    eprintln!("the sample report's screenshot: {}", shot.display());
}

/// A page that loads `report` in a frame `width` px wide (headless Chromium
/// does not make its window narrower than about 500 px) and writes, once it
/// is laid out, the frame's document scroll width, its client width, and
/// the elements whose right edge passes the viewport: `outside` when no
/// ancestor scrolls sideways (the document itself would), `inside` when one
/// does (a table scrolling within its own box).
fn width_probe(report: &std::path::Path, width: u32) -> String {
    format!(
        r#"<!doctype html><html><body style="margin:0">
<iframe id="f" src="file://{}" style="width:{width}px;height:900px;border:0"></iframe>
<script>
document.getElementById("f").onload = function() {{
  var doc = this.contentDocument, d = doc.documentElement, outside = [], inside = [];
  doc.querySelectorAll("body *").forEach(function(e) {{
    if (e.getBoundingClientRect().right <= d.clientWidth + 1) return;
    var scrolls = false;
    for (var p = e.parentElement; p; p = p.parentElement) {{
      var o = doc.defaultView.getComputedStyle(p).overflowX;
      if (o == "auto" || o == "scroll") scrolls = true;
    }}
    var name = (e.closest("section") || {{ id: "-" }}).id + " " + e.tagName.toLowerCase();
    (scrolls ? inside : outside).push(name);
  }});
  var out = document.createElement("pre");
  out.id = "out";
  out.textContent = JSON.stringify({{ scroll: d.scrollWidth, client: d.clientWidth, outside: outside, inside: inside }});
  document.body.appendChild(out);
}};
</script></body></html>"#,
        report.display()
    )
}

#[test]
fn the_report_fits_a_laptop_a_printed_page_and_a_phone_without_scrolling_sideways() {
    let Some(browser) = browser::chromium_or_skip("width") else {
        return;
    };
    // The widest page: adjusted, with its two extra forest columns.
    let dir = tempfile::tempdir().unwrap();
    let report = adjusted_sample_run(dir.path()).join("report.html");
    let profile = dir.path().join("profile");
    // 1280: a laptop; 740: about a printed Letter page at 96 px per inch
    // (the print stylesheet uses the compact tables of widths up to 800;
    // tests/report_print.rs prints on Letter and A4 themselves); 390: a phone.
    for width in [1280, 740, 390] {
        let probe = dir.path().join(format!("probe-{width}.html"));
        std::fs::write(&probe, width_probe(&report, width)).unwrap();
        let dom = browser::headless(
            &browser,
            &profile,
            &[
                "--allow-file-access-from-files",
                "--window-size=1400,1000",
                "--virtual-time-budget=5000",
                "--dump-dom",
            ],
            &probe,
        );
        let page = Html::parse_document(&dom);
        let out: String = select(&page, "pre#out")
            .first()
            .unwrap_or_else(|| panic!("no measurement at {width} px"))
            .text()
            .collect();
        let seen: serde_json::Value = serde_json::from_str(&out).unwrap();
        let (scroll, client) = (
            seen["scroll"].as_u64().unwrap(),
            seen["client"].as_u64().unwrap(),
        );
        assert!(
            client + 20 >= u64::from(width) && client <= u64::from(width),
            "{out}"
        );
        // The document never scrolls sideways.
        assert!(scroll <= client, "{width} px: {out}");
        assert_eq!(
            seen["outside"].as_array().unwrap().len(),
            0,
            "{width} px: {out}"
        );
        if width >= 740 {
            // On a laptop and on paper nothing hides behind a table's own
            // scroll bar either (paper has none: it would be cut).
            assert_eq!(seen["inside"].as_array().unwrap().len(), 0, "{out}");
        }
    }
}

#[test]
fn the_trend_draws_each_earlier_night_and_the_tiles_say_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let first = sample_run_as_of(dir.path(), "2026-09-01");
    let text = std::fs::read_to_string(first.join("report.html")).unwrap();
    assert!(text.contains("the first published night of this output"));
    assert!(!text.contains("Since the previous night"));

    // An unpublished partition (no _SUCCESS) is not a night.
    let stray = dir.path().join("as_of=2026-08-01");
    std::fs::create_dir(&stray).unwrap();
    std::fs::write(stray.join("lift.parquet"), "not a table").unwrap();

    let middle = sample_run_as_of(dir.path(), "2026-10-01");
    let last = sample_run_as_of(dir.path(), "2026-11-01");
    let text = std::fs::read_to_string(last.join("report.html")).unwrap();
    let page = Html::parse_document(&text);
    // One chart per primary and guardrail headline row, each with a point
    // for 2026-09-01, 2026-10-01 and this night.
    let charts = select(&page, "#trend figure svg");
    assert_eq!(charts.len(), 6, "{text}");
    for chart in &charts {
        assert_eq!(chart.value().attr("data-points"), Some("3"));
        let nights: Vec<&str> = chart
            .select(&Selector::parse("g.night").unwrap())
            .filter_map(|g| g.value().attr("data-as-of"))
            .collect();
        assert_eq!(nights, ["2026-09-01", "2026-10-01", "2026-11-01"]);
    }
    // The churn tile: the change of the difference since 2026-10-01, from
    // the two lift tables.
    let churn = |partition: &std::path::Path| {
        let lift = read_table(partition, "lift");
        let overall = col("metric")
            .eq(lit("churn_rate"))
            .and(col("segment").is_null())
            .and(col("dimension").is_null())
            .and(col("period_end").eq(col("as_of")));
        floats(&lift, overall, "abs_diff")[0].unwrap()
    };
    let change = format!("{:+.1} pts", 100.0 * (churn(&last) - churn(&middle))).replace('-', "−");
    let tile: String = select(&page, "div.tile[data-metric=churn_rate]")[0]
        .text()
        .collect();
    assert!(
        tile.contains(&format!(
            "Since the previous night: {change} since 2026-10-01"
        )),
        "{change}: {tile}"
    );
    // `report` draws the same trend from the partitions beside it.
    let again = dir.path().join("again.html");
    bin()
        .arg("report")
        .arg(&last)
        .arg("--out")
        .arg(&again)
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&again).unwrap(), text);
}
