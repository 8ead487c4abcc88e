//! The truth the lift is checked against (GENERATOR.md, "Truth"): for every
//! account in the cohorts of the sample pipeline's period, its outcomes with
//! training and without, from the same random draws.
//!
//! A trained account's outcome without training keeps every draw of the
//! generated world and changes only what its training changed:
//! - churn: the life left after the period start S is the same exponential
//!   draw at the untrained hazard (the residual times the hazard ratio), so
//!   the account is a customer at S in both worlds;
//! - NPS: each response keeps its normal deviate around the untrained mean,
//!   and responses after the untrained churn are dropped;
//! - revenue: each month keeps its uniform draw, held against the untrained
//!   expansion and contraction thresholds; months after the untrained churn
//!   are dropped;
//! - tickets: each 30-day block keeps its generated tickets, moved in
//!   proportion into the block's untrained span when the untrained churn cuts
//!   it short (the generator draws a block at the full rate even then), plus
//!   a Poisson draw of the difference of the two rates per block.
//!
//! Draws the generated world never made (a contraction multiplier, the extra
//! tickets) come from a separate stream per account, so the generated tables
//! are the same with or without the truth.
//!
//! An untrained account's outcome without training is its generated one; its
//! outcome with training is not recorded: it has no completion to start the
//! effect from, and the effect on the trained (ATT) does not need it.

use super::{Buffer, Rng, Table, PLANS};
use crate::time::{add_months, date_to_days, Period};
use chrono::NaiveDate;

/// Days of the window the truth is stated for: the sample pipeline's
/// `period: { months: 12 }` ending at the generator's `--end`, and its
/// landmark `cohort: { window_days: 90 }`.
#[derive(Clone, Copy)]
pub(crate) struct Window {
    /// S, inclusive.
    pub(crate) start: i32,
    /// A, exclusive (the generator's end day).
    pub(crate) end: i32,
    /// First day of M0, the month before the first complete month.
    pub(crate) month_zero: i32,
    /// First day of Mk, the last complete month.
    pub(crate) month_last: i32,
}

/// The landmark of the sample pipeline (`cohort.window_days`).
pub(crate) const LANDMARK_DAYS: i32 = 90;
/// The period of the sample pipeline (`period.months`).
pub(crate) const PERIOD_MONTHS: u32 = 12;

impl Window {
    pub(crate) fn new(end: NaiveDate) -> Self {
        let period = Period::new(end, PERIOD_MONTHS);
        let months = period.complete_months();
        let first = months.first().copied().unwrap_or(period.start);
        let last = months.last().copied().unwrap_or(period.start);
        Window {
            start: date_to_days(period.start),
            end: date_to_days(end),
            month_zero: date_to_days(add_months(first, -1)),
            month_last: date_to_days(last),
        }
    }
}

/// One world's outcomes of an account over the window.
#[derive(Default, Clone, Copy, Debug, PartialEq)]
pub(crate) struct Outcomes {
    /// Churned during [S, A) (churn_rate).
    pub(crate) churned: bool,
    /// Tickets created in [S, A) (support_incident_rate).
    pub(crate) tickets: i64,
    /// NPS responses in [S, A), and promoters minus detractors among them.
    pub(crate) nps_responses: i64,
    pub(crate) nps_net: i64,
    /// MRR in M0 and in Mk (net_revenue_retention).
    pub(crate) mrr_zero: f64,
    pub(crate) mrr_last: f64,
}

/// The two worlds of one account while it is simulated.
pub(crate) struct Truth {
    /// The generated world.
    pub(crate) factual: Outcomes,
    /// The world in which its training had no effect.
    pub(crate) untrained: Outcomes,
    /// The day after its last day as a customer in the untrained world (the
    /// end day when it does not churn before).
    pub(crate) untrained_alive_end: i32,
    /// Draws the generated world never made.
    pub(crate) rng: Rng,
}

impl Truth {
    /// The separate stream of account `index`: the generated tables never draw from it.
    pub(crate) fn new(seed: u64, index: u64, untrained_alive_end: i32) -> Self {
        Truth {
            factual: Outcomes::default(),
            untrained: Outcomes::default(),
            untrained_alive_end,
            rng: Rng::new(seed ^ 0x7472_7574_6800_0000, index),
        }
    }

    /// Counts an NPS response of `day` with the generated score and the score
    /// it would have had untrained.
    pub(crate) fn nps(&mut self, window: &Window, day: i32, score: i64, untrained_score: i64) {
        if day < window.start || day >= window.end {
            return;
        }
        let net = |s: i64| i64::from(s >= 9) - i64::from(s <= 6);
        self.factual.nps_responses += 1;
        self.factual.nps_net += net(score);
        if day < self.untrained_alive_end {
            self.untrained.nps_responses += 1;
            self.untrained.nps_net += net(untrained_score);
        }
    }

    /// Counts a generated ticket of `day` in the 30-day block `[from, to)`
    /// (the generator draws a block's tickets at the full block's rate even
    /// when the account churns or the data ends inside it). Untrained, the
    /// block ends at the untrained churn, so the ticket moves in proportion
    /// into the shorter block.
    pub(crate) fn ticket(&mut self, window: &Window, (from, to): (i32, i32), day: i32) {
        let counted = |day: i32| day >= window.start && day < window.end;
        self.factual.tickets += i64::from(counted(day));
        if let Some(end) = self.untrained_block_end(from, to) {
            let moved =
                from + ((day - from) as i64 * (end - from) as i64 / (to - from) as i64) as i32;
            self.untrained.tickets += i64::from(counted(moved));
        }
    }

    /// Adds the tickets an untrained account files beyond a trained one in
    /// the block `[from, to)`: `extra` more a block, on days drawn in its
    /// untrained span.
    pub(crate) fn extra_tickets(&mut self, window: &Window, (from, to): (i32, i32), extra: f64) {
        let Some(end) = self.untrained_block_end(from, to).filter(|_| extra > 0.0) else {
            return;
        };
        for _ in 0..self.rng.poisson(extra) {
            let day = from + self.rng.int(0, (end - from - 1).max(0) as i64) as i32;
            self.untrained.tickets += i64::from(day >= window.start && day < window.end);
        }
    }

    /// The end of the block `[from, to)` in the untrained world; none when
    /// the account has churned there before it starts.
    fn untrained_block_end(&self, from: i32, to: i32) -> Option<i32> {
        (from < self.untrained_alive_end).then(|| to.min(self.untrained_alive_end))
    }

    /// Records the MRR of the month starting on `month` in both worlds.
    pub(crate) fn mrr(&mut self, window: &Window, month: i32, factual: f64, untrained: f64) {
        let untrained = if month < self.untrained_alive_end {
            untrained
        } else {
            0.0
        };
        if month == window.month_zero {
            self.factual.mrr_zero = factual;
            self.untrained.mrr_zero = untrained;
        }
        if month == window.month_last {
            self.factual.mrr_last = factual;
            self.untrained.mrr_last = untrained;
        }
    }
}

/// The columns of `truth.csv`.
pub(crate) fn table() -> Table {
    let int = || Buffer::OptInt(vec![]);
    let float = || Buffer::Float(vec![]);
    Table::new(
        "truth",
        vec![
            ("account_id", Buffer::Int(vec![])),
            ("plan", Buffer::Text(vec![])),
            ("cohort", Buffer::Text(vec![])),
            ("churned_if_trained", int()),
            ("churned_if_untrained", int()),
            ("tickets_if_trained", int()),
            ("tickets_if_untrained", int()),
            ("nps_responses_if_trained", int()),
            ("nps_responses_if_untrained", int()),
            ("nps_net_if_trained", int()),
            ("nps_net_if_untrained", int()),
            ("mrr_m0_if_trained", float()),
            ("mrr_m0_if_untrained", float()),
            ("mrr_mk_if_trained", float()),
            ("mrr_mk_if_untrained", float()),
        ],
    )
}

/// Where an account stands in the window, in the generated world.
pub(crate) struct Membership {
    /// Customer at S (the churn_rate population).
    pub(crate) customer_at_start: bool,
    /// Customer in the period [S, A) (the support_incident_rate population).
    pub(crate) customer_in_period: bool,
    pub(crate) trained: bool,
}

/// Appends the row of one account of the cohorts (assigned at S).
pub(crate) fn push(table: &mut Table, id: i64, plan: usize, member: &Membership, truth: &Truth) {
    let with = member.trained.then_some(&truth.factual);
    let without = &truth.untrained;
    let flag = |b: bool| i64::from(b);
    let at_start = |o: &Outcomes| member.customer_at_start.then_some(flag(o.churned));
    let in_period = |o: &Outcomes| member.customer_in_period.then_some(o.tickets);
    push!(table,
        "account_id" => Int(id),
        "plan" => Text(PLANS[plan]),
        "cohort" => Text(if member.trained { "trained" } else { "untrained" }),
        "churned_if_trained" => OptInt(with.and_then(at_start)),
        "churned_if_untrained" => OptInt(at_start(without)),
        "tickets_if_trained" => OptInt(with.and_then(in_period)),
        "tickets_if_untrained" => OptInt(in_period(without)),
        "nps_responses_if_trained" => OptInt(with.map(|o| o.nps_responses)),
        "nps_responses_if_untrained" => OptInt(Some(without.nps_responses)),
        "nps_net_if_trained" => OptInt(with.map(|o| o.nps_net)),
        "nps_net_if_untrained" => OptInt(Some(without.nps_net)),
        "mrr_m0_if_trained" => Float(with.map(|o| o.mrr_zero)),
        "mrr_m0_if_untrained" => Float(Some(without.mrr_zero)),
        "mrr_mk_if_trained" => Float(with.map(|o| o.mrr_last)),
        "mrr_mk_if_untrained" => Float(Some(without.mrr_last)),
    );
}

/// Sums over the trained accounts of the cohorts, in both worlds, for the
/// true effect on the trained stated in GENERATOR.md.
#[derive(Default)]
pub(crate) struct Effect {
    revenue_base: u64,
    churn_population: u64,
    churned: [u64; 2],
    ticket_population: u64,
    tickets: [i64; 2],
    nps_responses: [i64; 2],
    nps_net: [i64; 2],
    mrr_zero: [f64; 2],
    mrr_last: [f64; 2],
}

impl Effect {
    pub(crate) fn add(&mut self, member: &Membership, truth: &Truth) {
        if !member.trained {
            return;
        }
        for (i, o) in [&truth.factual, &truth.untrained].into_iter().enumerate() {
            if member.customer_at_start {
                self.churned[i] += u64::from(o.churned);
            }
            if member.customer_in_period {
                self.tickets[i] += o.tickets;
            }
            self.nps_responses[i] += o.nps_responses;
            self.nps_net[i] += o.nps_net;
            // docs/METRICS.md#net_revenue_retention: the NRR base is the accounts with MRR in M0, which training does not change.
            if truth.factual.mrr_zero > 0.0 {
                self.mrr_zero[i] += o.mrr_zero;
                self.mrr_last[i] += o.mrr_last;
            }
        }
        self.revenue_base += u64::from(truth.factual.mrr_zero > 0.0);
        self.churn_population += u64::from(member.customer_at_start);
        self.ticket_population += u64::from(member.customer_in_period);
    }

    /// The Markdown table of GENERATOR.md: each metric with training (as
    /// generated), without, and the difference (the true ATT).
    pub(crate) fn markdown(&self) -> String {
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
        let rows = [
            (
                "churn_rate",
                self.churn_population,
                [0, 1].map(|i| ratio(self.churned[i] as f64, self.churn_population as f64)),
            ),
            (
                "net_revenue_retention",
                self.revenue_base,
                [0, 1].map(|i| ratio(self.mrr_last[i], self.mrr_zero[i])),
            ),
            (
                "support_incident_rate",
                self.ticket_population,
                [0, 1].map(|i| ratio(self.tickets[i] as f64, self.ticket_population as f64)),
            ),
            (
                "nps",
                self.nps_responses[0] as u64,
                [0, 1].map(|i| 100.0 * ratio(self.nps_net[i] as f64, self.nps_responses[i] as f64)),
            ),
        ];
        let mut text = String::from(
            "| metric | trained units | with training (generated) | without training | true ATT |\n|---|---|---|---|---|\n",
        );
        for (metric, n, [with, without]) in rows {
            text.push_str(&format!(
                "| `{metric}` | {n} | {with:.6} | {without:.6} | {:.6} |\n",
                with - without
            ));
        }
        text
    }
}
