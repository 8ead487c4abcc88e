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
        Column::new("estimate".into(), text(&|r| Some(r.estimate.to_string()))),
        Column::new(
            "family".into(),
            text(&|r| Some(r.family.as_str().to_string())),
        ),
        Column::new("quantity".into(), text(&|r| Some(r.quantity.to_string()))),
        Column::new("value".into(), number(&|r| Some(r.value))),
        Column::new("ci_low".into(), number(&|r| r.ci_low)),
        Column::new("ci_high".into(), number(&|r| r.ci_high)),
        Column::new("unit".into(), text(&|r| Some(r.unit.to_string()))),
        Column::new("currency".into(), text(&|r| r.currency.clone())),
        Column::new("basis".into(), text(&|r| Some(r.basis.clone()))),
    ];
    DataFrame::new_infer_height(columns)
        .map_err(|e| Error::other(format!("building table `impact`: {e}")))
}
