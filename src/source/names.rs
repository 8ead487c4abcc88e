//! Company names compared as a person would (docs/INPUTS.md#company-names):
//! case, spacing, punctuation and a trailing legal form (Inc, LLC, GmbH …)
//! ignored, so that `ACME, Inc.` and `Acme Inc` are one name.

use polars::prelude::*;

/// Legal forms dropped from the end of a name, as they read once
/// punctuation is a space (`L.L.C.` → `l l c`).
const LEGAL_FORMS: &[&str] = &[
    "inc",
    "incorporated",
    "llc",
    "l l c",
    "ltd",
    "limited",
    "co",
    "corp",
    "corporation",
    "company",
    "plc",
    "gmbh",
    "ag",
    "kg",
    "sa",
    "sas",
    "sarl",
    "srl",
    "spa",
    "bv",
    "nv",
    "oy",
    "ab",
    "as",
    "aps",
    "pty",
    "pvt",
    "llp",
    "lp",
    "kk",
];

/// The normalized name of `name` (text): lower case, every run of
/// characters that are not letters or digits one space, trailing legal
/// forms removed, trimmed. Null or empty names give null.
pub fn normalized(name: Expr) -> Expr {
    let forms = LEGAL_FORMS.join("|");
    let key = name
        .cast(DataType::String)
        .str()
        .to_lowercase()
        .str()
        .replace_all(lit(r"[^\p{L}\p{N}]+"), lit(" "), false)
        .str()
        .replace_all(lit(format!(r"(\s({forms}))+\s*$")), lit(""), false)
        .str()
        .strip_chars(lit(NULL));
    when(key.clone().str().len_bytes().gt(lit(0u32)))
        .then(key)
        .otherwise(lit(NULL).cast(DataType::String))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_spacing_punctuation_and_legal_forms_are_ignored() {
        let names = [
            "ACME, Inc.",
            "Acme Inc",
            "  acme  ",
            "Acme L.L.C.",
            "Müller GmbH & Co. KG",
            "müller",
            "Acme Holdings Ltd",
            "Inc",
            "",
            "Co-op Bank",
        ];
        let df = df!("name" => names).unwrap();
        let out = df
            .lazy()
            .select([normalized(col("name")).alias("key")])
            .collect()
            .unwrap();
        let keys: Vec<Option<&str>> = out.column("key").unwrap().str().unwrap().iter().collect();
        assert_eq!(
            keys,
            [
                Some("acme"),
                Some("acme"),
                Some("acme"),
                Some("acme"),
                Some("müller"),
                Some("müller"),
                Some("acme holdings"),
                Some("inc"),
                None,
                Some("co op bank"),
            ]
        );
    }
}
