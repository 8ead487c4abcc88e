//! The closed enum of metric configurations. A pipeline entry is an id
//! (`- nps`) or an id mapped to its parameters (`- csat: { satisfied_min: 4 }`);
//! unknown ids and unknown parameters are errors that carry the YAML location.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Metric;

macro_rules! metric_registry {
    ($( $id:literal => $variant:ident($params:ty) ),* $(,)?) => {
        /// A configured metric: its id and parameters.
        #[derive(Debug, Clone)]
        pub enum MetricConfig {
            $( $variant($params), )*
        }

        impl MetricConfig {
            /// Every metric id, in catalog order.
            pub const IDS: &'static [&'static str] = &[$($id),*];

            pub fn id(&self) -> &'static str {
                match self { $( MetricConfig::$variant(_) => $id, )* }
            }

            pub fn metric(&self) -> &dyn Metric {
                match self { $( MetricConfig::$variant(p) => p, )* }
            }

            /// Each metric with default parameters, for the catalog.
            pub fn catalog() -> Vec<MetricConfig> {
                vec![$( MetricConfig::$variant(<$params>::default()), )*]
            }

            fn with_params<'de, A: MapAccess<'de>>(id: &str, map: &mut A) -> Result<Self, A::Error> {
                match id {
                    $( $id => Ok(MetricConfig::$variant(
                        map.next_value::<Option<$params>>()?.map_or_else(params_from_empty::<$params, A::Error>, Ok)?,
                    )), )*
                    other => Err(unknown_metric(other)),
                }
            }

            fn without_params<E: de::Error>(id: &str) -> Result<Self, E> {
                match id {
                    $( $id => Ok(MetricConfig::$variant(params_from_empty::<$params, E>()?)), )*
                    other => Err(unknown_metric(other)),
                }
            }

            fn serialize_params<S: SerializeMap>(&self, map: &mut S) -> Result<(), S::Error> {
                match self { $( MetricConfig::$variant(p) => map.serialize_entry($id, p), )* }
            }

            fn params_schemas(generator: &mut SchemaGenerator) -> Vec<(&'static str, Schema)> {
                vec![$( ($id, generator.subschema_for::<$params>()), )*]
            }
        }
    };
}

metric_registry! {
    "logo_retention" => LogoRetention(super::retention::logo_retention::LogoRetention),
    "churn_rate" => ChurnRate(super::retention::churn_rate::ChurnRate),
    "monthly_churn_rate" => MonthlyChurnRate(super::retention::monthly_churn_rate::MonthlyChurnRate),
    "retention_curve" => RetentionCurve(super::retention::retention_curve::RetentionCurve),
    "survival" => Survival(super::retention::survival::Survival),
    "revenue_movements" => RevenueMovements(super::revenue::revenue_movements::RevenueMovements),
    "expansion_revenue_rate" => ExpansionRevenueRate(super::revenue::expansion_revenue_rate::ExpansionRevenueRate),
    "net_revenue_retention" => NetRevenueRetention(super::revenue::net_revenue_retention::NetRevenueRetention),
    "gross_revenue_retention" => GrossRevenueRetention(super::revenue::gross_revenue_retention::GrossRevenueRetention),
    "upsell_rate" => UpsellRate(super::revenue::upsell_rate::UpsellRate),
    "customer_lifetime_value" => CustomerLifetimeValue(super::revenue::customer_lifetime_value::CustomerLifetimeValue),
    "active_user_rate" => ActiveUserRate(super::adoption::active_user_rate::ActiveUserRate),
    "feature_adoption_rate" => FeatureAdoptionRate(super::adoption::feature_adoption_rate::FeatureAdoptionRate),
    "key_action_rate" => KeyActionRate(super::adoption::key_action_rate::KeyActionRate),
    "key_action_correlation" => KeyActionCorrelation(super::adoption::key_action_correlation::KeyActionCorrelation),
    "return_rate" => ReturnRate(super::adoption::return_rate::ReturnRate),
    "time_to_first_value" => TimeToFirstValue(super::adoption::time_to_first_value::TimeToFirstValue),
    "training_completion_rate" => TrainingCompletionRate(super::education::training_completion_rate::TrainingCompletionRate),
    "knowledge_retention" => KnowledgeRetention(super::education::knowledge_retention::KnowledgeRetention),
    "education_engagement" => EducationEngagement(super::education::education_engagement::EducationEngagement),
    "support_incident_rate" => SupportIncidentRate(super::success::support_incident_rate::SupportIncidentRate),
    "save_rate" => SaveRate(super::success::save_rate::SaveRate),
    "customer_base_coverage" => CustomerBaseCoverage(super::success::customer_base_coverage::CustomerBaseCoverage),
    "referral_rate" => ReferralRate(super::success::referral_rate::ReferralRate),
    "nps" => Nps(super::survey::nps::Nps),
    "csat" => Csat(super::survey::csat::Csat),
    "health_score" => HealthScore(super::health_score::HealthScore),
}

impl crate::config::MetricEntry for MetricConfig {
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
        MetricConfig::IDS.join(", ")
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
            "enum": MetricConfig::IDS,
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
