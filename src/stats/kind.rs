//! What a summed aggregate measures, and which way is good news.

/// How the statistics stage turns sums into a value, an interval and a lift
/// p-value (SPEC §6).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// x/n with a Wilson interval; pooled two-proportion z-test.
    Proportion,
    /// 100·x/n with the Wilson interval × 100 (CSAT).
    Percent,
    /// NPS from promoters (`a1`), detractors (`a2`) and responses (`den`).
    Nps,
    /// Mean of values: `num` = Σx, `sq` = Σx², `den` = count; Welch z.
    Mean,
    /// Counts per account: `num` = count, `den` = accounts; Poisson.
    Rate,
    /// A count (`num`) with its Poisson interval; `den` = accounts; no p-value.
    Count,
    /// A median (`num`) of `n` values: no interval, no p-value.
    Median,
    /// A 2×2 association of cohort (trained/untrained) and an outcome
    /// (`num` of `den`): one row for the cohort `all`, no lift row.
    Association(Association),
    /// A ratio of sums: no interval, no p-value. `numerator`/`denominator`
    /// are the sums divided by `divisor` (100 for sums kept in cents).
    Ratio { divisor: f64 },
    /// Customer lifetime value: `a1` = Σ MRR (cents), `a2` = account-months
    /// with MRR > 0, `num`/`den` = retained/pop(S); no interval.
    LifetimeValue { months: u32, margin: f64 },
}

/// Measures of association for [`Kind::Association`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Association {
    Phi,
    Tetrachoric,
}

/// Whether a higher value of the metric is good news (the `direction` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::HigherIsBetter => "higher_is_better",
            Direction::LowerIsBetter => "lower_is_better",
        }
    }
}

/// The sum columns every aggregate frame carries, in the order of [`Totals`].
pub const SUM_COLUMNS: [&str; 6] = ["num", "den", "sq", "a1", "a2", "n"];

/// Summed contributions of one cohort: what a metric's units add up to
/// (`metrics::aggregate::Sums` says what one unit contributes).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    pub num: f64,
    pub den: f64,
    pub sq: f64,
    pub a1: f64,
    pub a2: f64,
    pub n: f64,
}
