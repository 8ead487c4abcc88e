//! How a metric is presented, written once in the registry beside its id
//! (docs/METRICS.md, "Metric catalog"): its title for people, the unit of
//! its values, its theme and tier in the report, its place in the headline,
//! and whether comparing its trained and untrained values says anything.
//! The catalog, the report and the terminal headline read these; none of
//! them keeps a list of metric ids of its own.

/// The unit of a metric's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A share 0–1, written as a percentage; differences in points.
    Share,
    /// A percentage 0–100 (CSAT); differences in points.
    Percent,
    /// NPS, −100 to 100; differences in NPS points.
    Nps,
    /// Days.
    Days,
    /// Money per account.
    Money,
    /// Anything else (counts per account, scores).
    Number,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::Share => "share",
            Unit::Percent => "percent",
            Unit::Nps => "NPS points",
            Unit::Days => "days",
            Unit::Money => "money",
            Unit::Number => "number",
        }
    }
}

/// The theme a metric is grouped under, in the report's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Retention,
    Revenue,
    Satisfaction,
    Adoption,
    Education,
    SupportAndSuccess,
}

impl Theme {
    /// Every theme, in the report's order.
    pub const ALL: [Theme; 6] = [
        Theme::Retention,
        Theme::Revenue,
        Theme::Satisfaction,
        Theme::Adoption,
        Theme::Education,
        Theme::SupportAndSuccess,
    ];

    /// The theme's heading in the report.
    pub fn title(self) -> &'static str {
        match self {
            Theme::Retention => "Retention",
            Theme::Revenue => "Revenue",
            Theme::Satisfaction => "Satisfaction",
            Theme::Adoption => "Adoption",
            Theme::Education => "Education",
            Theme::SupportAndSuccess => "Guardrails: support and success",
        }
    }

    /// Whether the theme's metrics are guardrails (their own warning).
    pub fn is_guardrails(self) -> bool {
        self == Theme::SupportAndSuccess
    }
}

/// The headline's tiers: primary outcomes, then secondary ones, then the
/// guardrails, which have their own warning state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Primary,
    Secondary,
    Guardrail,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Primary, Tier::Secondary, Tier::Guardrail];

    pub fn name(self) -> &'static str {
        match self {
            Tier::Primary => "primary",
            Tier::Secondary => "secondary",
            Tier::Guardrail => "guardrail",
        }
    }

    /// The tier's heading in the report.
    pub fn heading(self) -> &'static str {
        match self {
            Tier::Primary => "Primary outcomes: retention and revenue",
            Tier::Secondary => "Secondary outcomes",
            Tier::Guardrail => "Guardrails: support load and satisfaction must not get worse",
        }
    }
}

/// A metric's place in the headline: its rank, and the dimension prefix of
/// the row shown (None: the overall row without a dimension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadlinePlace {
    pub rank: u8,
    pub dimension: Option<&'static str>,
}

/// How one metric is presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presentation {
    pub title: &'static str,
    pub theme: Theme,
    pub tier: Tier,
    /// The unit of its rows; a metric may give some dimensions another
    /// (`Metric::unit_of_dimension`).
    pub unit: Unit,
    pub headline: Option<HeadlinePlace>,
    /// Why the comparison is circular, where the cohorts differ by
    /// construction (education metrics measure the training that defines
    /// the cohorts): its lift rows carry no test
    /// (docs/STATISTICS.md#descriptive-metrics). None for a compared metric.
    pub descriptive: Option<&'static str>,
    /// What a value of a `Number` unit counts, in words ("tickets per
    /// account in the period"), shown after the number; None: a bare number.
    pub counting: Option<&'static str>,
    /// What the n of its rows counts, in words ("accounts" unless set).
    pub units: &'static str,
}

impl Presentation {
    /// A metric of `theme` and `tier` whose rows are shares, compared
    /// between cohorts, not in the headline.
    pub const fn new(title: &'static str, theme: Theme, tier: Tier) -> Presentation {
        Presentation {
            title,
            theme,
            tier,
            unit: Unit::Share,
            headline: None,
            descriptive: None,
            counting: None,
            units: "accounts",
        }
    }

    pub const fn unit(self, unit: Unit) -> Presentation {
        Presentation { unit, ..self }
    }

    /// In the headline at `rank`, with its overall row.
    pub const fn headline(self, rank: u8) -> Presentation {
        Presentation {
            headline: Some(HeadlinePlace {
                rank,
                dimension: None,
            }),
            ..self
        }
    }

    /// In the headline at `rank`, with its row whose dimension starts with
    /// `prefix`.
    pub const fn headline_row(self, rank: u8, prefix: &'static str) -> Presentation {
        Presentation {
            headline: Some(HeadlinePlace {
                rank,
                dimension: Some(prefix),
            }),
            ..self
        }
    }

    /// Its trained-vs-untrained comparison is descriptive only, for `reason`.
    pub const fn descriptive(self, reason: &'static str) -> Presentation {
        Presentation {
            descriptive: Some(reason),
            ..self
        }
    }

    /// Its values count `what` (a `Number` unit's words).
    pub const fn counting(self, what: &'static str) -> Presentation {
        Presentation {
            counting: Some(what),
            ..self
        }
    }

    /// The n of its rows counts `units` (survey responses, accounts from
    /// their landmark, …).
    pub const fn units(self, units: &'static str) -> Presentation {
        Presentation { units, ..self }
    }

    /// Whether its trained and untrained values are compared with a test.
    pub const fn comparable(&self) -> bool {
        self.descriptive.is_none()
    }
}
