//! Rows dropped because they have no known account (docs/INPUTS.md#the-checks),
//! counted by why: an empty key, a key that matches nothing, or a drop the
//! pipeline expects (`quality.expected_orphans`: staff accounts in the LMS,
//! anonymous events), so that the warning about the rest keeps its meaning.

use polars::prelude::*;

use super::data_rule::typed;
use crate::source::{AccountKey, LoadedSource};

/// Column of the check frame: the row's account is unknown and no
/// `quality.expected_orphans` pattern matches its key.
pub(super) const EXPECTED: &str = "__expected_orphan";
/// Column of the check frame: the row's key is empty.
pub(super) const EMPTY: &str = "__empty_key";

/// The dropped rows of one source, by why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drops {
    /// The column that finds each row's account: `account_id`, `user_id`
    /// (through `users`) or `account_name` (through the accounts' names).
    pub key: &'static str,
    /// Unexpected drops with an empty key.
    pub empty: u64,
    /// Unexpected drops whose key matched no account.
    pub unknown: u64,
    /// Drops matched by `quality.expected_orphans`.
    pub expected: u64,
}

impl Drops {
    /// The rows the orphan rule judges (not the expected ones).
    pub fn unexpected(&self) -> u64 {
        self.empty + self.unknown
    }

    pub fn total(&self) -> u64 {
        self.unexpected() + self.expected
    }

    /// What matched nothing, in the words of the key: "not in `accounts`".
    pub fn unknown_means(&self) -> &'static str {
        match self.key {
            "user_id" => "whose user is not in `users` (or has no account in `accounts`)",
            "account_name" => "whose `account_name` matches no company `name` of `accounts` (or one several accounts share)",
            _ => "whose account_id is not in `accounts`",
        }
    }

    /// "3 with an empty user_id, 108 whose user is not in `users` …; 40
    /// expected (quality.expected_orphans)", for the summary and the manifest.
    pub fn reason(&self) -> String {
        let mut parts = Vec::new();
        if self.empty > 0 {
            parts.push(format!("{} with an empty {}", self.empty, self.key));
        }
        if self.unknown > 0 {
            parts.push(format!("{} {}", self.unknown, self.unknown_means()));
        }
        let mut text = parts.join(", ");
        if self.expected > 0 {
            if !text.is_empty() {
                text.push_str("; ");
            }
            text.push_str(&format!(
                "{} expected (quality.expected_orphans)",
                self.expected
            ));
        }
        text
    }
}

/// The column whose value finds a row's account.
pub(super) fn key_of(loaded: &LoadedSource) -> &'static str {
    loaded.account_via.map_or("account_id", AccountKey::column)
}

/// True on rows whose key matches one of `patterns` (`*` any text, `?` one
/// character, the whole key; `""` an empty key).
pub(super) fn expected(key: &str, patterns: &[String]) -> Expr {
    let value = typed(key).cast(DataType::String);
    patterns.iter().fold(lit(false), |any, pattern| {
        let matches = if pattern.is_empty() {
            value.clone().is_null()
        } else {
            value
                .clone()
                .str()
                .contains(lit(glob_regex(pattern)), true)
                .fill_null(lit(false))
        };
        any.or(matches)
    })
}

/// A glob as an anchored regular expression.
fn glob_regex(pattern: &str) -> String {
    let mut out = String::from("^");
    for c in pattern.chars() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            c if "\\.+()[]{}|^$#&-~".contains(c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('$');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_keys() {
        let df = df!("user_id__typed" => [Some("staff@acme.com"), Some("ana@globex.com"), Some("bot.1"), None]).unwrap();
        let patterns = vec![
            "*@acme.com".to_string(),
            "bot.?".to_string(),
            "".to_string(),
        ];
        let out = df
            .lazy()
            .select([expected("user_id", &patterns).alias("m")])
            .collect()
            .unwrap();
        let m: Vec<Option<bool>> = out.column("m").unwrap().bool().unwrap().iter().collect();
        assert_eq!(m, [Some(true), Some(false), Some(true), Some(true)]);
        assert_eq!(glob_regex("a.b*"), "^a\\.b.*$");
    }

    #[test]
    fn the_reason_counts_each_why() {
        let drops = Drops {
            key: "user_id",
            empty: 3,
            unknown: 108,
            expected: 40,
        };
        assert_eq!(
            drops.reason(),
            "3 with an empty user_id, 108 whose user is not in `users` (or has no account in `accounts`); 40 expected (quality.expected_orphans)"
        );
        assert_eq!(drops.total(), 151);
    }
}
