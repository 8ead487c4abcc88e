//! The frames of the fold's states: one row per subject the rows reached,
//! with the columns of the polars plan of the same reduction.

use polars::prelude::*;

use super::reduce::SummaryField;
use super::{Fold, Reduction, State, Subject, Types, NONE, NO_FIRST, NO_LAST};

impl Fold {
    /// The frame of `reduction` from its folded `state`.
    pub(super) fn frame(
        &self,
        reduction: &Reduction,
        state: &State,
        types: &Types,
    ) -> PolarsResult<DataFrame> {
        let index = |subject: &Subject| match subject {
            Subject::Account => (&self.accounts, &types.account),
            Subject::User => (&self.users, &types.user),
        };
        let date = |name: &str, values: Vec<Option<i32>>| -> PolarsResult<Column> {
            Ok(Series::new(name.into(), values)
                .cast(&DataType::Date)?
                .into())
        };
        let known = |day: i32, none: i32| (day != none).then_some(day);
        match (reduction, state) {
            (
                Reduction::Summary { fields, .. },
                State::Summary {
                    subject,
                    codes,
                    days,
                },
            ) => {
                let width = codes.len() + 1;
                let (ids, dtype) = index(subject);
                let rows: Vec<u32> = (0..(days.len() / width) as u32)
                    .filter(|s| days[*s as usize * width] != NO_LAST)
                    .collect();
                let mut columns = vec![ids.column("subject_id", &rows, dtype)?];
                let mut names = vec!["last_day".to_string()];
                names.extend(fields.iter().map(SummaryField::column));
                for (f, name) in names.iter().enumerate() {
                    let values = rows
                        .iter()
                        .map(|s| known(days[*s as usize * width + f], NO_LAST))
                        .collect();
                    columns.push(date(name, values)?);
                }
                DataFrame::new_infer_height(columns)
            }
            (
                _,
                State::Active {
                    subject,
                    words,
                    bits,
                    ..
                },
            ) => {
                let (ids, dtype) = index(subject);
                let counts: Vec<u32> = bits
                    .chunks(*words)
                    .map(|w| w.iter().map(|b| b.count_ones()).sum())
                    .collect();
                let rows: Vec<u32> = (0..counts.len() as u32)
                    .filter(|s| counts[*s as usize] > 0)
                    .collect();
                let active: Vec<u32> = rows.iter().map(|s| counts[*s as usize]).collect();
                DataFrame::new_infer_height(vec![
                    ids.column("subject_id", &rows, dtype)?,
                    Column::new("active_days".into(), active),
                ])
            }
            (_, State::First { days, .. }) => {
                let rows: Vec<u32> = (0..days.len() as u32)
                    .filter(|a| days[*a as usize] != NO_FIRST)
                    .collect();
                let first = rows.iter().map(|a| Some(days[*a as usize])).collect();
                DataFrame::new_infer_height(vec![
                    self.accounts.column("account_id", &rows, &types.account)?,
                    date("first_day", first)?,
                ])
            }
            (_, State::Users { first, more }) => {
                let mut pairs: Vec<(u32, u32)> = (0..first.len() as u32)
                    .filter(|u| first[*u as usize] != NONE)
                    .map(|u| (u, first[u as usize]))
                    .collect();
                let mut more: Vec<(u32, u32)> = more.iter().copied().collect();
                more.sort_unstable();
                pairs.extend(more);
                let (users, accounts): (Vec<u32>, Vec<u32>) = pairs.into_iter().unzip();
                DataFrame::new_infer_height(vec![
                    self.users.column("user_id", &users, &types.user)?,
                    self.accounts
                        .column("account_id", &accounts, &types.account)?,
                ])
            }
            (_, State::Names { subject, used }) => {
                let (ids, dtype) = index(subject);
                let dictionary = self.dictionary.as_ref().ok_or_else(
                    || polars_err!(ComputeError: "the fold kept no dictionary of names"),
                )?;
                let (rows, names) = used.pairs(dictionary);
                DataFrame::new_infer_height(vec![
                    ids.column("subject_id", &rows, dtype)?,
                    Column::new("event_name".into(), names),
                ])
            }
            _ => polars_bail!(ComputeError: "a reduction and a fold state that do not match"),
        }
    }
}
