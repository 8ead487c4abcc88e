//! The programme (docs/OUTPUTS.md#reporthtml): what the training itself
//! looks like — completion, engagement, knowledge — for each cohort with
//! its counts and no verdict. These rows
//! carry no test: the cohorts differ in them by construction
//! (docs/STATISTICS.md#descriptive-metrics), so the forest leaves them out.

use maud::{html, Markup};

use super::data::ReportData;
use super::forest::whole_period;
use super::format;
use super::headline::{definition_of, title_of};
use crate::stats::LiftRow;

/// Why a metric's comparison is descriptive, from the catalog (None for a
/// compared metric).
pub fn descriptive(metric: &str) -> Option<&'static str> {
    crate::catalog::presentation(metric).and_then(|p| p.descriptive)
}

/// Whether a lift row belongs here: a descriptive metric's, over all
/// accounts and the whole period.
pub fn is_programme_row(l: &LiftRow, data: &ReportData) -> bool {
    l.segment.is_none() && whole_period(l, &data.period) && descriptive(&l.metric).is_some()
}

/// The section (nothing when the run has no such row).
pub fn section(data: &ReportData) -> Markup {
    let rows: Vec<&LiftRow> = data
        .lift
        .iter()
        .filter(|l| is_programme_row(l, data))
        .collect();
    html! {
        @if !rows.is_empty() {
            section id="programme" {
                h2 { "Programme" }
                p.small { "What the training looks like in each cohort, with counts and no verdict: training defines the cohorts, so comparing them here says nothing about whether training pays off (docs/STATISTICS.md, \"Descriptive metrics\")." }
                table.programme {
                    thead { tr { th { "Metric" } th { "Trained" } th { "n" } th { "Untrained" } th { "n" } th { "Why no comparison" } } }
                    tbody {
                        @for l in rows {
                            @let unit = format::unit_of(&l.metric, l.dimension.as_deref());
                            tr data-metric=(l.metric) {
                                td { abbr title=(definition_of(&l.metric)) { (title_of(l)) } }
                                td { (format::value(unit, l.trained_value)) }
                                td { (format::count(l.n_trained)) }
                                td { (format::value(unit, l.untrained_value)) }
                                td { (format::count(l.n_untrained)) }
                                td.small { (descriptive(&l.metric).unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
    }
}
