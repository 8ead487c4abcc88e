//! The signals of `health_score`, each a 0–100 column per current customer
//! (null where the account has no data for it).

use polars::prelude::*;

use super::HealthScore;
use crate::activity::reduce::{Subject, SummaryField};
use crate::cohort::{TRAINED, UNTRAINED};
use crate::config::SourceName;
use crate::error::Result;
use crate::metrics::{left_join_filled, PlanContext, Reference};
use crate::time::{date_lit, in_range};

/// A named signal expression over the customers frame.
pub type Signal = (&'static str, Expr);

/// The customers frame with what the configured signals read joined to it,
/// and the signals themselves, in the order of `HealthScore::weights`.
pub fn signals(
    config: &HealthScore,
    ctx: &PlanContext,
    customers: LazyFrame,
) -> Result<(LazyFrame, Vec<Signal>)> {
    let s = &config.signals;
    let mut frame = customers;
    let mut signals: Vec<Signal> = Vec::new();
    if s.active_days_30.is_some() || s.key_action_30.is_some() {
        frame = event_signals(config, ctx, frame, &mut signals)?;
    }
    if let Some(x) = &s.tickets_90 {
        let tickets = ctx
            .source(SourceName::Tickets)?
            .filter(in_range(
                col("created_at"),
                days_before(ctx, 90),
                as_of(ctx),
            ))
            .group_by([col("account_id")])
            .agg([len().cast(DataType::Float64).alias("tickets")]);
        frame = left_join_filled(frame, tickets, &["account_id"], "tickets", lit(0.0));
        let scaled =
            (lit(100.0) - col("tickets") * lit(100.0 / x.bad_at.max(1) as f64)).clip_min(lit(0.0));
        signals.push(("tickets_90", scaled));
    }
    if s.nps_latest.is_some() {
        frame = join_account(frame, latest(ctx, SourceName::NpsResponses, "nps")?);
        signals.push(("nps_latest", col("nps") * lit(10.0)));
    }
    if let Some(x) = &s.csat_latest {
        frame = join_account(frame, latest(ctx, SourceName::CsatResponses, "csat")?);
        signals.push((
            "csat_latest",
            (col("csat") - lit(1.0)) * lit(100.0 / (x.scale_max as f64 - 1.0)),
        ));
    }
    if s.trained.is_some() {
        let cohort = col(Reference::AsOf.column());
        signals.push((
            "trained",
            when(cohort.clone().eq(lit(TRAINED)))
                .then(lit(100.0))
                .when(cohort.eq(lit(UNTRAINED)))
                .then(lit(0.0))
                .otherwise(lit(NULL)),
        ));
    }
    Ok((frame, signals))
}

fn as_of(ctx: &PlanContext) -> Expr {
    date_lit(ctx.period.as_of)
}

fn days_before(ctx: &PlanContext, n: u64) -> Expr {
    date_lit(ctx.period.as_of - chrono::Days::new(n))
}

fn join_account(frame: LazyFrame, per_account: LazyFrame) -> LazyFrame {
    frame.join(
        per_account,
        [col("account_id")],
        [col("account_id")],
        JoinArgs::new(JoinType::Left),
    )
}

/// Days of activity the event signals read: the 30 days before A.
pub const EVENT_SIGNAL_DAYS: u32 = 30;

/// `active_days_30` and `key_action_30`: from the activity of the 30 days
/// before A; no data for an account without any activity (in the run's
/// activity range, which starts on or before S and A − 30).
fn event_signals(
    config: &HealthScore,
    ctx: &PlanContext,
    frame: LazyFrame,
    signals: &mut Vec<Signal>,
) -> Result<LazyFrame> {
    let s = &config.signals;
    let account = Subject::Account;
    let recent_start = days_before(ctx, EVENT_SIGNAL_DAYS as u64);
    // Each account's last active day and last key action (its summary),
    // and its active days: attached by id once computed.
    let field = config
        .event
        .as_ref()
        .map(|event| SummaryField::EventLastDay(event.clone()));
    let summary = ctx.summary(account, field.clone())?;
    let mut days = vec!["last_day".to_string()];
    days.extend(field.as_ref().map(SummaryField::column));
    let frame = summary.rows.attach_to(frame, "account_id", Some(&days))?;
    let frame = ctx
        .active_days(account, EVENT_SIGNAL_DAYS)?
        .attach_to(frame, "account_id", Some(&["active_days".to_string()]))?
        .with_column(
            col("active_days")
                .cast(DataType::Float64)
                .fill_null(lit(0.0)),
        );
    let key_action = match &field {
        Some(field) => col(field.column().as_str())
            .gt_eq(recent_start)
            .fill_null(lit(false)),
        None => lit(false),
    };
    let has_events = col("last_day").is_not_null();
    if let Some(x) = &s.active_days_30 {
        let scaled =
            (col("active_days") * lit(100.0 / x.good_at.max(1) as f64)).clip_max(lit(100.0));
        signals.push((
            "active_days_30",
            when(has_events.clone()).then(scaled).otherwise(lit(NULL)),
        ));
    }
    if s.key_action_30.is_some() {
        let hit = when(key_action).then(lit(100.0)).otherwise(lit(0.0));
        signals.push((
            "key_action_30",
            when(has_events).then(hit).otherwise(lit(NULL)),
        ));
    }
    Ok(frame)
}

/// docs/METRICS.md#health_score "latest score": per account, the mean
/// `score` of its responses of `source` on the latest day before A with
/// any, as column `name`. Several users of an account often answer the
/// same survey on the same day; the mean does not depend on the rows'
/// order. The latest day is a window over the account (a filter inside
/// the aggregation runs group by group: 8 times slower at a million
/// accounts, docs/BENCHMARKS.md).
fn latest(ctx: &PlanContext, source: SourceName, name: &str) -> Result<LazyFrame> {
    let latest_day = col("responded_at")
        .max()
        .over([col("account_id")])
        .map_err(|e| crate::error::Error::engine("planning the latest survey score", e))?;
    Ok(ctx
        .source(source)?
        .filter(col("responded_at").lt(as_of(ctx)))
        .filter(col("responded_at").eq(latest_day))
        .group_by([col("account_id")])
        .agg([col("score").cast(DataType::Float64).mean().alias(name)]))
}
