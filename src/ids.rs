//! Sets of ids known before a pass over rows (the account ids of
//! `accounts`, the user ids of `users`), looked up by element-wise
//! expressions in the engine's threads (docs/ARCHITECTURE.md, "Where each
//! concern lives"): the data rules' counts ask whether a row's id is known,
//! the activity fold where its subject's state lives.
//!
//! Each distinct id has a slot, its dense position among the ids: integer
//! ids whose range (largest − smallest) is below 256 bits per id (or 2²²)
//! are found as one bit at `id − min` and its rank (the bits set before
//! it), two memory reads; other integer ids and text ids through a hash
//! map (docs/BENCHMARKS.md, "The data rules in one pass").

use std::sync::Arc;

use polars::prelude::*;
use rustc_hash::FxHashMap;

/// The slot of a value that is not one of the ids (or is null).
pub const NO_SLOT: u32 = u32::MAX;

/// A range of integer ids below this is always looked up as bits (512 KiB).
const BITS_MIN: i64 = 1 << 22;
/// Bits per id beyond [`BITS_MIN`]: with the ranks and the ids, at most 56
/// bytes per id.
const BITS_PER_ID: i64 = 256;

/// A set of distinct ids, each with a slot in `0..len()`.
pub enum IdSet {
    /// A bit per id of `min..`, the bits set before each word, and the ids
    /// in order (a slot is a rank).
    Bits {
        min: i64,
        bits: Vec<u64>,
        ranks: Vec<u32>,
        ids: Vec<i64>,
    },
    /// Each id's slot, and the ids by slot.
    Ints(FxHashMap<i64, u32>, Vec<i64>),
    /// The ids in order (a slot is a rank), found through buckets of
    /// their range: the ids of bucket `(id − min) >> shift` are
    /// `ids[starts[b]..starts[b + 1]]`, searched by bisection. At most one
    /// bucket per id: 4 bytes per id whatever the range, besides the ids
    /// (one chunk without nulls; the column's own values when they were
    /// in order already) ([`IdSet::compact`]).
    Buckets {
        min: i64,
        max: i64,
        shift: u32,
        starts: Vec<u32>,
        ids: Int64Chunked,
    },
    Texts(FxHashMap<String, u32>, Vec<String>),
}

impl IdSet {
    /// The set of the distinct non-null values of `ids` (integers or text).
    pub fn of(ids: &Series) -> PolarsResult<IdSet> {
        if !ids.dtype().is_integer() {
            let values = ids.cast(&DataType::String)?;
            let (mut map, mut list) = (FxHashMap::default(), Vec::new());
            for id in values.str()?.iter().flatten() {
                if !map.contains_key(id) {
                    map.insert(id.to_string(), list.len() as u32);
                    list.push(id.to_string());
                }
            }
            return Ok(IdSet::Texts(map, list));
        }
        let values = ids.cast(&DataType::Int64)?;
        let values = values.i64()?;
        let (min, max) = (values.min().unwrap_or(0), values.max().unwrap_or(0));
        let bound = BITS_MIN.max(BITS_PER_ID.saturating_mul(values.len() as i64));
        if max.checked_sub(min).is_some_and(|range| range < bound) {
            let mut bits = vec![0u64; ((max - min) as usize) / 64 + 1];
            for id in values.iter().flatten() {
                let at = (id - min) as usize;
                bits[at / 64] |= 1 << (at % 64);
            }
            let mut ranks = Vec::with_capacity(bits.len());
            let mut ids = Vec::new();
            for (w, word) in bits.iter().enumerate() {
                ranks.push(ids.len() as u32);
                let mut rest = *word;
                while rest != 0 {
                    let bit = rest.trailing_zeros() as i64;
                    ids.push(min + w as i64 * 64 + bit);
                    rest &= rest - 1;
                }
            }
            return Ok(IdSet::Bits {
                min,
                bits,
                ranks,
                ids,
            });
        }
        let (mut map, mut list) = (FxHashMap::default(), Vec::new());
        for id in values.iter().flatten() {
            map.entry(id).or_insert_with(|| {
                list.push(id);
                (list.len() - 1) as u32
            });
        }
        Ok(IdSet::Ints(map, list))
    }

    /// The set of the distinct non-null values of `ids` in as little
    /// memory as their lookups allow: integer ids in [`IdSet::Buckets`]
    /// (a bit table over a sparse range, as [`IdSet::of`] builds for the
    /// many lookups of a pass over events, takes up to 40 bytes per id:
    /// 190 MB for 4.8 M user ids spread over 10⁹), text ids as
    /// [`IdSet::of`]. For fewer lookups than ids × a few hundred.
    pub fn compact(ids: &Series) -> PolarsResult<IdSet> {
        if !ids.dtype().is_integer() {
            return IdSet::of(ids);
        }
        let values = ids.cast(&DataType::Int64)?;
        let values = values.i64()?.rechunk().into_owned();
        // One chunk: without nulls, its values are a slice.
        let in_order = values
            .cont_slice()
            .is_ok_and(|ids| ids.windows(2).all(|pair| pair[0] < pair[1]));
        let ids = if in_order {
            values
        } else {
            let mut sorted: Vec<i64> = values.iter().flatten().collect();
            sorted.sort_unstable();
            sorted.dedup();
            Int64Chunked::from_vec(values.name().clone(), sorted)
        };
        let sorted = ids.cont_slice()?;
        let (min, max) = match (sorted.first(), sorted.last()) {
            (Some(min), Some(max)) => (*min, *max),
            _ => (0, -1),
        };
        let range = max.wrapping_sub(min) as u64;
        let most = sorted.len().max(1) as u64;
        let mut shift = 0;
        while shift < 64 && (range >> shift) >= most {
            shift += 1;
        }
        let buckets = if sorted.is_empty() {
            0
        } else {
            (range >> shift) as usize + 1
        };
        let mut starts = vec![0u32; buckets + 1];
        for id in sorted {
            starts[Self::bucket(*id, min, shift) + 1] += 1;
        }
        for b in 0..buckets {
            starts[b + 1] += starts[b];
        }
        Ok(IdSet::Buckets {
            min,
            max,
            shift,
            starts,
            ids,
        })
    }

    /// The bucket of `id` in [`IdSet::Buckets`] (`min` ≤ `id`).
    fn bucket(id: i64, min: i64, shift: u32) -> usize {
        (id.wrapping_sub(min) as u64 >> shift) as usize
    }

    /// The number of distinct ids (slots are below it).
    pub fn len(&self) -> usize {
        match self {
            IdSet::Bits { ids, .. } => ids.len(),
            IdSet::Buckets { ids, .. } => ids.len(),
            IdSet::Ints(_, ids) => ids.len(),
            IdSet::Texts(_, ids) => ids.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the ids are text (else integers).
    pub fn is_text(&self) -> bool {
        matches!(self, IdSet::Texts(..))
    }

    /// Each value's slot, [`NO_SLOT`] when it is not one of the ids (or
    /// null): an element-wise expression, so the engine's threads look the
    /// values up, batch by batch.
    pub fn slot_of(self: &Arc<Self>, value: Expr) -> Expr {
        let set = self.clone();
        value.map(
            move |values| Ok(set.slots_of(&values)?.into_column()),
            |_, field| Ok(Field::new(field.name().clone(), DataType::UInt32)),
        )
    }

    /// [`IdSet::slot_of`] of a column. Values of another type are cast
    /// first (a value that does not convert is not one of the ids).
    pub fn slots_of(&self, values: &Column) -> PolarsResult<UInt32Chunked> {
        let name = values.name().clone();
        let mut out = Vec::with_capacity(values.len());
        match self {
            IdSet::Texts(map, _) => {
                let values = values.cast(&DataType::String)?;
                out.extend(
                    values
                        .str()?
                        .iter()
                        .map(|v| v.and_then(|v| map.get(v).copied()).unwrap_or(NO_SLOT)),
                );
            }
            IdSet::Bits {
                min, bits, ranks, ..
            } => {
                let slot = |v: i64| {
                    let Ok(at) = usize::try_from(v.wrapping_sub(*min)) else {
                        return NO_SLOT;
                    };
                    let Some(word) = bits.get(at / 64) else {
                        return NO_SLOT;
                    };
                    let bit = at % 64;
                    if word >> bit & 1 == 0 {
                        return NO_SLOT;
                    }
                    ranks[at / 64] + (word & ((1u64 << bit) - 1)).count_ones()
                };
                each_integer(values, &mut out, slot)?;
            }
            IdSet::Ints(map, _) => {
                each_integer(values, &mut out, |v| {
                    map.get(&v).copied().unwrap_or(NO_SLOT)
                })?;
            }
            IdSet::Buckets {
                min,
                max,
                shift,
                starts,
                ids,
            } => {
                let ids = ids.cont_slice()?;
                each_integer(values, &mut out, |v| {
                    if v < *min || v > *max {
                        return NO_SLOT;
                    }
                    let b = Self::bucket(v, *min, *shift);
                    let (first, end) = (starts[b] as usize, starts[b + 1] as usize);
                    match ids[first..end].binary_search(&v) {
                        Ok(at) => (first + at) as u32,
                        Err(_) => NO_SLOT,
                    }
                })?;
            }
        }
        Ok(UInt32Chunked::from_vec(name, out))
    }

    /// The id of each slot of `slots`, as a column `name` of `dtype`.
    pub fn column(&self, name: &str, slots: &[u32], dtype: &DataType) -> PolarsResult<Column> {
        let integers = |ids: &[i64]| {
            Series::new(
                name.into(),
                slots.iter().map(|s| ids[*s as usize]).collect::<Vec<_>>(),
            )
        };
        let series = match self {
            IdSet::Buckets { ids, .. } => integers(ids.cont_slice()?),
            IdSet::Bits { ids, .. } | IdSet::Ints(_, ids) => integers(ids),
            IdSet::Texts(_, ids) => Series::new(
                name.into(),
                slots
                    .iter()
                    .map(|s| ids[*s as usize].as_str())
                    .collect::<Vec<_>>(),
            ),
        };
        Ok(series.cast(dtype)?.into())
    }
}

/// The rows of `ids` whose id appears more than once, nulls left out: the
/// count of a `must be unique` rule of one id column (docs/INPUTS.md#the-checks),
/// from ids already in memory. A distinct count first; the exact count
/// only when there are copies.
pub fn rows_in_copies(ids: &Series) -> PolarsResult<u64> {
    let present = ids.drop_nulls();
    if present.n_unique()? == present.len() {
        return Ok(0);
    }
    let rows = present.len();
    let counted = DataFrame::new(rows, vec![present.with_name("id".into()).into_column()])?
        .lazy()
        .group_by([col("id")])
        .agg([len().alias("copies")])
        .filter(col("copies").gt(lit(1)))
        .select([col("copies").sum().cast(DataType::UInt64)])
        .collect()?;
    Ok(counted.column("copies")?.u64()?.get(0).unwrap_or(0))
}

/// Pushes `slot(value)` for each value of an integer column onto `out`
/// ([`NO_SLOT`] for a null), straight from the arrays' values.
fn each_integer(
    values: &Column,
    out: &mut Vec<u32>,
    slot: impl Fn(i64) -> u32,
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

    /// Each way of looking ids up finds the members, and only them, each
    /// at a distinct slot below `len()` that gives the id back.
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
        let slots = |set: &IdSet| -> Vec<u32> {
            set.slots_of(&values).unwrap().into_no_null_iter().collect()
        };
        let bits = IdSet::of(&Series::new("id".into(), [7i64, -5, 0, 7, 200])).unwrap();
        assert!(matches!(bits, IdSet::Bits { min: -5, .. }));
        assert_eq!(bits.len(), 4);
        // Ranks in id order: -5 → 0, 0 → 1, 7 → 2 (200 → 3).
        assert_eq!(slots(&bits), [0, 1, 2, NO_SLOT, NO_SLOT, NO_SLOT, NO_SLOT]);
        let far = IdSet::of(&Series::new("id".into(), [7i64, -5, 1 << 40, 7])).unwrap();
        assert!(matches!(far, IdSet::Ints(..)));
        assert_eq!(far.len(), 3);
        assert_eq!(slots(&far), [1, NO_SLOT, 0, NO_SLOT, 2, NO_SLOT, NO_SLOT]);
        let text = IdSet::of(&Series::new("id".into(), ["8", "7", "x"])).unwrap();
        assert_eq!(
            slots(&text),
            [NO_SLOT, NO_SLOT, 1, NO_SLOT, NO_SLOT, 0, NO_SLOT]
        );
        // A slot gives its id back.
        let ids = bits.column("id", &[2, 0, 3], &DataType::Int64).unwrap();
        let ids: Vec<i64> = ids.i64().unwrap().into_no_null_iter().collect();
        assert_eq!(ids, [7, -5, 200]);
        let ids = text.column("id", &[1, 2], &DataType::String).unwrap();
        let ids: Vec<&str> = ids.str().unwrap().iter().flatten().collect();
        assert_eq!(ids, ["7", "x"]);
    }

    /// The compact set finds the members, and only them, at their ranks,
    /// whatever the spread of the ids: dense, sparse, the whole range of
    /// i64, a crowd in one bucket; and none in an empty set.
    #[test]
    fn compact_sets_find_the_members_at_their_ranks() {
        let spreads: [Vec<i64>; 5] = [
            (0..1000).map(|i| i * 37 % 5003).collect(),
            (0..1000).map(|i| i * 1_000_003 + (i % 3)).collect(),
            vec![i64::MIN, -1, 0, 1, i64::MAX],
            (0..100).chain([1 << 50]).collect(),
            vec![3, 3, 1, 2],
        ];
        for ids in spreads {
            let set = IdSet::compact(&Series::new("id".into(), ids.clone())).unwrap();
            assert!(matches!(set, IdSet::Buckets { .. }));
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(set.len(), sorted.len());
            let found = |values: Vec<i64>| -> Vec<u32> {
                set.slots_of(&Column::new("v".into(), values))
                    .unwrap()
                    .into_no_null_iter()
                    .collect()
            };
            for (id, slot) in ids.iter().zip(found(ids.clone())) {
                assert_eq!(sorted[slot as usize], *id, "{id}");
            }
            let others: Vec<i64> = ids
                .iter()
                .flat_map(|id| [id.wrapping_add(1), id.wrapping_sub(1)])
                .filter(|v| sorted.binary_search(v).is_err())
                .collect();
            assert!(!others.is_empty());
            assert!(found(others).iter().all(|s| *s == NO_SLOT));
        }
        let empty = IdSet::compact(&Series::new("id".into(), Vec::<i64>::new())).unwrap();
        let values = Column::new("v".into(), [0i64, i64::MIN, i64::MAX]);
        let slots: Vec<u32> = empty
            .slots_of(&values)
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(slots, [NO_SLOT; 3]);
    }

    /// Ids that cross word boundaries get their ranks right.
    #[test]
    fn ranks_count_the_ids_before() {
        let ids: Vec<i64> = (0..1000).map(|i| i * 37 % 5003).collect();
        let set = IdSet::of(&Series::new("id".into(), ids.clone())).unwrap();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        let slots: Vec<u32> = set
            .slots_of(&Column::new("v".into(), ids.clone()))
            .unwrap()
            .into_no_null_iter()
            .collect();
        for (id, slot) in ids.iter().zip(slots) {
            assert_eq!(sorted[slot as usize], *id);
        }
    }
}
