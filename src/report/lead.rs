//! The estimate a headline tile leads with (docs/OUTPUTS.md#reporthtml): the adjusted one when the run adjusts and the row has
//! it, the naive one otherwise. Its verdict follows its own interval and
//! q-value; the other estimate is shown second.

use super::headline::{lower_is_better, Verdict};
use crate::stats::LiftRow;

/// One estimate of a lift row, with what the tile prints beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The adjustment method, None for the naive difference.
    pub method: Option<String>,
    pub diff: Option<f64>,
    pub ci: (Option<f64>, Option<f64>),
    pub p: Option<f64>,
    pub q: Option<f64>,
    /// The difference relative to the untrained value it is measured from
    /// (the adjusted untrained value for the adjusted estimate); None when
    /// that value is not above 0, as `rel_lift` (docs/OUTPUTS.md#lift).
    pub relative: Option<f64>,
    /// The smallest difference the test detects with 80 % power.
    pub mde: Option<f64>,
    pub e_value: Option<f64>,
    pub e_value_ci: Option<f64>,
}

/// The leading estimate of a row, and the other one (None without `adjust`).
#[derive(Debug, Clone, PartialEq)]
pub struct Lead {
    pub first: Estimate,
    pub second: Option<Estimate>,
    /// Why the row has no adjusted estimate although the run adjusts.
    pub not_adjusted: Option<String>,
}

/// `diff / base` when `base` is above 0.
fn relative(diff: Option<f64>, base: Option<f64>) -> Option<f64> {
    diff.zip(base)
        .filter(|(_, b)| *b > 0.0)
        .map(|(d, b)| d / b)
        .filter(|r| r.is_finite())
}

impl Lead {
    pub fn of(l: &LiftRow) -> Lead {
        let naive = Estimate {
            method: None,
            diff: l.abs_diff,
            ci: l.diff_ci(),
            p: l.p_value,
            q: l.q_value,
            relative: l.rel_lift,
            mde: l.mde,
            e_value: l.e_value,
            e_value_ci: l.e_value_ci,
        };
        let Some(a) = l.adjustment() else {
            return Lead {
                first: naive,
                second: None,
                not_adjusted: None,
            };
        };
        if a.abs_diff.is_none() {
            return Lead {
                first: naive,
                second: None,
                not_adjusted: Some(a.note.clone().unwrap_or_else(|| "not available".into())),
            };
        }
        let adjusted = Estimate {
            method: a.method.clone(),
            diff: a.abs_diff,
            ci: (a.ci_low, a.ci_high),
            p: a.p_value,
            q: a.q_value,
            relative: relative(a.abs_diff, a.untrained_value),
            mde: a.mde,
            e_value: a.e_value,
            e_value_ci: a.e_value_ci,
        };
        Lead {
            first: adjusted,
            second: Some(naive),
            not_adjusted: None,
        }
    }

    /// Whether the leading estimate is the adjusted one.
    pub fn is_adjusted(&self) -> bool {
        self.first.method.is_some()
    }

    /// The verdict of the leading estimate, in the row's direction.
    pub fn verdict(&self, l: &LiftRow, alpha: f64) -> Verdict {
        if Verdict::of_lift(l, alpha) == Verdict::NoTest {
            return Verdict::NoTest;
        }
        let e = &self.first;
        Verdict::of(e.diff, e.ci, e.q, lower_is_better(l), alpha)
    }
}

/// The verdict as words whose arrow is the sign of the difference and
/// whose word is the verdict, so the two never contradict: a lower churn
/// reads "▼ lower, better".
pub fn label(verdict: Verdict, diff: Option<f64>) -> String {
    let arrow = match diff.filter(|d| d.is_finite()) {
        Some(d) if d > 0.0 => ("▲", "higher"),
        Some(d) if d < 0.0 => ("▼", "lower"),
        _ => ("●", "no different"),
    };
    match verdict {
        Verdict::Better | Verdict::Worse => {
            format!("{} {}, {}", arrow.0, arrow.1, verdict.word().to_lowercase())
        }
        Verdict::Unclear => "● unclear".to_string(),
        Verdict::NoTest => "○ no test".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> LiftRow {
        crate::testkit::churn_lift_row()
    }

    #[test]
    fn without_adjust_the_naive_estimate_leads_with_its_relative_change() {
        let l = row();
        let lead = Lead::of(&l);
        assert!(!lead.is_adjusted());
        assert_eq!(lead.second, None);
        // (0.110 − 0.260) / 0.260 = −0.5769…
        assert!((lead.first.relative.unwrap() + 0.576_923).abs() < 1e-6);
        assert_eq!(lead.verdict(&l, 0.05), Verdict::Better);
        assert_eq!(label(Verdict::Better, lead.first.diff), "▼ lower, better");
    }

    #[test]
    fn with_adjust_the_adjusted_estimate_leads_and_its_q_decides() {
        let mut l = crate::testkit::adjusted_churn_lift_row();
        l.adjusted.p_value = Some(0.0004);
        // The naive q is small, the adjusted one is not: the verdict follows
        // the adjusted estimate.
        l.adjusted.q_value = Some(0.08);
        let lead = Lead::of(&l);
        assert!(lead.is_adjusted());
        assert_eq!(lead.first.diff, Some(-0.113));
        assert_eq!(lead.second.as_ref().unwrap().diff, l.abs_diff);
        // −0.113 / 0.223 = −0.5067…
        assert!((lead.first.relative.unwrap() + 0.506_726).abs() < 1e-6);
        assert_eq!(lead.verdict(&l, 0.05), Verdict::Unclear);
        assert_eq!(label(Verdict::Unclear, lead.first.diff), "● unclear");
        assert_eq!(label(Verdict::Worse, Some(0.02)), "▲ higher, worse");
    }

    #[test]
    fn a_row_the_adjustment_could_not_estimate_leads_with_the_naive_and_says_why() {
        let mut l = row();
        l.adjusted.method = Some("stratify".into());
        l.adjusted.note = Some("no stratum holds both cohorts".into());
        let lead = Lead::of(&l);
        assert!(!lead.is_adjusted());
        assert_eq!(
            lead.not_adjusted.as_deref(),
            Some("no stratum holds both cohorts")
        );
        // An untrained value of 0 has no relative change.
        assert_eq!(relative(Some(0.1), Some(0.0)), None);
    }
}
