//! The dense index of the activity fold: each subject id gets a position,
//! in the order the fold meets it (docs/ARCHITECTURE.md, "Activity").

use polars::prelude::*;
use rustc_hash::FxHashMap;

use super::NONE;
use crate::error::{Error, Result};

/// Ids of one kind (the run's id type) on a dense index, in the order
/// the fold met them. Integer ids that are small and not negative (most
/// systems count from 1) are found through a table indexed by the id
/// itself, one memory read per row; others through a hash map.
pub(super) enum Index {
    Int {
        table: Vec<u32>,
        map: FxHashMap<i64, u32>,
        ids: Vec<i64>,
    },
    Text(FxHashMap<String, u32>, Vec<String>),
}

/// The table of [`Index::Int`] is at most this long, or 16 × the ids met
/// (4 bytes per slot).
const TABLE_MIN: usize = 1 << 22;

impl Index {
    pub(super) fn new(dtype: &DataType) -> Result<Index> {
        match dtype {
            DataType::String => Ok(Index::Text(FxHashMap::default(), Vec::new())),
            dtype if dtype.is_integer() => Ok(Index::Int {
                table: Vec::new(),
                map: FxHashMap::default(),
                ids: Vec::new(),
            }),
            other => Err(Error::other(format!(
                "activity ids of type {other}: expected integers or text"
            ))),
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Index::Int { ids, .. } => ids.len(),
            Index::Text(_, ids) => ids.len(),
        }
    }

    /// Each row's position ([`NONE`] for a null id), adding new ids.
    pub(super) fn positions(&mut self, column: &Column) -> PolarsResult<Vec<u32>> {
        let mut out = Vec::with_capacity(column.len());
        match self {
            Index::Int { table, map, ids } => {
                let values = column.cast(&DataType::Int64)?;
                for array in values.i64()?.downcast_iter() {
                    let mut add = |v: i64| int_position(table, map, ids, v);
                    match array.validity().filter(|v| v.unset_bits() > 0) {
                        None => out.extend(array.values().iter().map(|v| add(*v))),
                        Some(valid) => {
                            out.extend(array.values().iter().zip(valid.iter()).map(|(v, ok)| {
                                if ok {
                                    add(*v)
                                } else {
                                    NONE
                                }
                            }))
                        }
                    }
                }
            }
            Index::Text(map, ids) => {
                for value in column.str()?.iter() {
                    out.push(match value {
                        None => NONE,
                        Some(v) => match map.get(v) {
                            Some(p) => *p,
                            None => {
                                ids.push(v.to_string());
                                let p = (ids.len() - 1) as u32;
                                map.insert(v.to_string(), p);
                                p
                            }
                        },
                    });
                }
            }
        }
        Ok(out)
    }

    /// The ids at `positions`, as a column `name` of `dtype`.
    pub(super) fn column(
        &self,
        name: &str,
        positions: &[u32],
        dtype: &DataType,
    ) -> PolarsResult<Column> {
        let series = match self {
            Index::Int { ids, .. } => Series::new(
                name.into(),
                positions
                    .iter()
                    .map(|p| ids[*p as usize])
                    .collect::<Vec<_>>(),
            ),
            Index::Text(_, ids) => Series::new(
                name.into(),
                positions
                    .iter()
                    .map(|p| ids[*p as usize].as_str())
                    .collect::<Vec<_>>(),
            ),
        };
        Ok(series.cast(dtype)?.into())
    }
}

/// The position of the integer id `v` (see [`Index::Int`]). The table's
/// length is a power of two, at most the larger of [`TABLE_MIN`] and 16 ×
/// the ids met; the map holds the ids beyond it (or negative).
fn int_position(
    table: &mut Vec<u32>,
    map: &mut FxHashMap<i64, u32>,
    ids: &mut Vec<i64>,
    v: i64,
) -> u32 {
    let slot = usize::try_from(v).ok();
    let in_table = slot.filter(|slot| *slot < table.len());
    if let Some(slot) = in_table {
        if table[slot] != NONE {
            return table[slot];
        }
    } else if let Some(p) = map.get(&v) {
        return *p;
    }
    ids.push(v);
    let p = (ids.len() - 1) as u32;
    let grown = slot
        .map(|slot| (slot + 1).next_power_of_two())
        .filter(|len| *len <= TABLE_MIN.max(16 * ids.len()));
    match (in_table, grown) {
        (Some(slot), _) => table[slot] = p,
        (None, Some(len)) => {
            table.resize(len, NONE);
            // Ids met before the table reached them move into it.
            map.retain(|id, position| match usize::try_from(*id) {
                Ok(slot) if slot < len => {
                    table[slot] = *position;
                    false
                }
                _ => true,
            });
            table[slot.unwrap_or_default()] = p;
        }
        (None, None) => {
            map.insert(v, p);
        }
    }
    p
}

/// The values of `column`, `null` for a null.
pub(super) fn values<T>(column: &ChunkedArray<T>, null: T::Native) -> Vec<T::Native>
where
    T: PolarsNumericType,
{
    let mut out = Vec::with_capacity(column.len());
    for array in column.downcast_iter() {
        match array.validity().filter(|v| v.unset_bits() > 0) {
            None => out.extend_from_slice(array.values()),
            Some(valid) => {
                out.extend(
                    array
                        .values()
                        .iter()
                        .zip(valid.iter())
                        .map(|(v, ok)| if ok { *v } else { null }),
                )
            }
        }
    }
    out
}
