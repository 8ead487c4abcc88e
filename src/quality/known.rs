//! The ids fact rows are checked against (docs/INPUTS.md#the-checks).

use std::sync::Arc;

use polars::prelude::*;
use rustc_hash::FxHashMap;

use super::checks_user_overlap;
use crate::config::SourceName;
use crate::error::Result;
use crate::inputs::Inputs;

/// The ids fact rows are checked against, collected once per check: the
/// account ids of `accounts` and, when a source's user ids are checked,
/// the user ids of `users`. The counts look each row's ids up in a set
/// ([`IdSet`], docs/BENCHMARKS.md, "The data rules in one pass"); the
/// example rows of a broken rule test membership with `is_in` against the
/// account ids.
pub(super) struct KnownIds {
    pub(super) accounts: Series,
    /// The ids as sets, for the counts' lookups ([`super::tally`]).
    pub(super) account_set: Arc<IdSet>,
    pub(super) user_set: Option<Arc<IdSet>>,
}

impl KnownIds {
    pub(super) fn collect(inputs: &Inputs) -> Result<KnownIds> {
        let wants_users = inputs
            .sources
            .values()
            .any(|loaded| checks_user_overlap(inputs, loaded));
        let mut plans = vec![inputs.account_ids()?.select([col("account_id")])];
        if wants_users {
            plans.push(
                inputs
                    .frame(SourceName::Users)?
                    .select([col("user_id")])
                    .unique(None, UniqueKeepStrategy::Any),
            );
        }
        let mut found = crate::frame::collect_all(plans, "reading the known ids")?.into_iter();
        let accounts = found
            .next()
            .unwrap_or_default()
            .column("account_id")
            .map(|c| c.as_materialized_series().clone())
            .map_err(|e| crate::error::Error::engine("reading the known ids", e))?;
        let users = match found.next() {
            Some(frame) => Some(
                frame
                    .column("user_id")
                    .map(|c| c.as_materialized_series().clone())
                    .map_err(|e| crate::error::Error::engine("reading the known ids", e))?,
            ),
            None => None,
        };
        let set = |ids: &Series| {
            IdSet::of(ids)
                .map(Arc::new)
                .map_err(|e| crate::error::Error::engine("reading the known ids", e))
        };
        Ok(KnownIds {
            account_set: set(&accounts)?,
            user_set: users.as_ref().map(set).transpose()?,
            accounts,
        })
    }
}

/// Whether `value` is one of `ids` (false for a null value).
pub(super) fn is_one_of(value: Expr, ids: &Series) -> Expr {
    value
        .is_in(lit(ids.clone()).implode(false), false)
        .fill_null(lit(false))
}

/// A set of ids, each with a slot. Integer ids whose range (largest −
/// smallest) is below 256 times their number, or below 2²², are looked up
/// as one bit at `id − min` (at most 32 bytes per id, what a hash map
/// entry takes, and one memory read per lookup); other integer ids and
/// text ids through a hash map to their position.
pub(super) enum IdSet {
    Bits { min: i64, bits: Vec<u64> },
    Ints(FxHashMap<i64, u32>),
    Texts(FxHashMap<String, u32>),
}

/// A range of integer ids below this is always looked up as bits (512 KiB).
const BITS_MIN: i64 = 1 << 22;
/// Bits per id beyond [`BITS_MIN`].
const BITS_PER_ID: i64 = 256;
/// The slot of a value that is not one of the ids (or is null).
pub(super) const NO_SLOT: u32 = u32::MAX;

impl IdSet {
    /// The set of the non-null values of `ids` (integers or text).
    pub(super) fn of(ids: &Series) -> PolarsResult<IdSet> {
        if !ids.dtype().is_integer() {
            let ids = ids.cast(&DataType::String)?;
            let mut map = FxHashMap::default();
            for (i, id) in ids.str()?.iter().enumerate() {
                if let Some(id) = id {
                    map.entry(id.to_string()).or_insert(i as u32);
                }
            }
            return Ok(IdSet::Texts(map));
        }
        let ids = ids.cast(&DataType::Int64)?;
        let ids = ids.i64()?;
        let (min, max) = (ids.min().unwrap_or(0), ids.max().unwrap_or(0));
        let bound = BITS_MIN.max(BITS_PER_ID.saturating_mul(ids.len() as i64));
        if max.checked_sub(min).is_some_and(|range| range < bound) {
            let mut bits = vec![0u64; ((max - min) as usize) / 64 + 1];
            for id in ids.iter().flatten() {
                let at = (id - min) as usize;
                bits[at / 64] |= 1 << (at % 64);
            }
            return Ok(IdSet::Bits { min, bits });
        }
        let mut map = FxHashMap::default();
        for (i, id) in ids.iter().enumerate() {
            if let Some(id) = id {
                map.entry(id).or_insert(i as u32);
            }
        }
        Ok(IdSet::Ints(map))
    }

    /// The number of slots (ids map to slots below it).
    pub(super) fn slots(&self) -> usize {
        match self {
            IdSet::Bits { bits, .. } => bits.len() * 64,
            IdSet::Ints(map) => map.values().max().map_or(0, |m| *m as usize + 1),
            IdSet::Texts(map) => map.values().max().map_or(0, |m| *m as usize + 1),
        }
    }

    /// Each value's slot when it is one of the ids, [`NO_SLOT`] for another
    /// value or a null: an element-wise expression, so the engine's threads
    /// look the values up, batch by batch.
    pub(super) fn slot_of(self: &Arc<Self>, value: Expr) -> Expr {
        let set = self.clone();
        value.map(
            move |values| Ok(set.slots_of(&values)?.into_column()),
            |_, field| Ok(Field::new(field.name().clone(), DataType::UInt32)),
        )
    }

    /// [`IdSet::slot_of`] of a column. Values of another type are cast
    /// first (a value that does not convert is not one of the ids).
    pub(super) fn slots_of(&self, values: &Column) -> PolarsResult<UInt32Chunked> {
        let name = values.name().clone();
        let mut out = Vec::with_capacity(values.len());
        match self {
            IdSet::Texts(map) => {
                let values = values.cast(&DataType::String)?;
                out.extend(
                    values
                        .str()?
                        .iter()
                        .map(|v| v.and_then(|v| map.get(v).copied()).unwrap_or(NO_SLOT)),
                );
            }
            IdSet::Bits { min, bits } => {
                let member = |v: i64| {
                    let at = usize::try_from(v.wrapping_sub(*min)).ok()?;
                    let word = bits.get(at / 64)?;
                    (word >> (at % 64) & 1 == 1).then_some(at as u32)
                };
                each_integer(values, &mut out, |v| member(v).unwrap_or(NO_SLOT))?;
            }
            IdSet::Ints(map) => {
                each_integer(values, &mut out, |v| {
                    map.get(&v).copied().unwrap_or(NO_SLOT)
                })?;
            }
        }
        Ok(UInt32Chunked::from_vec(name, out))
    }
}

/// Pushes `slot(value)` for each value of an integer column onto `out`
/// ([`NO_SLOT`] for a null), straight from the arrays' values.
fn each_integer(
    values: &Column,
    out: &mut Vec<u32>,
    mut slot: impl FnMut(i64) -> u32,
) -> PolarsResult<()> {
    let values = values.cast(&DataType::Int64)?;
    for array in values.i64()?.downcast_iter() {
        match array.validity().filter(|v| v.unset_bits() > 0) {
            None => out.extend(array.values().iter().map(|v| slot(*v))),
            Some(valid) => out.extend(array.values().iter().zip(valid.iter()).map(|(v, ok)| {
                if ok {
                    slot(*v)
                } else {
                    NO_SLOT
                }
            })),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each way of looking ids up finds the members, and only them.
    #[test]
    fn slots_find_the_members() {
        let values = Column::new(
            "v".into(),
            [
                Some(-5i64),
                Some(0),
                Some(7),
                None,
                Some(1 << 40),
                Some(8),
                Some(-6),
            ],
        );
        let members = |set: &IdSet| -> Vec<bool> {
            let slots = set.slots_of(&values).unwrap();
            slots.into_no_null_iter().map(|s| s != NO_SLOT).collect()
        };
        let bits = IdSet::of(&Series::new("id".into(), [-5i64, 7, 0])).unwrap();
        assert!(matches!(bits, IdSet::Bits { min: -5, .. }));
        assert_eq!(
            members(&bits),
            [true, true, true, false, false, false, false]
        );
        let far = IdSet::of(&Series::new("id".into(), [-5i64, 7, 1 << 40])).unwrap();
        assert!(matches!(far, IdSet::Ints(_)));
        assert_eq!(
            members(&far),
            [true, false, true, false, true, false, false]
        );
        let text = IdSet::of(&Series::new("id".into(), ["7", "8", "x"])).unwrap();
        assert_eq!(
            members(&text),
            [false, false, true, false, false, true, false]
        );
        // Distinct members get distinct slots below `slots()`.
        let slots = bits.slots_of(&values).unwrap();
        let found: Vec<u32> = slots
            .into_no_null_iter()
            .filter(|s| *s != NO_SLOT)
            .collect();
        assert_eq!(found, [0, 5, 12]);
        assert!(found.iter().all(|s| (*s as usize) < bits.slots()));
    }
}
