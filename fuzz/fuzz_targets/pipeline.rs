//! Fuzz target for the pipeline parser: any bytes must parse or give an
//! error, and `--set` overrides must never panic.
//! Run: `cargo install cargo-fuzz && cargo fuzz run pipeline` (nightly, or
//! RUSTC_BOOTSTRAP=1 on stable).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = cohort_metrics::config::parse_pipeline_text(text, "fuzz.yaml");
    if let Some((document, assignment)) = text.split_once("\n#set ") {
        if let Ok(mut value) = serde_norway::from_str::<serde_norway::Value>(document) {
            let _ = cohort_metrics::config::apply_set(&mut value, assignment.lines().next().unwrap_or(""));
        }
    }
});
