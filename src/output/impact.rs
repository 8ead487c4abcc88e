//! The `impact` table (docs/OUTPUTS.md#impact): the money rows of the
//! statistics stage.

use polars::prelude::*;

use super::tables::RunColumns;
use crate::error::{Error, Result};
use crate::stats::impact::ImpactRow;
use crate::time::date_to_days;

/// The `impact` table, in the order of its rows (the lift table's order,
/// naive before adjusted).
pub fn impact_table(run: &RunColumns, rows: &[ImpactRow]) -> Result<DataFrame> {
    let n = rows.len();
    let text = |f: &dyn Fn(&ImpactRow) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let number = |f: &dyn Fn(&ImpactRow) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
    let as_of = Column::new("as_of".into(), vec![date_to_days(run.as_of); n])
        .cast(&DataType::Date)
        .map_err(|e| Error::other(format!("building `impact`: {e}")))?;
    let columns = vec![
        Column::new("run_id".into(), vec![run.run_id.clone(); n]),
        as_of,
        Column::new("metric".into(), text(&|r| Some(r.metric.clone()))),
        Column::new("dimension".into(), text(&|r| r.dimension.clone())),
        Column::new("estimate".into(), text(&|r| Some(r.estimate.clone()))),
        Column::new(
            "family".into(),
            text(&|r| Some(r.family.as_str().to_string())),
        ),
        Column::new("quantity".into(), text(&|r| Some(r.quantity.clone()))),
        Column::new("value".into(), number(&|r| Some(r.value))),
        Column::new("ci_low".into(), number(&|r| r.ci_low)),
        Column::new("ci_high".into(), number(&|r| r.ci_high)),
        Column::new("unit".into(), text(&|r| Some(r.unit.clone()))),
        Column::new("currency".into(), text(&|r| r.currency.clone())),
        Column::new("basis".into(), text(&|r| Some(r.basis.clone()))),
    ];
    DataFrame::new_infer_height(columns)
        .map_err(|e| Error::other(format!("building table `impact`: {e}")))
}

/// The rows of an `impact` table as [`impact_table`] writes them (the
/// report's bottom line reads them back).
pub fn read_impact(df: &DataFrame) -> Result<Vec<ImpactRow>> {
    if df.height() == 0 {
        return Ok(Vec::new());
    }
    let c = crate::stats::FrameColumns::new(df, "impact");
    let (metric, dimension, estimate) =
        (c.text("metric")?, c.text("dimension")?, c.text("estimate")?);
    let (family, quantity, unit) = (c.text("family")?, c.text("quantity")?, c.text("unit")?);
    let (currency, basis) = (c.text("currency")?, c.text("basis")?);
    let (value, low, high) = (
        c.number("value")?,
        c.number("ci_low")?,
        c.number("ci_high")?,
    );
    let text = |column: &StringChunked, i: usize| column.get(i).map(str::to_string);
    (0..df.height())
        .map(|i| {
            let name = family.get(i).unwrap_or_default();
            Ok(ImpactRow {
                metric: text(&metric, i).unwrap_or_default(),
                dimension: text(&dimension, i),
                estimate: text(&estimate, i).unwrap_or_default(),
                family: crate::stats::Family::from_name(name).ok_or_else(|| {
                    Error::other(format!("reading `impact`: unknown family `{name}`"))
                })?,
                quantity: text(&quantity, i).unwrap_or_default(),
                value: value.get(i).unwrap_or(f64::NAN),
                ci_low: low.get(i),
                ci_high: high.get(i),
                unit: text(&unit, i).unwrap_or_default(),
                currency: text(&currency, i),
                basis: text(&basis, i).unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impact_rows_read_back_as_written() {
        let rows = vec![
            ImpactRow {
                metric: "churn_rate".into(),
                dimension: None,
                estimate: "adjusted".into(),
                family: crate::stats::Family::Primary,
                quantity: "revenue_kept_per_year".into(),
                value: 658_357.25,
                ci_low: Some(412_678.0),
                ci_high: Some(904_036.5),
                unit: "money".into(),
                currency: Some("USD".into()),
                basis: "−difference × 365504".into(),
            },
            ImpactRow {
                metric: "support_incident_rate".into(),
                dimension: None,
                estimate: "naive".into(),
                family: crate::stats::Family::Guardrail,
                quantity: "tickets_avoided_per_year".into(),
                value: 444.6,
                ci_low: None,
                ci_high: None,
                unit: "tickets".into(),
                currency: None,
                basis: "−difference × 552 trained accounts".into(),
            },
        ];
        let run = RunColumns {
            run_id: "r".into(),
            as_of: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        };
        let table = impact_table(&run, &rows).unwrap();
        assert_eq!(read_impact(&table).unwrap(), rows);
        assert_eq!(read_impact(&DataFrame::empty()).unwrap(), Vec::new());
    }
}
