//! The event names of the fold ([`super::Reduction::NamesUsed`]): every
//! name the rows hold gets a code as the fold meets it, and each subject
//! keeps the set of codes it has a row of (docs/ARCHITECTURE.md,
//! "Activity"). No dictionary of names is read before the pass.

use polars::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::NONE;

/// Every event name met, by code.
#[derive(Default)]
pub(super) struct Dictionary {
    codes: FxHashMap<String, u32>,
    names: Vec<String>,
}

impl Dictionary {
    /// Each row's name code ([`NONE`] for a null name), adding new names.
    /// Rows are grouped by their string view first: a name of up to 12
    /// bytes is held in its view, and the rows of a longer one that share
    /// a buffer and an offset in one array share theirs, so each distinct
    /// view of an array is read as text once. (A view of a longer name
    /// points into its own array's buffers: views are compared within one
    /// array only.)
    pub(super) fn codes(&mut self, names: &StringChunked) -> Vec<u32> {
        let mut out = Vec::with_capacity(names.len());
        let mut seen: FxHashMap<u128, u32> = FxHashMap::default();
        for array in names.downcast_iter() {
            seen.clear();
            for (view, name) in array.views().iter().zip(array.iter()) {
                let Some(name) = name else {
                    out.push(NONE);
                    continue;
                };
                let code = match seen.get(&view.as_u128()) {
                    Some(code) => *code,
                    None => {
                        let code = self.code(name);
                        seen.insert(view.as_u128(), code);
                        code
                    }
                };
                out.push(code);
            }
        }
        out
    }

    fn code(&mut self, name: &str) -> u32 {
        if let Some(code) = self.codes.get(name) {
            return *code;
        }
        let code = self.names.len() as u32;
        self.names.push(name.to_string());
        self.codes.insert(name.to_string(), code);
        code
    }

    /// The codes in the order of their names.
    fn by_name(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
        order.sort_by(|a, b| self.names[*a as usize].cmp(&self.names[*b as usize]));
        order
    }
}

/// Codes below this many are kept as bits per subject (16 bytes each);
/// others, rare in product events but possible (names with an id in
/// them), as a set of (subject, code) pairs, so that memory grows with
/// the pairs met, not with subjects × names.
const DENSE: u32 = 128;
const WORDS: usize = (DENSE / 64) as usize;

/// The names each subject has a row of from `from` on.
pub(super) struct NamesUsed {
    pub(super) from: i32,
    /// Per subject, [`WORDS`] words: a bit per code below [`DENSE`].
    bits: Vec<u64>,
    sparse: FxHashSet<(u32, u32)>,
}

impl NamesUsed {
    pub(super) fn new(from: i32) -> NamesUsed {
        NamesUsed {
            from,
            bits: Vec::new(),
            sparse: FxHashSet::default(),
        }
    }

    /// Folds the rows in: each row's subject position, day and name code.
    pub(super) fn add(&mut self, subjects: &[u32], days: &[i32], codes: &[u32], n: usize) {
        self.bits.resize(n * WORDS, 0);
        for ((s, day), code) in subjects.iter().zip(days).zip(codes) {
            if *s == NONE || *code == NONE || *day < self.from {
                continue;
            }
            if *code < DENSE {
                self.bits[*s as usize * WORDS + *code as usize / 64] |= 1 << (code % 64);
            } else {
                self.sparse.insert((*s, *code));
            }
        }
    }

    /// The (subject position, name) pairs: per subject in position order,
    /// its names below [`DENSE`] by name, then the other pairs in the same
    /// order.
    pub(super) fn pairs<'a>(&self, dictionary: &'a Dictionary) -> (Vec<u32>, Vec<&'a str>) {
        let order = dictionary.by_name();
        let dense: Vec<u32> = order.iter().copied().filter(|c| *c < DENSE).collect();
        let (mut subjects, mut names) = (Vec::new(), Vec::new());
        for (s, words) in self.bits.chunks(WORDS).enumerate() {
            for code in &dense {
                if words[*code as usize / 64] & (1 << (code % 64)) != 0 {
                    subjects.push(s as u32);
                    names.push(dictionary.names[*code as usize].as_str());
                }
            }
        }
        let rank: FxHashMap<u32, usize> = order.iter().enumerate().map(|(r, c)| (*c, r)).collect();
        let mut sparse: Vec<(u32, usize, u32)> = self
            .sparse
            .iter()
            .map(|(s, code)| (*s, rank[code], *code))
            .collect();
        sparse.sort_unstable();
        for (s, _, code) in sparse {
            subjects.push(s);
            names.push(dictionary.names[code as usize].as_str());
        }
        (subjects, names)
    }
}
