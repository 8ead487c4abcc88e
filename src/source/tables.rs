//! The canonical input tables of docs/INPUTS.md: their columns, which are required,
//! and how each column is typed after loading.

use crate::config::SourceName;

/// How a column is normalized after reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Ids: integers or strings in the files, compared as strings.
    Id,
    /// Calendar dates: dates, datetimes (converted to UTC, truncated) or ISO strings.
    Day,
    /// Numbers, read as Float64.
    Number,
    /// Free text.
    Text,
}

/// One canonical column.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub kind: ColumnKind,
    /// Must be present in the file (docs/INPUTS.md bold).
    pub required: bool,
    /// Null values are allowed.
    pub nullable: bool,
}

const fn col(name: &'static str, kind: ColumnKind, required: bool, nullable: bool) -> ColumnSpec {
    ColumnSpec {
        name,
        kind,
        required,
        nullable,
    }
}

use ColumnKind::*;

const ACCOUNTS: &[ColumnSpec] = &[
    col("account_id", Id, true, false),
    col("signup_date", Day, true, false),
    col("churn_date", Day, false, true),
    col("name", Text, false, true),
];
const TRAINING: &[ColumnSpec] = &[
    col("account_id", Id, true, false),
    col("course_id", Text, true, false),
    col("completed_at", Day, true, true),
    col("enrolled_at", Day, false, true),
    col("user_id", Id, false, true),
    col("score", Number, false, true),
    col("status", Text, false, true),
];
const USERS: &[ColumnSpec] = &[
    col("user_id", Id, true, false),
    col("account_id", Id, true, false),
    col("created_at", Day, false, true),
];
const EVENTS: &[ColumnSpec] = &[
    col("account_id", Id, true, false),
    col("event_time", Day, true, false),
    col("event_name", Text, true, false),
    col("user_id", Id, false, true),
];
/// `events` read from `activity.table`: the daily rollup, `event_time`
/// standing for its `day` (a date, or a datetime taken as UTC), with
/// `events`, how many events a row stands for.
const EVENTS_ROLLUP: &[ColumnSpec] = &[
    col("account_id", Id, true, false),
    col("event_time", Day, true, false),
    col("event_name", Text, true, false),
    col("user_id", Id, false, true),
    col("events", Number, true, false),
];
const REVENUE: &[ColumnSpec] = &[
    col("account_id", Id, true, false),
    col("month", Day, true, false),
    col("mrr", Number, true, false),
];
/// `revenue` with `grain: invoice`: one row per invoice (or credit note),
/// spread over the months it covers (`source::invoices`).
const REVENUE_INVOICES: &[ColumnSpec] = &[
    col("account_id", Id, true, false),
    col("period_start", Day, true, false),
    col("period_end", Day, true, false),
    col("amount", Number, true, false),
    col("currency", Text, false, true),
];
const RESPONSES: &[ColumnSpec] = &[
    col("account_id", Id, true, false),
    col("responded_at", Day, true, false),
    col("score", Number, true, false),
    col("user_id", Id, false, true),
];
const TICKETS: &[ColumnSpec] = &[
    col("account_id", Id, true, false),
    col("created_at", Day, true, false),
    col("product_area", Text, false, true),
];
const CANCELLATIONS: &[ColumnSpec] = &[
    col("account_id", Id, true, false),
    col("requested_at", Day, true, false),
    col("outcome", Text, true, false),
];
const TOUCHPOINTS: &[ColumnSpec] = &[
    col("account_id", Id, true, false),
    col("contacted_at", Day, true, false),
];
const REFERRALS: &[ColumnSpec] = &[
    col("account_id", Id, true, false),
    col("referred_at", Day, true, false),
];

/// The canonical columns of a configured source: `revenue` with
/// `grain: invoice` has invoice columns, `events` from `activity.table`
/// the rollup's.
pub fn columns_for(source: &crate::config::ResolvedSource) -> &'static [ColumnSpec] {
    match (source.name, source.config.grain) {
        (SourceName::Events, _) if source.rollup => EVENTS_ROLLUP,
        (SourceName::Revenue, Some(crate::config::Grain::Invoice)) => REVENUE_INVOICES,
        (name, _) => columns_of(name),
    }
}

/// The canonical columns of `revenue` with `grain: invoice`.
pub fn invoice_columns() -> &'static [ColumnSpec] {
    REVENUE_INVOICES
}

/// The canonical columns of a source.
pub fn columns_of(source: SourceName) -> &'static [ColumnSpec] {
    match source {
        SourceName::Accounts => ACCOUNTS,
        SourceName::Training => TRAINING,
        SourceName::Users => USERS,
        SourceName::Events => EVENTS,
        SourceName::Revenue => REVENUE,
        SourceName::NpsResponses | SourceName::CsatResponses => RESPONSES,
        SourceName::Tickets => TICKETS,
        SourceName::Cancellations => CANCELLATIONS,
        SourceName::Touchpoints => TOUCHPOINTS,
        SourceName::Referrals => REFERRALS,
    }
}
