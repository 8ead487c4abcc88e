//! What a summed aggregate measures, and which way is good news.

/// How the statistics stage turns sums into a value, an interval and a lift
/// p-value (docs/STATISTICS.md).
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
    /// Counts per account: `num` = Σ counts, `sq` = Σ counts², `den` =
    /// accounts; the variance s²/n of the accounts' counts.
    Rate,
    /// A median (`num`) of `n` values: no interval, no p-value.
    Median,
    /// A 2×2 association of cohort (trained/untrained) and an outcome
    /// (`num` of `den`): one row for the cohort `all`, no lift row.
    Association(Association),
    /// A ratio of sums over accounts (`num`/`den`) with its delta-method
    /// interval and Wald test. `numerator`/`denominator` are the sums
    /// divided by `divisor` (100 for sums kept in cents).
    Ratio { divisor: f64 },
    /// Customer lifetime value over a horizon: `a1` = Σ MRR (cents), `a2` =
    /// account-months with MRR > 0 (the plan's cluster pair), `num`/`den` =
    /// retained/pop(S); an interval on the log scale and a Wald test.
    LifetimeValue(super::lifetime::Lifetime),
}

impl Kind {
    /// Whether the kind is a mean of unit values (a share, a percentage, an
    /// NPS, a mean), so that nested units take the cluster-robust variance.
    pub fn clusterable(self) -> bool {
        matches!(
            self,
            Kind::Proportion | Kind::Percent | Kind::Nps | Kind::Mean
        )
    }
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

    /// The direction written as in the `lift` table's `direction` column.
    pub fn from_name(name: &str) -> Option<Direction> {
        [Direction::HigherIsBetter, Direction::LowerIsBetter]
            .into_iter()
            .find(|d| d.as_str() == name)
    }
}

/// The sum columns every aggregate frame carries, in the order of [`Totals`]:
/// the units' sums, then the per-account (cluster) sums.
pub const SUM_COLUMNS: [&str; 10] = [
    "num", "den", "sq", "a1", "a2", "n", "clusters", "cxx", "cxy", "cyy",
];

/// The sums of [`SUM_COLUMNS`] that units contribute directly; the rest are
/// computed from each account's totals.
pub const UNIT_SUM_COLUMNS: usize = 6;

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
    /// Accounts behind the units (G).
    pub clusters: f64,
    /// Σ over accounts of X², X·Y and Y², where X and Y are an account's
    /// totals of the plan's cluster pair (`num` and `den` unless the plan
    /// says otherwise): what the delta-method and cluster-robust variances
    /// of a ratio ΣX/ΣY need (docs/STATISTICS.md).
    pub cxx: f64,
    pub cxy: f64,
    pub cyy: f64,
}

impl std::ops::AddAssign for Totals {
    /// Totals of disjoint units add up field by field (strata of one cohort).
    fn add_assign(&mut self, other: Totals) {
        self.num += other.num;
        self.den += other.den;
        self.sq += other.sq;
        self.a1 += other.a1;
        self.a2 += other.a2;
        self.n += other.n;
        self.clusters += other.clusters;
        self.cxx += other.cxx;
        self.cxy += other.cxy;
        self.cyy += other.cyy;
    }
}

/// Below this absolute standardized mean difference a covariate level counts
/// as balanced between trained and untrained (docs/STATISTICS.md#balance).
pub const BALANCED_SMD: f64 = 0.1;
