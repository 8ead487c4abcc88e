//! The closed enum of metric configurations. A pipeline entry is an id
//! (`- nps`) or an id mapped to its parameters (`- csat: { satisfied_min: 4 }`);
//! unknown ids and unknown parameters are errors that carry the YAML location.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::presentation::Presentation;
use super::Metric;

macro_rules! metric_registry {
    ($( $(#[$meta:meta])* $id:literal => $variant:ident($params:ty) as $presentation:expr ),* $(,)?) => {
        /// A configured metric: its id and parameters.
        #[derive(Debug, Clone)]
        pub enum MetricConfig {
            $( $(#[$meta])* $variant($params), )*
        }

        impl MetricConfig {
            /// Every metric id, in catalog order.
            pub fn ids() -> Vec<&'static str> {
                let mut ids = Vec::new();
                $( $(#[$meta])* ids.push($id); )*
                ids
            }

            pub fn id(&self) -> &'static str {
                match self { $( $(#[$meta])* MetricConfig::$variant(_) => $id, )* }
            }

            pub fn metric(&self) -> &dyn Metric {
                match self { $( $(#[$meta])* MetricConfig::$variant(p) => p, )* }
            }

            /// How the metric is presented (title, unit, theme, tier, headline).
            pub fn presentation(&self) -> Presentation {
                match self { $( $(#[$meta])* MetricConfig::$variant(_) => $presentation, )* }
            }

            /// Each metric with default parameters, for the catalog.
            pub fn catalog() -> Vec<MetricConfig> {
                let mut all = Vec::new();
                $( $(#[$meta])* all.push(MetricConfig::$variant(<$params>::default())); )*
                all
            }

            /// The metric of `id` with default parameters (None for an unknown id).
            pub fn by_id(id: &str) -> Option<MetricConfig> {
                match id {
                    $( $(#[$meta])* $id => Some(MetricConfig::$variant(<$params>::default())), )*
                    _ => None,
                }
            }

            fn with_params<'de, A: MapAccess<'de>>(id: &str, map: &mut A) -> Result<Self, A::Error> {
                match id {
                    $( $(#[$meta])* $id => Ok(MetricConfig::$variant(
                        map.next_value::<Option<$params>>()?.map_or_else(params_from_empty::<$params, A::Error>, Ok)?,
                    )), )*
                    other => Err(unknown_metric(other)),
                }
            }

            fn without_params<E: de::Error>(id: &str) -> Result<Self, E> {
                match id {
                    $( $(#[$meta])* $id => Ok(MetricConfig::$variant(params_from_empty::<$params, E>()?)), )*
                    other => Err(unknown_metric(other)),
                }
            }

            fn serialize_params<S: SerializeMap>(&self, map: &mut S) -> Result<(), S::Error> {
                match self { $( $(#[$meta])* MetricConfig::$variant(p) => map.serialize_entry($id, p), )* }
            }

            fn params_schemas(generator: &mut SchemaGenerator) -> Vec<(&'static str, Schema)> {
                let mut schemas = Vec::new();
                $( $(#[$meta])* schemas.push(($id, generator.subschema_for::<$params>())); )*
                schemas
            }
        }
    };
}

use super::presentation::{Presentation as P, Theme::*, Tier::*, Unit};

// One line per metric: its id, its parameters (the metric's module), and
// how it is presented (docs/METRICS.md, "Metric catalog"). The only place a
// metric id is written.
metric_registry! {
    "logo_retention" => LogoRetention(super::retention::logo_retention::LogoRetention)
        as P::new("Logo retention", Retention, Secondary),
    "churn_rate" => ChurnRate(super::retention::churn_rate::ChurnRate)
        as P::new("Churn rate", Retention, Primary).headline(1),
    "monthly_churn_rate" => MonthlyChurnRate(super::retention::monthly_churn_rate::MonthlyChurnRate)
        as P::new("Monthly churn rate", Retention, Secondary),
    "retention_curve" => RetentionCurve(super::retention::retention_curve::RetentionCurve)
        as P::new("Retention curve", Retention, Secondary),
    "survival" => Survival(super::retention::survival::Survival)
        as P::new("Survival", Retention, Primary).headline_row(3, "rmst_days=")
        .units("accounts from their landmark"),
    "revenue_movements" => RevenueMovements(super::revenue::revenue_movements::RevenueMovements)
        as P::new("Revenue movements", Revenue, Secondary).unit(Unit::Money),
    "expansion_revenue_rate" => ExpansionRevenueRate(super::revenue::expansion_revenue_rate::ExpansionRevenueRate)
        as P::new("Expansion revenue rate", Revenue, Secondary),
    "net_revenue_retention" => NetRevenueRetention(super::revenue::net_revenue_retention::NetRevenueRetention)
        as P::new("Net revenue retention", Revenue, Primary).headline(2)
        .units("accounts with revenue at the start"),
    "gross_revenue_retention" => GrossRevenueRetention(super::revenue::gross_revenue_retention::GrossRevenueRetention)
        as P::new("Gross revenue retention", Revenue, Secondary)
        .units("accounts with revenue at the start"),
    "upsell_rate" => UpsellRate(super::revenue::upsell_rate::UpsellRate)
        as P::new("Upsell rate", Revenue, Secondary),
    "customer_lifetime_value" => CustomerLifetimeValue(super::revenue::customer_lifetime_value::CustomerLifetimeValue)
        as P::new("Customer lifetime value", Revenue, Secondary).unit(Unit::Money),
    "active_user_rate" => ActiveUserRate(super::adoption::active_user_rate::ActiveUserRate)
        as P::new("Active user rate", Adoption, Secondary),
    "feature_adoption_rate" => FeatureAdoptionRate(super::adoption::feature_adoption_rate::FeatureAdoptionRate)
        as P::new("Feature adoption rate", Adoption, Secondary),
    "key_action_rate" => KeyActionRate(super::adoption::key_action_rate::KeyActionRate)
        as P::new("Key action rate", Adoption, Secondary),
    "key_action_correlation" => KeyActionCorrelation(super::adoption::key_action_correlation::KeyActionCorrelation)
        as P::new("Key action correlation", Adoption, Secondary).unit(Unit::Number)
        .descriptive("an association of training with the key action, written once for the cohort `all`; it has no trained-versus-untrained row"),
    "return_rate" => ReturnRate(super::adoption::return_rate::ReturnRate)
        as P::new("Return rate", Adoption, Secondary),
    "time_to_first_value" => TimeToFirstValue(super::adoption::time_to_first_value::TimeToFirstValue)
        as P::new("Time to first value", Adoption, Secondary).unit(Unit::Days),
    "training_completion_rate" => TrainingCompletionRate(super::education::training_completion_rate::TrainingCompletionRate)
        as P::new("Training completion rate", Education, Secondary)
        .descriptive("a completion by the landmark is what makes an account trained"),
    "knowledge_retention" => KnowledgeRetention(super::education::knowledge_retention::KnowledgeRetention)
        as P::new("Knowledge retention", Education, Secondary)
        .descriptive("only accounts with completions have scores, and completing is what makes an account trained"),
    "education_engagement" => EducationEngagement(super::education::education_engagement::EducationEngagement)
        as P::new("Education engagement", Education, Secondary).unit(Unit::Number)
        .descriptive("enrolling in or completing training is itself the training activity that defines the trained"),
    "support_incident_rate" => SupportIncidentRate(super::success::support_incident_rate::SupportIncidentRate)
        as P::new("Tickets per account", SupportAndSuccess, Guardrail).unit(Unit::Number)
        .counting("tickets per account in the period").headline(5),
    "save_rate" => SaveRate(super::success::save_rate::SaveRate)
        as P::new("Save rate", SupportAndSuccess, Secondary),
    "customer_base_coverage" => CustomerBaseCoverage(super::success::customer_base_coverage::CustomerBaseCoverage)
        as P::new("Customer base coverage", SupportAndSuccess, Secondary),
    "referral_rate" => ReferralRate(super::success::referral_rate::ReferralRate)
        as P::new("Referral rate", SupportAndSuccess, Secondary),
    "nps" => Nps(super::survey::nps::Nps)
        as P::new("NPS", Satisfaction, Guardrail).unit(Unit::Nps).headline(4)
        .units("survey responses"),
    "csat" => Csat(super::survey::csat::Csat)
        as P::new("CSAT (satisfied share)", Satisfaction, Guardrail).unit(Unit::Percent).headline(6)
        .units("survey responses"),
    "health_score" => HealthScore(super::health_score::HealthScore)
        as P::new("Health score", Adoption, Secondary).unit(Unit::Number)
        .counting("points out of 100"),
    // A metric registered for the tests only: the catalog and the report
    // find its presentation here like any other's.
    #[cfg(test)]
    "test_only_days" => TestOnlyDays(super::test_only::TestOnlyDays)
        as P::new("Days to a test", Education, Secondary).unit(Unit::Days),
}

impl MetricConfig {
    /// The unit of the metric's rows of `dimension`.
    pub fn unit_of(&self, dimension: Option<&str>) -> Unit {
        dimension
            .and_then(|d| self.metric().unit_of_dimension(d))
            .unwrap_or(self.presentation().unit)
    }
}

impl crate::config::MetricEntry for MetricConfig {
    fn id(&self) -> &str {
        MetricConfig::id(self)
    }

    fn compared(&self) -> bool {
        self.presentation().comparable()
    }

    /// Parameter problems, each prefixed with the metric's id.
    fn problems(&self) -> Vec<String> {
        self.metric()
            .check_config()
            .into_iter()
            .map(|p| format!("metric `{}`: {p}", self.id()))
            .collect()
    }
}

/// Parameters of a metric given as a bare id: every field takes its default,
/// and a required field is reported as missing.
fn params_from_empty<'de, P: Deserialize<'de>, E: de::Error>() -> Result<P, E> {
    let empty = de::value::MapDeserializer::<_, E>::new(std::iter::empty::<(&str, &str)>());
    P::deserialize(empty)
}

fn unknown_metric<E: de::Error>(id: &str) -> E {
    E::custom(format!(
        "unknown metric `{id}`; run `cohort-metrics metrics` for the catalog: {}",
        MetricConfig::ids().join(", ")
    ))
}

impl<'de> Deserialize<'de> for MetricConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = MetricConfig;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a metric id, or a metric id mapped to its parameters")
            }
            fn visit_str<E: de::Error>(self, id: &str) -> Result<MetricConfig, E> {
                MetricConfig::without_params(id)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MetricConfig, A::Error> {
                let Some(id) = map.next_key::<String>()? else {
                    return Err(de::Error::custom(
                        "empty metric entry: expected `id` or `id: {params}`",
                    ));
                };
                let config = MetricConfig::with_params(&id, &mut map)?;
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "a metric entry maps one id to its parameters; found a second key `{extra}` (start a new `- ` list item)"
                    )));
                }
                Ok(config)
            }
        }
        deserializer.deserialize_any(EntryVisitor)
    }
}

impl Serialize for MetricConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        self.serialize_params(&mut map)?;
        map.end()
    }
}

impl JsonSchema for MetricConfig {
    fn schema_name() -> Cow<'static, str> {
        "MetricConfig".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut variants = vec![serde_json::json!({
            "description": "A metric id with default parameters.",
            "type": "string",
            "enum": MetricConfig::ids(),
        })];
        for (id, params) in MetricConfig::params_schemas(generator) {
            variants.push(serde_json::json!({
                "type": "object",
                "additionalProperties": false,
                "required": [id],
                "properties": { id: params },
            }));
        }
        Schema::try_from(serde_json::json!({ "oneOf": variants })).unwrap_or_default()
    }
}
