//! `cohort-metrics generate`: a synthetic dataset with every input table of
//! docs/INPUTS.md, realistic shapes and planted training effects (see
//! [`GENERATOR_MD`], also written next to the data).

mod model;
mod rng;
mod tables;

use std::path::PathBuf;
use std::time::Instant;

use chrono::NaiveDate;

use crate::error::{Error, Result};
use model::{simulate_account, Tables, World};
use tables::{Format, TimeParts};

/// File layout of the generated tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// accounts, users and survey responses as CSV; everything else Parquet.
    Mixed,
    /// Every table as Parquet.
    Parquet,
    /// Every table as CSV.
    Csv,
}

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub out: PathBuf,
    pub accounts: u64,
    pub seed: u64,
    pub layout: Layout,
    /// Data covers days before this date.
    pub end: NaiveDate,
    /// Events per active day are 1–4 times this (1 ≈ 114 events per account).
    pub event_factor: u32,
    /// Training has its planted effects (`false`: `--no-training-effect`,
    /// the confounding by plan without any effect of training).
    pub training_effect: bool,
}

/// Events are written in parts of this many rows.
const EVENT_CHUNK: usize = 1_000_000;

/// Documentation of the generator, written as `GENERATOR.md`.
pub const GENERATOR_MD: &str = include_str!("GENERATOR.md");

fn format_of(layout: Layout, table: &str) -> Format {
    match layout {
        Layout::Parquet => Format::Parquet,
        Layout::Csv => Format::Csv,
        Layout::Mixed => match table {
            "accounts" | "users" | "nps_responses" | "csat_responses" => Format::Csv,
            _ => Format::Parquet,
        },
    }
}

/// Moves the buffered events into their month's part files: real exports
/// arrive by time, so each file covers one UTC month (and readers can skip
/// files by their `event_time` statistics).
fn move_events(tables: &mut Tables, events: &mut TimeParts, out: &std::path::Path) -> Result<()> {
    if tables.events.is_empty() {
        return Ok(());
    }
    let months: Vec<String> = tables
        .events
        .instants("event_time")
        .iter()
        .map(|micros| {
            let day = micros.unwrap_or(0).div_euclid(86_400_000_000);
            let date = crate::time::days_to_date(day as i32);
            date.format("%Y-%m").to_string()
        })
        .collect();
    let frame = tables.events.take_frame()?;
    events.add(out, &frame, &months)
}

/// Generates the dataset into `options.out`.
pub fn run(options: &GenerateOptions) -> Result<()> {
    if options.accounts == 0 {
        return Err(Error::config("--accounts must be at least 1"));
    }
    if options.event_factor == 0 {
        return Err(Error::config("--event-factor must be at least 1"));
    }
    let started = Instant::now();
    std::fs::create_dir_all(&options.out)
        .map_err(|e| Error::io(format!("cannot create `{}`", options.out.display()), e))?;
    let events_dir = options.out.join("events");
    if events_dir.exists() {
        std::fs::remove_dir_all(&events_dir)
            .map_err(|e| Error::io(format!("cannot clear `{}`", events_dir.display()), e))?;
    }
    let mut tables = Tables::new();
    let events_format = format_of(options.layout, "events");
    let mut events = TimeParts::new("events", events_format, EVENT_CHUNK);
    let progress_every = (options.accounts / 10).max(1);
    let world = World {
        seed: options.seed,
        end: options.end,
        event_factor: options.event_factor,
        training_effect: options.training_effect,
    };
    for index in 0..options.accounts {
        simulate_account(&world, index, &mut tables);
        if tables.events.len() >= EVENT_CHUNK / 4 {
            move_events(&mut tables, &mut events, &options.out)?;
        }
        if (index + 1) % progress_every == 0 && options.accounts >= 100_000 {
            crate::log::info(
                "generate",
                &format!("{} of {} accounts", index + 1, options.accounts),
            );
        }
    }
    move_events(&mut tables, &mut events, &options.out)?;
    events.finish(&options.out, tables.events.take_frame()?)?;
    let mut summary = vec![format!("events={}", events.rows_written)];
    for table in [
        &mut tables.accounts,
        &mut tables.training,
        &mut tables.users,
        &mut tables.revenue,
        &mut tables.nps,
        &mut tables.csat,
        &mut tables.tickets,
        &mut tables.cancellations,
        &mut tables.touchpoints,
        &mut tables.referrals,
        &mut tables.truth,
    ] {
        for format in [Format::Parquet, Format::Csv] {
            let _ = std::fs::remove_file(options.out.join(format!(
                "{}.{}",
                table.name,
                format.extension()
            )));
        }
        let format = match table.name {
            "truth" => Format::Csv,
            name => format_of(options.layout, name),
        };
        table.write_file(&options.out, format)?;
        summary.push(format!("{}={}", table.name, table.rows_written));
    }
    let doc = options.out.join("GENERATOR.md");
    let window = crate::time::Period::new(options.end, model::truth::PERIOD_MONTHS);
    let (flag, effects) = if options.training_effect {
        ("", "")
    } else {
        (
            " --no-training-effect",
            "\n\n**Generated with `--no-training-effect`: training changes nothing below** \
             (every account gets the untrained column); the confounding by plan stays.",
        )
    };
    let text = GENERATOR_MD
        .replace("{accounts}", &options.accounts.to_string())
        .replace("{seed}", &options.seed.to_string())
        .replace("{end}", &options.end.to_string())
        .replace("{start}", &window.start.to_string())
        .replace("{event_factor}", &options.event_factor.to_string())
        .replace("{flag}", flag)
        .replace("{no_effect}", effects)
        .replace("{truth}", &tables.effect.markdown());
    std::fs::write(&doc, text)
        .map_err(|e| Error::io(format!("cannot write `{}`", doc.display()), e))?;
    crate::log::info(
        "generate",
        &format!(
            "wrote {} to `{}` in {:.1}s",
            summary.join(" "),
            options.out.display(),
            started.elapsed().as_secs_f64()
        ),
    );
    Ok(())
}
