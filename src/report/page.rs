//! The page: one self-contained HTML document (no script, font or image
//! from anywhere else), from a compile-time checked template (maud), built
//! from one function per section.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::charts;
use super::data::ReportData;
use super::forest::{forest, segment_metrics};
use super::format;
use super::headline::{alpha, definition_of, headline, name_of, tier_of, tile};
use super::style::CSS;
use crate::metrics::presentation::Tier;
use crate::stats::LiftRow;

/// The whole page.
pub fn page(data: &ReportData) -> Markup {
    let alpha = alpha(data);
    let headline = headline(data);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Does training pay off? " (data.pipeline_name) ", as of " (data.as_of) }
                style { (PreEscaped(CSS)) }
            }
            body data-run-id=(data.run_id) {
                (header(data))
                (caveat(data))
                (super::bottom_line::section(data, alpha))
                (headline_section(data, &headline, alpha))
                (super::trend::section(data))
                (forest_section(data, alpha))
                (super::programme::section(data))
                (charts(data))
                (segments(data))
                (health_and_balance(data))
                (glossary(data))
                (definitions(data))
                (footer(data, alpha))
            }
        }
    }
}

/// The page header: the pipeline, the period, the cohort rule and counts.
fn header(data: &ReportData) -> Markup {
    html! {
        header {
            h1 { "Does training pay off?" }
            p.facts {
                "Pipeline " strong { (data.pipeline_name) } " · period " (data.period.0) " to " (data.period.1) " (exclusive) · as of " (data.as_of)
            }
            @if let Some(d) = &data.definition {
                p.facts {
                    "Trained: completed "
                    @if d.min_courses == 1 { "a qualifying course" } @else { "at least " (d.min_courses) " qualifying courses" }
                    @if let Some(courses) = &d.courses { " (" (courses.join(", ")) ")" }
                    " within " (d.window_days) " days of signup (the landmark); untrained: a customer at its landmark without. Accounts are compared from their landmark on."
                }
            }
            @if let Some(c) = &data.cohort_counts {
                p.facts id="cohort-counts" {
                    "At the as-of date: " strong.swatch-trained { (format::count(c.trained)) " trained" } " and " strong.swatch-untrained { (format::count(c.untrained)) " untrained" } " accounts. In neither cohort: "
                    (format::count(c.lost_before_landmark)) " that left before their landmark (counted in neither, so staying long enough to train cannot make training look good) and "
                    (format::count(c.before_landmark)) " not at their landmark yet."
                }
            }
        }
    }
}

/// The caveat box: differences are associations unless adjusted, and what the adjustment can see.
fn caveat(data: &ReportData) -> Markup {
    html! {
        div.caveat role="note" {
            strong { "Read with care: " }
            "customers chose to train. The trained-vs-untrained differences below are associations, not proof that training caused them: accounts that train may differ in ways that also change the outcome. "
            @match &data.adjust {
                Some((method, covariates)) => {
                    "The adjusted estimates (" (method) " on " (covariates.join(", ")) ") compare like with like on those covariates only; nothing here can see causes outside the data."
                }
                None => {
                    "This run has no " code { "adjust" } " section, so nothing is adjusted for who chooses to train (see docs/STATISTICS.md, \"Reading the lift honestly\")."
                }
            }
        }
    }
}

/// The headline tiles in their tiers.
fn headline_section(data: &ReportData, headline: &[&LiftRow], alpha: f64) -> Markup {
    html! {
        section id="headline" {
            h2 { "Headline" }
            @if headline.is_empty() {
                p { "None of the headline metrics is configured in this run." }
            }
            @for tier in Tier::ALL {
                @let tiles: Vec<&&LiftRow> = headline.iter().filter(|l| tier_of(&l.metric) == tier).collect();
                @if !tiles.is_empty() {
                    h3.tier { (tier.heading()) }
                    div.tiles {
                        @for l in tiles { (tile(l, alpha, super::trend::since_previous(data, l))) }
                    }
                }
            }
            p.small { "Each tile leads with the adjusted estimate when the run adjusts (the naive difference follows, \"before adjustment\"), else with the naive difference. Verdict words follow that estimate's 95 % interval and q-value (Benjamini–Hochberg over every lift row of the run, alpha " (alpha) "); the arrow is the sign of the difference, the word the verdict, and colour is never the only cue." }
        }
    }
}

/// Every comparison (the forest plot).
fn forest_section(data: &ReportData, alpha: f64) -> Markup {
    html! {
        @if !data.lift.is_empty() {
            section id="forest" {
                h2 { "Every comparison" }
                p.small { "Each row: the difference trained − untrained with its 95 % interval, on the metric's own axis; the vertical line is no difference. Rows grouped by theme, then metric: its rows over all accounts and the whole period first; its segment and month rows (the exploratory family: many comparisons) fold below them. Grey rows: the interval includes no difference or q ≥ " (alpha) "." }
                @if let Some((method, covariates)) = &data.adjust {
                    p.small { "Adjusted columns: the " (method) " estimate of the effect on the trained (ATT), comparing them with untrained accounts of the same " (covariates.join(", ")) ", with the trained and untrained it used and the trained left out for lack of comparable untrained accounts. Where it is closer to zero than the naive difference, part of the naive difference came from who chose to train." }
                }
                div.scroll { (forest(data, alpha)) }
            }
        }
    }
}

/// The survival curves, the retention heatmaps and the MRR movements.
fn charts(data: &ReportData) -> Markup {
    html! {
        @if let (Some(t), Some(u)) = (data.curves.get("trained"), data.curves.get("untrained")) {
            section id="survival" {
                h2 { "Staying a customer after the landmark" }
                (charts::kaplan_meier(t, u))
            }
        }
        @if ["trained", "untrained"].iter().any(|c| data.retention.contains_key(*c)) {
            section id="retention" {
                h2 { "Retention by signup month" }
                p.small { "Each cell: the share of the accounts that signed up that month still customers k months later (hover for the counts); blank where k months have not passed yet; grey where fewer than " (super::heatmap::FEW) " accounts were at risk. Cohorts as at the as-of date. The first months read 100 % by construction: an account is in a cohort only if it was still a customer at its landmark" @if let Some(d) = &data.definition { " (" (d.window_days) " days after signup)" } ", so no account of either cohort can have left before it." }
                @for cohort in ["trained", "untrained"] {
                    @if let Some(cells) = data.retention.get(cohort) {
                        div.heatmap-wrap { (super::heatmap::heatmap(cohort, cells)) }
                    }
                }
            }
        }
        @if let (Some(t), Some(u)) = (data.movements.get("trained"), data.movements.get("untrained")) {
            section id="movements" {
                h2 { "MRR movements per month" }
                p.small { "Monthly recurring revenue won (new accounts, reactivations, expansions; above zero) and lost (contractions, churn; below zero) by the accounts of each cohort, with net new MRR as a line. Cohorts as at the period start." }
                (super::movements::movements(t, u))
            }
        }
    }
}

/// The segment panels and the values behind them.
fn segments(data: &ReportData) -> Markup {
    html! {
        @let by_segment = segment_metrics(data);
        @if !by_segment.is_empty() {
            section id="segments" {
                h2 { "Where training goes with the largest difference" }
                p.small { "Each metric's value for the trained (● solid line) and the untrained (□ dashed line) over all accounts and in each segment, with 95 % intervals; a cohort with fewer than " (charts::MIN_UNITS) " accounts in a segment is not drawn (grey label). Segments are exploratory: many comparisons, read the q-values in the table above." }
                div.dots {
                    @for metric in &by_segment {
                        div {
                            h3 { abbr title=(definition_of(metric)) { (name_of(metric)) } }
                            (super::segments::panel(metric, &name_of(metric), format::unit_of(metric, None), &data.values))
                        }
                    }
                }
                table {
                    caption.small { "The values behind the dots" }
                    thead { tr { th { "Metric" } th { "Segment" } th.swatch-trained { "Trained" } th { "95 % CI" } th { "n" } th.swatch-untrained { "Untrained" } th { "95 % CI" } th { "n" } } }
                    tbody {
                        @for metric in &by_segment {
                            @for (segment, t, u) in super::segments::rows_of(&data.values, metric) {
                                tr {
                                    td { (name_of(metric)) }
                                    td { (segment.unwrap_or("all accounts")) }
                                    (super::segments::cell(format::unit_of(metric, None), t))
                                    (super::segments::cell(format::unit_of(metric, None), u))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The health distribution and, with `adjust`, the covariate balance.
fn health_and_balance(data: &ReportData) -> Markup {
    html! {
        @if let (Some(t), Some(u)) = (data.health.get("trained"), data.health.get("untrained")) {
            section id="health" {
                h2 { "Account health" }
                p.small { "Health scores of the accounts that are customers at the as-of date (metric " code { "health_score" } "), by cohort." }
                (charts::health(t, u))
            }
        }
        @if data.adjust.is_some() && !data.balance.is_empty() {
            @let (before, after) = super::balance::largest(&data.balance);
            section id="balance" {
                h2 { "How alike the adjusted cohorts are" }
                p {
                    "Largest standardized difference between trained and untrained over the covariate levels: "
                    strong { (super::balance::smd(before)) } " before adjustment, "
                    strong { (super::balance::smd(after)) } " after"
                    @if after.is_some_and(|a| a < super::balance::BALANCED) { " (below " (super::balance::BALANCED) ": balanced on these covariates)." } @else { "." }
                }
                (super::balance::love_plot(&data.balance))
            }
        }
    }
}

/// How to read the numbers.
fn glossary(data: &ReportData) -> Markup {
    html! {
        section id="glossary" {
            h2 { "How to read the numbers" }
            dl.glossary {
                dt { "95 % interval (CI)" } dd { "The range of differences the data are compatible with. If it includes zero, the data cannot tell trained and untrained apart on that metric." }
                dt { "p-value" } dd { "How surprising a difference this large would be if training made no difference at all; small is surprising." }
                dt { "q-value" } dd { "The p-value corrected for showing many comparisons at once (Benjamini–Hochberg): of 20 results flagged with q below 0.05, about one may be a false alarm. The verdict words follow q." }
                dt { "Landmark" } dd { "The day each account's cohort is fixed: signup plus the training window. Accounts that churned before their landmark are in neither cohort, so an account cannot look trained merely because it stayed long enough to train." }
                dt { "Days retained (RMST)" } dd { "The average number of days, out of the first H after the landmark, that an account stayed a customer: the area under its survival curve." }
                @if data.adjust.is_some() {
                    dt { "Adjusted estimate (ATT)" } dd { "The trained accounts compared with untrained accounts that look like them on the adjustment's covariates: the effect on the trained, if those covariates were all that mattered." }
                    dt { "E-value" } dd { "How strongly a cause we did not measure would have to be linked to both training and the outcome (as a risk ratio) to explain the adjusted estimate away. Near 1: easily explained away; 2 or more: it would take a strong hidden cause." }
                    dt { "Standardized difference" } dd { "How far apart the trained and the untrained are on a covariate, in standard deviations; below " (super::balance::BALANCED) " counts as balanced." }
                }
            }
        }
    }
}

/// The definitions of the metrics on the page.
fn definitions(data: &ReportData) -> Markup {
    html! {
        section id="definitions" {
            h2 { "Definitions" }
            dl.definitions {
                @for (id, text) in crate::catalog::definitions() {
                    @if data.lift.iter().any(|l| l.metric == id) {
                        dt { code { (id) } }
                        dd { (text) }
                    }
                }
            }
        }
    }
}

/// The run, the inputs read.
fn footer(data: &ReportData, alpha: f64) -> Markup {
    html! {
        footer {
            p { "Run " code { (data.run_id) } " · as of " (data.as_of) " · started " (data.started_at) " · cohort-metrics " (data.tool_version) " · 95 % intervals, alpha " (alpha) }
            p {
                "Input rows: "
                @for (i, (source, rows)) in data.inputs.iter().enumerate() {
                    @if i > 0 { ", " }
                    (source) " " (format::count(*rows as i64))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::headline::{tile, Verdict};
    use super::*;

    #[test]
    fn a_tile_below_the_stated_n_shows_no_estimate() {
        let l = crate::testkit::lift_row(
            "nps",
            (40.0, 10.0),
            (5.0, 55.0),
            0.02,
            crate::stats::Direction::HigherIsBetter,
            (12.0, 300.0),
        );
        let thin = tile(&l, 0.05, None).into_string();
        assert!(
            thin.contains("Not enough data") && thin.contains("n = 12"),
            "{thin}"
        );
        assert!(!thin.contains("+30.0 pts") && !thin.contains("95 % CI") && !thin.contains("0.02"));
        let enough = tile(&LiftRow { n_trained: 30, ..l }, 0.05, None).into_string();
        assert!(
            enough.contains("+30.0 pts") && enough.contains("95 % CI +5.0 to +55.0 pts"),
            "{enough}"
        );
    }

    #[test]
    fn verdicts_follow_the_interval_the_direction_and_q() {
        let v = |d: f64, lo: f64, hi: f64, q: f64, lower: bool| {
            Verdict::of(Some(d), (Some(lo), Some(hi)), Some(q), lower, 0.05)
        };
        // Lower churn is better.
        assert_eq!(v(-0.15, -0.2, -0.1, 0.001, true), Verdict::Better);
        assert_eq!(v(0.15, 0.1, 0.2, 0.001, true), Verdict::Worse);
        assert_eq!(v(0.15, 0.1, 0.2, 0.001, false), Verdict::Better);
        // An interval across 0, or a q-value at or above alpha: unclear.
        assert_eq!(v(-0.05, -0.1, 0.02, 0.001, true), Verdict::Unclear);
        assert_eq!(v(-0.15, -0.2, -0.1, 0.2, true), Verdict::Unclear);
        assert_eq!(
            Verdict::of(None, (None, None), None, true, 0.05),
            Verdict::Unclear
        );
        // A descriptive row (its test stripped) gets no verdict at all, not "unclear".
        let mut row = crate::testkit::lift_row(
            "training_completion_rate",
            (0.478, 0.683),
            (-0.3, -0.1),
            0.001,
            crate::stats::Direction::HigherIsBetter,
            (90.0, 199.0),
        );
        assert_eq!(Verdict::of_lift(&row, 0.05), Verdict::Worse);
        row.descriptive();
        assert_eq!(Verdict::of_lift(&row, 0.05), Verdict::NoTest);
        assert_eq!(Verdict::NoTest.word(), "No test");
    }

    #[test]
    fn a_metric_registered_only_in_the_tests_is_drawn_with_its_unit_and_theme() {
        // `test_only_days` is written only in the registry (under
        // #[cfg(test)]): title "Days to a test", theme Education, unit days.
        let l = crate::testkit::lift_row(
            "test_only_days",
            (12.0, 20.0),
            (-10.0, -6.0),
            0.001,
            crate::stats::Direction::LowerIsBetter,
            (100.0, 200.0),
        );
        let data = ReportData {
            period: ("2025-11-01".into(), "2026-11-01".into()),
            lift: vec![l],
            ..ReportData::default()
        };
        let html = page(&data).into_string();
        let forest = &html[html.find("id=\"forest\"").expect("the forest")..];
        let theme = forest.find("<h3>Education</h3>").expect("its theme");
        let title = forest.find("Days to a test").expect("its title");
        assert!(theme < title, "{forest}");
        for shown in ["12.0 days", "20.0 days", "−8.0 days"] {
            assert!(forest.contains(shown), "{shown}: {forest}");
        }
        assert!(!forest.contains("<h3>Other</h3>"), "{forest}");
    }
}
