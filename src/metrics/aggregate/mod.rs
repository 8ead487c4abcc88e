//! The shared counting stage. A metric describes what one unit (an account,
//! a row) contributes — numerator, denominator, squares, auxiliary counts —
//! and this module sums those contributions per cohort and segment, adds the
//! `all` cohort and the no-segment rows, for every metric the same way.

use polars::prelude::*;

mod rollup;

pub use rollup::{by_cohort_and_segment, combine, median_by_cohort_and_segment};
use rollup::{clustered_by_cohort_and_segment, unclustered};

use super::{AggregatePlan, PlanContext, Reference};
use crate::stats::{Direction, Kind, SUM_COLUMNS, UNIT_SUM_COLUMNS};

/// Granularity of summed contributions: 2¹⁶ steps per unit.
const QUANTUM: f64 = 65536.0;

/// What one unit contributes to the sums. Unset parts contribute 0, except
/// `n` (the units counted in `n`), which defaults to 1 per unit.
pub struct Sums {
    pub num: Expr,
    pub den: Expr,
    pub sq: Expr,
    pub a1: Expr,
    pub a2: Expr,
    pub n: Expr,
    /// The pair (X, Y) whose per-account totals give the variance of the
    /// ratio ΣX/ΣY (delta method, CR1); `None` = (`num`, `den`).
    pub cluster: Option<(Expr, Expr)>,
}

impl Sums {
    /// Every part zero and `n` = 1.
    pub fn zero() -> Self {
        Sums {
            num: lit(0.0),
            den: lit(0.0),
            sq: lit(0.0),
            a1: lit(0.0),
            a2: lit(0.0),
            n: lit(1.0),
            cluster: None,
        }
    }

    /// A unit that counts in the denominator and, when `hit`, in the numerator.
    pub fn proportion(hit: Expr) -> Self {
        Sums {
            num: hit.cast(DataType::Float64),
            den: lit(1.0),
            ..Sums::zero()
        }
    }

    /// An account contributing its count of facts (tickets, referrals) to a
    /// mean of counts per account: `num` = the count, `den` = 1, `sq` = the
    /// count² (docs/STATISTICS.md#counts-per-account: var = s²/n).
    pub fn count(count: Expr) -> Self {
        Sums {
            num: count.clone(),
            den: lit(1.0),
            sq: count.clone() * count,
            ..Sums::zero()
        }
    }

    /// A unit contributing `num` and `den` to a ratio of sums.
    pub fn ratio(num: Expr, den: Expr) -> Self {
        Sums {
            num,
            den,
            ..Sums::zero()
        }
    }

    /// Each part under its column name: the unit sums of [`SUM_COLUMNS`],
    /// then the cluster pair as `cx`, `cy`; each name ends in `set` (see
    /// [`Units::measures`]). Not yet rounded ([`UnitValues`] rounds them).
    fn named_parts(self, set: &str) -> Vec<(String, Expr)> {
        let (cx, cy) = self
            .cluster
            .unwrap_or_else(|| (self.num.clone(), self.den.clone()));
        let parts = [
            self.num, self.den, self.sq, self.a1, self.a2, self.n, cx, cy,
        ];
        let names = SUM_COLUMNS[..UNIT_SUM_COLUMNS].iter().chain(&["cx", "cy"]);
        names
            .zip(parts)
            .map(|(name, e)| (format!("{name}{set}"), e))
            .collect()
    }
}

/// The values the finest group-by of [`aggregate`] sums: each distinct
/// part of the units' [`Sums`] once, whatever columns it fills (`cx` is
/// `num` by default, three proportions share `den`), and no constant part
/// at all (`den` = 1, `sq` = 0 of a proportion): a constant `c` sums to
/// `c` × the group's units, counted once by `len()`.
///
/// docs/METRICS.md#exact-sums-and-empty-results: each contribution is
/// rounded to a multiple of 2⁻¹⁶ (integers are unchanged). Such values add
/// up exactly in f64, whatever order a parallel group-by adds them in, as
/// long as a sum of fractional values stays below 2³⁷; so a constant's sum
/// is exactly the rounded constant × the units, and reruns are
/// bit-identical.
#[derive(Default)]
struct UnitValues {
    /// The distinct non-constant parts, unrounded.
    values: Vec<Expr>,
    /// Each named sum column: the index of its value, or its constant.
    columns: Vec<(String, Part)>,
}

enum Part {
    Value(usize),
    Constant(f64),
}

/// The column of the units counted in each group.
const UNITS: &str = "__units";

impl UnitValues {
    fn add(&mut self, name: String, expr: Expr) {
        let part = match constant(&expr) {
            Some(c) => Part::Constant(quantized(c)),
            None => match self.values.iter().position(|v| *v == expr) {
                Some(i) => Part::Value(i),
                None => {
                    self.values.push(expr);
                    Part::Value(self.values.len() - 1)
                }
            },
        };
        self.columns.push((name, part));
    }

    fn value_column(i: usize) -> String {
        format!("__value{i}")
    }

    /// What the units select: each distinct value, rounded.
    fn selected(&self) -> Vec<Expr> {
        self.values
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let value = e.clone().cast(DataType::Float64).fill_null(lit(0.0));
                ((value * lit(QUANTUM)).round(0, RoundMode::HalfAwayFromZero) / lit(QUANTUM))
                    .alias(Self::value_column(i))
            })
            .collect()
    }

    /// The finest group-by's aggregations: each value's sum and the units.
    fn sums(&self) -> Vec<Expr> {
        let mut sums: Vec<Expr> = (0..self.values.len())
            .map(|i| col(Self::value_column(i)).sum())
            .collect();
        sums.push(len().alias(UNITS));
        sums
    }

    /// After the finest group-by: every named sum column.
    fn named(&self) -> Vec<Expr> {
        self.columns
            .iter()
            .map(|(name, part)| match part {
                Part::Value(i) => col(Self::value_column(*i)).alias(name.as_str()),
                Part::Constant(c) => {
                    (lit(*c) * col(UNITS).cast(DataType::Float64)).alias(name.as_str())
                }
            })
            .collect()
    }
}

/// The value of a plain numeric literal (not null).
fn constant(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Literal(value) => value
            .to_any_value()
            .filter(|v| !v.is_null())
            .and_then(|v| v.extract::<f64>()),
        _ => None,
    }
}

/// Whether `expr` is one value for every row: a scalar literal, cast or
/// renamed.
fn is_constant(expr: &Expr) -> bool {
    match expr {
        Expr::Literal(value) => value.is_scalar(),
        Expr::Cast { expr, .. } | Expr::Alias(expr, _) => is_constant(expr),
        _ => false,
    }
}

/// `value` rounded to a multiple of 2⁻¹⁶, as [`UnitValues::selected`]
/// rounds each unit's.
fn quantized(value: f64) -> f64 {
    (value * QUANTUM).round() / QUANTUM
}

/// Builder of a unit frame for the metrics table.
pub struct Units {
    frame: LazyFrame,
    reference: Reference,
    dimension: Expr,
    period_start: Expr,
    period_end: Expr,
    nested: bool,
}

impl Units {
    /// Units from `frame`, which must hold the cohort columns and segment
    /// columns (from [`PlanContext::accounts`] or joined with
    /// [`PlanContext::account_dimensions`]). Period defaults to `[S, A)`.
    pub fn new(frame: LazyFrame, reference: Reference, ctx: &PlanContext) -> Self {
        Units {
            frame,
            reference,
            dimension: lit(NULL).cast(DataType::String),
            period_start: crate::time::date_lit(ctx.period.start),
            period_end: crate::time::date_lit(ctx.period.as_of),
            nested: false,
        }
    }

    /// The units are nested in accounts (survey responses, tickets, users,
    /// enrolments): intervals and tests take the cluster-robust variance by
    /// account (docs/STATISTICS.md, CR1).
    pub fn nested(self) -> Self {
        self.nested_when(true)
    }

    /// [`Units::nested`] when `nested` (user-level adoption metrics).
    pub fn nested_when(mut self, nested: bool) -> Self {
        self.nested = nested;
        self
    }

    pub fn dimension(mut self, dimension: Expr) -> Self {
        self.dimension = dimension.cast(DataType::String);
        self
    }

    pub fn period(mut self, start: Expr, end: Expr) -> Self {
        self.period_start = start;
        self.period_end = end;
        self
    }

    /// Finishes the plan as a proportion where higher is better: every unit
    /// counts in the denominator, and in the numerator when `hit`.
    pub fn share(self, ctx: &PlanContext, hit: Expr) -> AggregatePlan {
        self.plan(
            ctx,
            Kind::Proportion,
            Direction::HigherIsBetter,
            Sums::proportion(hit),
        )
    }

    /// Finishes the plan: what the units' sums measure, and which way is good.
    pub fn plan(
        self,
        ctx: &PlanContext,
        kind: Kind,
        direction: Direction,
        sums: Sums,
    ) -> AggregatePlan {
        let mut columns = ctx.unit_columns(self.reference);
        // A key that is the same for every unit (the dimension and period
        // of most plans) is not grouped by: it is added to the rolled rows.
        let (mut keys, mut constant) = (Vec::new(), Vec::new());
        for (name, value) in [
            ("dimension", self.dimension),
            ("period_start", self.period_start.cast(DataType::Date)),
            ("period_end", self.period_end.cast(DataType::Date)),
        ] {
            if is_constant(&value) {
                constant.push(value.alias(name));
            } else {
                columns.push(value.alias(name));
                keys.push(name);
            }
        }
        if ctx.stratified {
            keys.push(crate::cohort::STRATUM);
        }
        let per_account =
            self.nested || matches!(kind, Kind::Ratio { .. } | Kind::LifetimeValue(_));
        let mut order = vec![
            col("cohort"),
            col("segment"),
            col("dimension"),
            col("period_start"),
            col("period_end"),
        ];
        if ctx.stratified {
            order.push(col(crate::cohort::STRATUM));
        }
        order.extend(SUM_COLUMNS.map(col));
        let units = aggregate(
            self.frame,
            columns,
            vec![sums],
            per_account,
            ctx.segment_by,
            &keys,
        )
        .with_columns(constant)
        .select(order);
        AggregatePlan {
            kind,
            nested: self.nested,
            direction,
            units,
        }
    }

    /// Several plans over the same units, summed in one aggregation: each
    /// measure's sums are columns of their own, the units are grouped once
    /// and the cohort and segment rows are rolled up once, then each measure
    /// takes its columns with its dimension and period. Its dimension and
    /// period are the same for every unit (literals; the units' own
    /// dimension and period are not used). The plans are the ones that
    /// [`Units::plan`] gives for each measure.
    pub fn measures(self, ctx: &PlanContext, measures: Vec<Measure>) -> Vec<AggregatePlan> {
        let columns = ctx.unit_columns(self.reference);
        let keys: Vec<&str> = if ctx.stratified {
            vec![crate::cohort::STRATUM]
        } else {
            Vec::new()
        };
        let per_account = self.nested
            || measures
                .iter()
                .any(|m| matches!(m.kind, Kind::Ratio { .. } | Kind::LifetimeValue(_)));
        let mut shapes = Vec::new();
        let mut sums = Vec::new();
        for measure in measures {
            shapes.push((
                measure.kind,
                measure.direction,
                measure.dimension,
                measure.period,
            ));
            sums.push(measure.sums);
        }
        let several = sums.len() > 1;
        let rolled = aggregate(
            self.frame,
            columns,
            sums,
            per_account,
            ctx.segment_by,
            &keys,
        )
        .cache();
        shapes
            .into_iter()
            .enumerate()
            .map(|(i, (kind, direction, dimension, period))| {
                let (start, end) =
                    period.unwrap_or((self.period_start.clone(), self.period_end.clone()));
                let mut columns = vec![
                    col("cohort"),
                    col("segment"),
                    dimension.cast(DataType::String).alias("dimension"),
                    start.cast(DataType::Date).alias("period_start"),
                    end.cast(DataType::Date).alias("period_end"),
                ];
                columns.extend(keys.iter().map(|k| col(*k)));
                let set = sum_set(i, several);
                columns.extend(
                    SUM_COLUMNS
                        .iter()
                        .map(|c| col(format!("{c}{set}")).alias(*c)),
                );
                AggregatePlan {
                    kind,
                    nested: self.nested,
                    direction,
                    units: rolled.clone().select(columns),
                }
            })
            .collect()
    }
}

/// One plan of [`Units::measures`]: its dimension (a literal), its period
/// (literals; None = the units' period), what the units' sums measure and
/// which way is good.
pub struct Measure {
    pub dimension: Expr,
    pub period: Option<(Expr, Expr)>,
    pub kind: Kind,
    pub direction: Direction,
    pub sums: Sums,
}

impl Measure {
    /// A proportion where higher is better (as [`Units::share`]).
    pub fn share(dimension: Expr, hit: Expr) -> Self {
        Measure {
            dimension,
            period: None,
            kind: Kind::Proportion,
            direction: Direction::HigherIsBetter,
            sums: Sums::proportion(hit),
        }
    }

    /// The measure over `period` (literals).
    pub fn over(mut self, start: Expr, end: Expr) -> Self {
        self.period = Some((start, end));
        self
    }
}

/// The suffix of the sum columns of the `i`-th set of sums: none for a
/// single set (the columns keep their names).
fn sum_set(i: usize, several: bool) -> String {
    if several {
        format!("#{i}")
    } else {
        String::new()
    }
}

/// The sums of every set in `sums` of the units of `frame` (its `columns`
/// placing each unit: cohort, segment columns, `keys`) per cohort and
/// segment row and `keys`: per account first when `per_account`. The
/// units carry each distinct value once ([`UnitValues`]).
fn aggregate(
    frame: LazyFrame,
    mut columns: Vec<Expr>,
    sums: Vec<Sums>,
    per_account: bool,
    segment_by: &[String],
    keys: &[&str],
) -> LazyFrame {
    let several = sums.len() > 1;
    let sets: Vec<String> = (0..sums.len()).map(|i| sum_set(i, several)).collect();
    if per_account {
        columns.push(col("account_id").alias("cluster"));
    }
    let mut values = UnitValues::default();
    for (sums, set) in sums.into_iter().zip(&sets) {
        let parts = sums.named_parts(set);
        let used = if per_account {
            parts.len()
        } else {
            UNIT_SUM_COLUMNS
        };
        for (name, expr) in parts.into_iter().take(used) {
            values.add(name, expr);
        }
    }
    columns.extend(values.selected());
    let units = frame.select(columns);
    let finest = rollup::Finest {
        sums: values.sums(),
        named: values.named(),
    };
    if per_account {
        clustered_by_cohort_and_segment(units, finest, segment_by, keys, &sets)
    } else {
        unclustered(units, finest, segment_by, keys, &sets)
    }
}

#[cfg(test)]
mod tests;
