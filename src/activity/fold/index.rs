//! The dense index of the activity fold: each subject id gets a position,
//! first the ids known before the pass (the accounts of `accounts`, the
//! users of `users`: their slots in an [`IdSet`], looked up in the
//! engine's threads), then the others in the order the fold meets them
//! (docs/ARCHITECTURE.md, "Activity").

use std::sync::Arc;

use polars::prelude::*;
use rustc_hash::FxHashMap;

use super::NONE;
use crate::error::{Error, Result};
use crate::ids::IdSet;

/// Ids of one kind on a dense index: the known ids at their slots, then
/// the ids met in the rows that are not among them.
pub(super) struct Index {
    known: Option<Arc<IdSet>>,
    /// The number of known ids: positions of the ids met start here.
    offset: u32,
    met: Met,
}

/// Ids met in the rows, in the order the fold met them. Integer ids that
/// are small and not negative (most systems count from 1) are found
/// through a table indexed by the id itself, one memory read per row;
/// others through a hash map.
enum Met {
    Int {
        table: Vec<u32>,
        map: FxHashMap<i64, u32>,
        ids: Vec<i64>,
    },
    Text(FxHashMap<String, u32>, Vec<String>),
}

/// The table of [`Met::Int`] is at most this long, or 16 × the ids met
/// (4 bytes per slot).
const TABLE_MIN: usize = 1 << 22;

impl Index {
    /// An index of ids of `dtype`, with `known` ids first (left out when
    /// they are not of the same kind, integers or text).
    pub(super) fn new(dtype: &DataType, known: Option<Arc<IdSet>>) -> Result<Index> {
        let met = Met::new(dtype)?;
        let known = known.filter(|k| k.is_text() == matches!(met, Met::Text(..)));
        let offset = known.as_ref().map_or(0, |k| k.len() as u32);
        Ok(Index { known, offset, met })
    }

    pub(super) fn len(&self) -> usize {
        self.offset as usize + self.met.len()
    }

    /// Each row's position ([`NONE`] for a null id), adding new ids;
    /// `slots` (from [`IdSet::slot_of`] in the engine) when the known ids'
    /// slots are computed already.
    pub(super) fn positions(
        &mut self,
        column: &Column,
        slots: Option<&Column>,
    ) -> PolarsResult<Vec<u32>> {
        let Some(known) = &self.known else {
            return self.met.positions(column, 0);
        };
        let mut out = match slots {
            Some(slots) => values(slots.u32()?, NONE),
            None => values(&known.slots_of(column)?, NONE),
        };
        let missing: Vec<bool> = out.iter().map(|p| *p == NONE).collect();
        if missing.iter().any(|m| *m) {
            let mask = BooleanChunked::from_slice("missing".into(), &missing);
            let rest = self.met.positions(&column.filter(&mask)?, self.offset)?;
            let mut rest = rest.into_iter();
            for (p, m) in out.iter_mut().zip(missing) {
                if m {
                    *p = rest.next().unwrap_or(NONE);
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
        let offset = self.offset;
        let Some(known) = &self.known else {
            return self.met.column(name, positions, 0, dtype);
        };
        // Known ids and met ids, each in one column, then merged in order.
        let (from_known, from_met): (Vec<u32>, Vec<u32>) =
            positions.iter().partition(|p| **p < offset);
        let known = known.column(name, &from_known, dtype)?;
        let met = self.met.column(name, &from_met, offset, dtype)?;
        let (mut k, mut m) = (0, from_known.len());
        let order: Vec<IdxSize> = positions
            .iter()
            .map(|p| {
                let next = if *p < offset { &mut k } else { &mut m };
                *next += 1;
                (*next - 1) as IdxSize
            })
            .collect();
        let mut both = known.as_materialized_series().clone();
        both.append(met.as_materialized_series())?;
        Ok(both.take_slice(&order)?.into())
    }
}

impl Met {
    fn new(dtype: &DataType) -> Result<Met> {
        match dtype {
            DataType::String => Ok(Met::Text(FxHashMap::default(), Vec::new())),
            dtype if dtype.is_integer() => Ok(Met::Int {
                table: Vec::new(),
                map: FxHashMap::default(),
                ids: Vec::new(),
            }),
            other => Err(Error::other(format!(
                "activity ids of type {other}: expected integers or text"
            ))),
        }
    }

    fn len(&self) -> usize {
        match self {
            Met::Int { ids, .. } => ids.len(),
            Met::Text(_, ids) => ids.len(),
        }
    }

    /// Each row's position plus `offset` ([`NONE`] for a null id), adding
    /// new ids.
    fn positions(&mut self, column: &Column, offset: u32) -> PolarsResult<Vec<u32>> {
        let mut out = Vec::with_capacity(column.len());
        match self {
            Met::Int { table, map, ids } => {
                let values = column.cast(&DataType::Int64)?;
                for array in values.i64()?.downcast_iter() {
                    let mut add = |v: i64| int_position(table, map, ids, v) + offset;
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
            Met::Text(map, ids) => {
                for value in column.str()?.iter() {
                    out.push(match value {
                        None => NONE,
                        Some(v) => {
                            offset
                                + match map.get(v) {
                                    Some(p) => *p,
                                    None => {
                                        ids.push(v.to_string());
                                        let p = (ids.len() - 1) as u32;
                                        map.insert(v.to_string(), p);
                                        p
                                    }
                                }
                        }
                    });
                }
            }
        }
        Ok(out)
    }

    /// The ids at `positions` (each `offset` past its place), as a column
    /// `name` of `dtype`.
    fn column(
        &self,
        name: &str,
        positions: &[u32],
        offset: u32,
        dtype: &DataType,
    ) -> PolarsResult<Column> {
        let at = |p: &u32| (*p - offset) as usize;
        let series = match self {
            Met::Int { ids, .. } => Series::new(
                name.into(),
                positions.iter().map(|p| ids[at(p)]).collect::<Vec<_>>(),
            ),
            Met::Text(_, ids) => Series::new(
                name.into(),
                positions
                    .iter()
                    .map(|p| ids[at(p)].as_str())
                    .collect::<Vec<_>>(),
            ),
        };
        Ok(series.cast(dtype)?.into())
    }
}

/// The position of the integer id `v` (see [`Met::Int`]). The table's
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
