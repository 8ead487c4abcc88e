//! Time rules (docs/METRICS.md#time), written once and used by every metric.
//!
//! All comparisons are on calendar dates. `as_of` (A) is exclusive; the
//! period is `[S, A)` with `S = A − months` (day clamped to the month's end).

use chrono::{Datelike, Months, NaiveDate};
use polars::prelude::*;

/// A range of UTC days `[first, end)`: the days of activity a run reads
/// (docs/METRICS.md, "Time"), or a piece of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    /// The first day (inclusive).
    pub first: NaiveDate,
    /// The end (exclusive): for a run's activity, the as-of date A.
    pub end: NaiveDate,
}

impl DayRange {
    /// The range that covers every day in `firsts` up to `end`; None when
    /// no metric reads events.
    pub fn covering(firsts: impl IntoIterator<Item = NaiveDate>, end: NaiveDate) -> Option<Self> {
        firsts
            .into_iter()
            .min()
            .map(|first| DayRange { first, end })
    }
}

/// The measurement period `[start, as_of)` and its complete months.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// S: inclusive start.
    pub start: NaiveDate,
    /// A: exclusive end.
    pub as_of: NaiveDate,
    /// `period.months`.
    pub months: u32,
}

impl Period {
    /// docs/METRICS.md#time: "S = A − period.months calendar months (day of month clamped
    /// to the month's last day)".
    pub fn new(as_of: NaiveDate, months: u32) -> Self {
        Period {
            start: add_months(as_of, -(months as i32)),
            as_of,
            months,
        }
    }

    /// docs/METRICS.md#time: "Complete months of the period: calendar months M with
    /// S ≤ first_day(M) and first_day(M + 1) ≤ A, oldest first: M1 … Mk."
    /// Returns the first days of M1 … Mk.
    pub fn complete_months(&self) -> Vec<NaiveDate> {
        let mut months = Vec::new();
        let mut month = first_day(self.start);
        if month < self.start {
            month = add_months(month, 1);
        }
        while add_months(month, 1) <= self.as_of {
            months.push(month);
            month = add_months(month, 1);
        }
        months
    }

    /// M0: the month before M1 (first day), or `None` without complete months.
    pub fn month_zero(&self) -> Option<NaiveDate> {
        self.complete_months().first().map(|m1| add_months(*m1, -1))
    }
}

/// Adds `n` calendar months, clamping the day to the target month's last day.
pub fn add_months(date: NaiveDate, n: i32) -> NaiveDate {
    let shifted = if n >= 0 {
        date.checked_add_months(Months::new(n as u32))
    } else {
        date.checked_sub_months(Months::new(n.unsigned_abs()))
    };
    shifted.unwrap_or(date)
}

/// First day of the date's month.
pub fn first_day(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

/// A date literal for polars expressions.
pub fn date_lit(date: NaiveDate) -> Expr {
    lit(date_to_days(date)).cast(DataType::Date)
}

/// Days since 1970-01-01, polars' physical representation of `Date`.
pub fn date_to_days(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days() as i32
}

/// The date `days` after 1970-01-01 (the inverse of [`date_to_days`]).
pub fn days_to_date(days: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
        + chrono::Duration::days(i64::from(days))
}

/// The month of each day of consecutive calendar months, for folds over
/// rows in Rust: the month (its position among `months`) of a day is a
/// table lookup, not a date conversion per row.
pub struct MonthOfDay {
    /// The first day of the first month (days since 1970).
    first: i32,
    /// The position of each day's month, from `first` to the last month's
    /// last day.
    months: Vec<u16>,
}

impl MonthOfDay {
    /// `months`: the first days of consecutive calendar months, oldest first.
    pub fn new(months: &[NaiveDate]) -> MonthOfDay {
        let positions = months
            .iter()
            .enumerate()
            .flat_map(|(i, m)| {
                let days = date_to_days(add_months(*m, 1)) - date_to_days(*m);
                std::iter::repeat_n(i as u16, days as usize)
            })
            .collect();
        MonthOfDay {
            first: months.first().map_or(0, |m| date_to_days(*m)),
            months: positions,
        }
    }

    /// The position among the months of the month of `day` (days since
    /// 1970); None outside them.
    #[inline]
    pub fn of(&self, day: i32) -> Option<usize> {
        let offset = usize::try_from(day.checked_sub(self.first)?).ok()?;
        self.months.get(offset).map(|m| *m as usize)
    }
}

/// A small frame of months: `month_start` and `month_end` (first day of the
/// next month), one row per given first day.
pub fn months_frame(months: &[NaiveDate]) -> LazyFrame {
    let starts: Vec<i32> = months.iter().map(|m| date_to_days(*m)).collect();
    let ends: Vec<i32> = months
        .iter()
        .map(|m| date_to_days(add_months(*m, 1)))
        .collect();
    let column = |name: &str, days: Vec<i32>| {
        Column::new(name.into(), days)
            .cast(&DataType::Date)
            .unwrap_or_else(|_| Column::new_empty(name.into(), &DataType::Date))
    };
    DataFrame::new_infer_height(vec![
        column("month_start", starts),
        column("month_end", ends),
    ])
    .unwrap_or_default()
    .lazy()
}

/// The largest k with `add_months(from, k) ≤ to` (day clamped to the month's
/// end), for Date expressions; negative when `to` is before `from`. Integer
/// arithmetic only, so it is cheap on large frames:
/// `12·(y(to) − y(from)) + m(to) − m(from)`, minus 1 when the clamped day of
/// `from` falls after the day of `to`.
pub fn months_until(from: Expr, to: Expr) -> Expr {
    let year = |e: Expr| e.dt().year().cast(DataType::Int64);
    let month = |e: Expr| e.dt().month().cast(DataType::Int64);
    let day = |e: Expr| e.dt().day().cast(DataType::Int64);
    let month_start = to.clone().dt().month_start();
    let days_in_month = (month_start
        .clone()
        .dt()
        .offset_by(lit("1mo"))
        .cast(DataType::Int64)
        - month_start.cast(DataType::Int64))
    .cast(DataType::Int64);
    let clamped_day = when(day(from.clone()).gt(days_in_month.clone()))
        .then(days_in_month)
        .otherwise(day(from.clone()));
    let whole =
        lit(12i64) * (year(to.clone()) - year(from.clone())) + month(to.clone()) - month(from);
    whole - clamped_day.gt(day(to)).cast(DataType::Int64)
}

/// `day + n days` for a Date expression.
pub fn add_days(day: Expr, n: i64) -> Expr {
    (day.cast(DataType::Int32) + lit(n as i32)).cast(DataType::Date)
}

/// `day` falls in `[start, end)`.
pub fn in_range(day: Expr, start: Expr, end: Expr) -> Expr {
    day.clone().gt_eq(start).and(day.lt(end))
}

fn signup() -> Expr {
    col("signup_date")
}

fn churn() -> Expr {
    col("churn_date")
}

/// docs/METRICS.md#customers-and-churn: "The account is a customer at instant X when signup_date < X and
/// (churn_date is null or churn_date ≥ X)." X may be a literal or a column.
pub fn customer_at(x: Expr) -> Expr {
    signup()
        .lt(x.clone())
        .and(churn().is_null().or(churn().gt_eq(x)))
}

/// docs/METRICS.md#customers-and-churn: "Churned during [X, Y): in pop(X) and churn_date < Y."
pub fn churned_during(x: Expr, y: Expr) -> Expr {
    customer_at(x).and(churn().is_not_null().and(churn().lt(y)))
}

/// docs/METRICS.md#customers-and-churn: "Retained over [X, Y): in pop(X) and (churn_date null or ≥ Y)."
pub fn retained_over(x: Expr, y: Expr) -> Expr {
    customer_at(x).and(churn().is_null().or(churn().gt_eq(y)))
}

/// docs/METRICS.md#survival: the churn is an event seen at `a` when churn_date < A
/// (otherwise the account is censored at `a`).
pub fn churned_before(a: Expr) -> Expr {
    churn().is_not_null().and(churn().lt(a))
}

/// The end of the relationship as seen at `a`: the churn date when the
/// account churned before `a`, otherwise `a`.
pub fn relationship_end(a: Expr) -> Expr {
    when(churned_before(a.clone())).then(churn()).otherwise(a)
}

/// Whole months from signup to churn: [`months_until`](signup_date,
/// churn_date), null for an account that has not churned. Computed once per
/// account for [`customer_months_after_signup`].
pub fn months_retained() -> Expr {
    months_until(signup(), churn())
}

/// docs/METRICS.md#retention_curve: still a customer `k` months after signup,
/// "churn_date null or ≥ add_months(signup_date, k)", which is
/// k ≤ [`months_retained`] (passed in as a column), or `months_retained`
/// null: it is null exactly when churn_date is (signup_date is never null),
/// so the predicate reads that one column and can be evaluated on accounts
/// counted together by it.
pub fn customer_months_after_signup(k: Expr, months_retained: Expr) -> Expr {
    months_retained
        .clone()
        .is_null()
        .or(k.lt_eq(months_retained))
}

/// docs/METRICS.md#customers-and-churn: "Customers in a period [X, Y): signup_date < Y and (churn_date
/// null or churn_date > X) and (churn_date null or churn_date > signup_date)."
pub fn customer_in_period(x: Expr, y: Expr) -> Expr {
    signup()
        .lt(y)
        .and(churn().is_null().or(churn().gt(x)))
        .and(churn().is_null().or(churn().gt(signup())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn period_start_clamps_day_of_month() {
        // 2026-03-31 minus 1 month: February has 28 days → 2026-02-28.
        assert_eq!(Period::new(d(2026, 3, 31), 1).start, d(2026, 2, 28));
        assert_eq!(Period::new(d(2026, 11, 1), 12).start, d(2025, 11, 1));
    }

    #[test]
    fn complete_months_on_month_boundaries() {
        // [2025-11-01, 2026-11-01): Nov 2025 … Oct 2026, 12 months.
        let p = Period::new(d(2026, 11, 1), 12);
        let months = p.complete_months();
        assert_eq!(months.len(), 12);
        assert_eq!(months[0], d(2025, 11, 1));
        assert_eq!(months[11], d(2026, 10, 1));
        assert_eq!(p.month_zero(), Some(d(2025, 10, 1)));
    }

    #[test]
    fn complete_months_mid_month() {
        // [2026-01-15, 2026-04-15): Feb and Mar are complete; Jan and Apr are not.
        let p = Period::new(d(2026, 4, 15), 3);
        assert_eq!(p.complete_months(), vec![d(2026, 2, 1), d(2026, 3, 1)]);
        // [2026-01-15, 2026-02-15): no complete month.
        assert!(Period::new(d(2026, 2, 15), 1).complete_months().is_empty());
    }

    fn flags(expr: Expr) -> Vec<Option<bool>> {
        // signup, churn per account:
        // a: 2025-01-01 / null        b: 2025-01-01 / 2026-01-01 (churn on S)
        // c: 2025-01-01 / 2026-11-01 (churn on A)   d: 2026-01-01 / null (signup on S)
        // e: 2026-03-01 / 2026-03-01 (churn == signup)   f: 2025-06-01 / 2025-12-31
        let df = df!(
            "signup_date" => [d(2025,1,1), d(2025,1,1), d(2025,1,1), d(2026,1,1), d(2026,3,1), d(2025,6,1)],
            "churn_date" => [None, Some(d(2026,1,1)), Some(d(2026,11,1)), None, Some(d(2026,3,1)), Some(d(2025,12,31))],
        )
        .unwrap();
        let out = df.lazy().select([expr.alias("f")]).collect().unwrap();
        let flags = out.column("f").unwrap().bool().unwrap().clone();
        (0..flags.len()).map(|i| flags.get(i)).collect()
    }

    #[test]
    fn months_until_agrees_with_add_months() {
        // Every pair of days over two years (with month ends and a leap day) against add_months.
        let start = d(2023, 12, 25);
        let days: Vec<NaiveDate> = (0..800)
            .step_by(7)
            .map(|i| start + chrono::Days::new(i))
            .chain([d(2024, 2, 29), d(2024, 1, 31), d(2024, 3, 31)])
            .collect();
        let (mut from, mut to) = (Vec::new(), Vec::new());
        for a in &days {
            for b in &days {
                from.push(*a);
                to.push(*b);
            }
        }
        let df = df!("from" => from.clone(), "to" => to.clone()).unwrap();
        let out = df
            .lazy()
            .select([months_until(col("from"), col("to")).alias("k")])
            .collect()
            .unwrap();
        let ks = out.column("k").unwrap().i64().unwrap().clone();
        for i in 0..from.len() {
            let k = ks.get(i).unwrap();
            assert!(
                add_months(from[i], k as i32) <= to[i],
                "{} {} {k}",
                from[i],
                to[i]
            );
            assert!(
                add_months(from[i], k as i32 + 1) > to[i],
                "{} {} {k}",
                from[i],
                to[i]
            );
        }
    }

    #[test]
    fn customer_at_boundaries() {
        let s = date_lit(d(2026, 1, 1));
        // b churns on S: still a customer at S (churn ≥ X). d signs up on S: not yet (signup < X).
        assert_eq!(
            flags(customer_at(s)),
            vec![
                Some(true),
                Some(true),
                Some(true),
                Some(false),
                Some(false),
                Some(false)
            ]
        );
    }

    #[test]
    fn churned_and_retained_over_period() {
        let (s, a) = (date_lit(d(2026, 1, 1)), date_lit(d(2026, 11, 1)));
        // b churns on S → churned during [S, A). c churns on A → retained (churn ≥ A).
        assert_eq!(
            flags(churned_during(s.clone(), a.clone())),
            vec![
                Some(false),
                Some(true),
                Some(false),
                Some(false),
                Some(false),
                Some(false)
            ]
        );
        assert_eq!(
            flags(retained_over(s, a)),
            vec![
                Some(true),
                Some(false),
                Some(true),
                Some(false),
                Some(false),
                Some(false)
            ]
        );
    }

    #[test]
    fn customers_in_period_boundaries() {
        let (s, a) = (date_lit(d(2026, 1, 1)), date_lit(d(2026, 11, 1)));
        // b churns on S: the overlap rule needs churn_date > X, so b is not a customer in [S, A).
        // c churns on A and d signs up on S: both overlap. e: churn == signup → never a customer.
        // f churned before S.
        assert_eq!(
            flags(customer_in_period(s, a)),
            vec![
                Some(true),
                Some(false),
                Some(true),
                Some(true),
                Some(false),
                Some(false)
            ]
        );
    }
}
