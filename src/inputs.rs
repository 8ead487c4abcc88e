//! The loaded inputs of a run: every configured source scanned (schema only)
//! and fact tables restricted to known accounts (docs/INPUTS.md, "The
//! checks": orphan rows are dropped).

use std::collections::BTreeMap;
use std::sync::Arc;

use polars::prelude::*;

use crate::config::{Pipeline, ResolvedSource, SourceName};
use crate::error::{Error, Result};
use crate::ids::IdSet;
use crate::source::{
    build_source, open_source, AccountKey, IdValues, LoadedSource, OpenedSource, NAME_KEY,
};

mod known;
pub mod ride;

pub use known::KnownIdColumns;

/// Every configured source, scanned.
pub struct Inputs {
    pub sources: BTreeMap<SourceName, LoadedSource>,
    /// `account_id` of `accounts`, cached: every fact table is restricted to it.
    account_ids: Option<LazyFrame>,
    /// Configured sources that could not be read ([`Inputs::scan_all`]).
    failed: std::collections::BTreeSet<SourceName>,
    /// [`Inputs::known_ids`] once read, without and with the users: the
    /// data rules and the activity fold both look ids up in them.
    known: [std::sync::OnceLock<KnownIdColumns>; 2],
    /// [`Inputs::known_sets`] while in use: the accounts', the users'
    /// (held by their users, freed with the last).
    sets: std::sync::Mutex<[std::sync::Weak<IdSet>; 2]>,
    /// Frames of facts folded by riders of the data rules' passes, by key
    /// ([`Inputs::folded`]).
    folded: BTreeMap<&'static str, DataFrame>,
}

/// Starts the rider of the events' data rules once the ids it looks rows
/// up in are known ([`crate::quality::check_all`]: after the passes over
/// `accounts` and `users`).
pub type RiderStart = Box<dyn FnOnce(&Inputs) -> Result<Box<dyn crate::frame::Rider>>>;

impl Inputs {
    /// Scans every source of the pipeline (reads schemas, not data). What
    /// the metrics need of the columns found is checked by the caller
    /// (`crate::metrics::needs::check_columns`).
    pub fn scan(pipeline: &Pipeline) -> Result<Inputs> {
        Inputs::scan_with(pipeline, None)
    }

    /// Scans the pipeline's sources with `events`, the rollup an activity
    /// engine produced (Spark's staging directory, the store's days), in
    /// place of `sources.events`.
    pub fn scan_with(pipeline: &Pipeline, events: Option<&ResolvedSource>) -> Result<Inputs> {
        let (inputs, problems) = Inputs::scan_all(pipeline, events)?;
        match Error::all(problems) {
            Some(problem) => Err(problem),
            None => Ok(inputs),
        }
    }

    /// Like [`Inputs::scan_with`], going on past a source that cannot be
    /// read (docs/INPUTS.md#the-checks: every problem at once): the inputs
    /// without the sources that failed, which are listed in
    /// [`Inputs::failed`], and the problems found. Fails at once only when
    /// `accounts` cannot be read (every other check needs it).
    pub fn scan_all(
        pipeline: &Pipeline,
        events: Option<&ResolvedSource>,
    ) -> Result<(Inputs, Vec<Error>)> {
        let mut problems = Vec::new();
        let mut failed = std::collections::BTreeSet::new();
        let mut resolved: BTreeMap<SourceName, &ResolvedSource> = pipeline
            .sources
            .iter()
            .map(|(name, s)| (*name, s))
            .collect();
        if let Some(events) = events {
            resolved.insert(SourceName::Events, events);
        }
        let mut opened = Vec::new();
        for (name, source) in resolved {
            match open_source(source) {
                Ok(source) => opened.push((name, source)),
                Err(problem) => {
                    problems.push(problem);
                    failed.insert(name);
                }
            }
        }
        let id_type = id_type(&opened)?;
        let mut sources = BTreeMap::new();
        for (name, opened) in opened {
            let extra = if name == SourceName::Accounts {
                account_columns(pipeline)
            } else {
                Vec::new()
            };
            match build_source(opened, &extra, &id_type) {
                Ok(source) => {
                    sources.insert(name, source);
                }
                Err(problem) => {
                    problems.push(problem);
                    failed.insert(name);
                }
            }
        }
        if failed.contains(&SourceName::Accounts) {
            return Err(Error::all(problems).unwrap_or_else(|| Error::other("`accounts` failed")));
        }
        let via =
            |key: AccountKey, sources: &BTreeMap<SourceName, LoadedSource>| -> Vec<SourceName> {
                sources
                    .iter()
                    .filter(|(_, s)| s.needs_accounts(key))
                    .map(|(name, _)| *name)
                    .collect()
            };
        let via_users = via(AccountKey::User, &sources);
        if !via_users.is_empty() {
            let users = match sources.get(&SourceName::Users) {
                Some(users) => Ok(users.frame.clone().select([col("user_id"), col("account_id")])),
                // `users` failed to read: its problem is listed already.
                None if failed.contains(&SourceName::Users) => Err(None),
                None => Err(Some(Error::config(format!(
                    "source `{}` has no `account_id` column; with its `user_id` it could take the account from \
                     `users`, which the pipeline does not define: map `account_id` in `columns`, or add a `users` source",
                    via_users[0]
                )))),
            };
            attach(
                &mut sources,
                &via_users,
                AccountKey::User,
                users,
                &mut failed,
                &mut problems,
            );
        }
        let via_names = via(AccountKey::Name, &sources);
        if !via_names.is_empty() {
            let map = names_map(&sources, via_names[0]).map_err(Some);
            attach(
                &mut sources,
                &via_names,
                AccountKey::Name,
                map,
                &mut failed,
                &mut problems,
            );
        }
        let invoices = pipeline
            .sources
            .get(&SourceName::Revenue)
            .is_some_and(|r| r.config.grain == Some(crate::config::Grain::Invoice));
        if let Some(revenue) = sources.get_mut(&SourceName::Revenue).filter(|_| invoices) {
            let what = format!("source `revenue` ({})", revenue.files_shown());
            let (monthly, mixed, currency) = crate::source::invoices::monthly_revenue(
                revenue.frame.clone(),
                revenue.has_column("currency"),
                &what,
            )?;
            revenue.frame = monthly;
            revenue.currency = currency;
            problems.extend(mixed);
            revenue.derived = vec!["month".to_string(), "mrr".to_string()];
        }
        let account_ids = sources.get(&SourceName::Accounts).map(account_ids_of);
        let inputs = Inputs {
            sources,
            account_ids,
            failed,
            known: Default::default(),
            sets: Default::default(),
            folded: Default::default(),
        };
        Ok((inputs, problems))
    }

    /// Whether `source` is configured but could not be read (its problem
    /// was reported by [`Inputs::scan_all`]).
    pub fn failed(&self, source: SourceName) -> bool {
        self.failed.contains(&source)
    }

    /// Reads `spilled`'s source from the typed rows the data rules' pass
    /// kept of it, from now on ([`crate::source::Spilled`]): the CSV files
    /// are not parsed again. A source whose rows were not kept stays as it
    /// is. Called right after the source's pass, so that the passes after
    /// it read the known ids from the kept rows ([`Inputs::known_ids`]).
    pub fn read_spilled(&mut self, spilled: &crate::source::Spilled) {
        let Some(source) = self.sources.get_mut(&spilled.source) else {
            return;
        };
        if source.read_spilled(spilled) && spilled.source == SourceName::Accounts {
            self.account_ids = Some(account_ids_of(source));
        }
    }

    /// A frame of facts that a rider of a data rules' pass folded from a
    /// source's rows, by key (for example revenue by account and month):
    /// the plans read it rather than the rows again.
    pub fn folded(&self, key: &str) -> Option<&DataFrame> {
        self.folded.get(key)
    }

    /// Keeps a frame [`Inputs::folded`] gives.
    pub fn keep_folded(&mut self, key: &'static str, frame: DataFrame) {
        self.folded.insert(key, frame);
    }

    /// The same inputs restricted to the sources `names` (the id type and
    /// the accounts stay those of the whole scan).
    pub fn only(&self, names: &[SourceName]) -> Inputs {
        Inputs {
            sources: self
                .sources
                .iter()
                .filter(|(name, _)| names.contains(name))
                .map(|(name, s)| (*name, s.clone()))
                .collect(),
            account_ids: self.account_ids.clone(),
            failed: self.failed.clone(),
            known: Default::default(),
            sets: Default::default(),
            folded: Default::default(),
        }
    }

    pub fn get(&self, name: SourceName) -> Option<&LoadedSource> {
        self.sources.get(&name)
    }

    /// The account ids of `accounts`.
    pub fn account_ids(&self) -> Result<LazyFrame> {
        self.account_ids
            .clone()
            .ok_or_else(|| Error::config("source `accounts` is required"))
    }

    /// A source's typed frame. Fact tables keep only rows whose account is in
    /// `accounts`; `accounts` gets a null `churn_date` when it has none.
    pub fn frame(&self, name: SourceName) -> Result<LazyFrame> {
        let loaded = self.loaded(name)?;
        if name == SourceName::Accounts {
            let frame = loaded.frame.clone();
            return Ok(if loaded.has_column("churn_date") {
                frame
            } else {
                frame.with_column(lit(NULL).cast(DataType::Date).alias("churn_date"))
            });
        }
        self.known_accounts(loaded.frame.clone())
    }

    /// [`Inputs::frame`] of a fact source, its accounts' ids given as a
    /// set: each row's account is looked up in it in the engine's threads
    /// (the rows [`Inputs::known_accounts`] keeps, without a semi-join).
    pub fn frame_among(&self, name: SourceName, accounts: &Arc<IdSet>) -> Result<LazyFrame> {
        if name == SourceName::Accounts {
            return self.frame(name);
        }
        let slot = accounts.slot_of(col("account_id"));
        Ok(self
            .loaded(name)?
            .frame
            .clone()
            .filter(slot.neq(lit(crate::ids::NO_SLOT))))
    }

    /// The rows of a fact frame whose account is in `accounts`.
    pub fn known_accounts(&self, rows: LazyFrame) -> Result<LazyFrame> {
        Ok(rows.semi_join(self.account_ids()?, col("account_id"), col("account_id")))
    }

    /// Fact rows whose account is not in `accounts`.
    pub fn orphans(&self, name: SourceName) -> Result<LazyFrame> {
        let loaded = self.loaded(name)?;
        Ok(loaded.frame.clone().anti_join(
            self.account_ids()?,
            col("account_id"),
            col("account_id"),
        ))
    }

    fn loaded(&self, name: SourceName) -> Result<&LoadedSource> {
        self.sources.get(&name).ok_or_else(|| {
            Error::config(format!(
                "source `{name}` is needed but not defined in the pipeline"
            ))
        })
    }
}

/// The account ids of `accounts`, one cached node: every fact table is
/// restricted to them.
fn account_ids_of(accounts: &LoadedSource) -> LazyFrame {
    accounts.frame.clone().select([col("account_id")]).cache()
}

/// The type ids are compared as (see [`build_source`]): Int64 when every id
/// column is an integer column or CSV text whose every value is an integer's
/// own decimal form, else String. Reads only the id columns of CSV sources,
/// and only when no typed source already decides for text.
fn id_type(opened: &[(SourceName, OpenedSource<'_>)]) -> Result<DataType> {
    let values: Vec<IdValues> = opened.iter().map(|(_, o)| o.id_values()).collect();
    if values.contains(&IdValues::Text) {
        return Ok(DataType::String);
    }
    let checks: Vec<LazyFrame> = opened
        .iter()
        .filter(|(_, o)| o.id_values() == IdValues::TextToCheck)
        .map(|(_, o)| o.ids_are_canonical_integers())
        .collect();
    if checks.is_empty() {
        return Ok(DataType::Int64);
    }
    let results = crate::frame::collect_all(checks, "reading the ids of the CSV sources")?;
    let canonical = results.iter().all(|df| {
        df.column("canonical")
            .ok()
            .and_then(|c| c.bool().ok().and_then(|b| b.get(0)))
            .unwrap_or(false)
    });
    Ok(if canonical {
        DataType::Int64
    } else {
        DataType::String
    })
}

/// The columns of `accounts` beyond the canonical ones that the pipeline
/// reads, each with the key that names it: `segment_by`, then the
/// `adjust.covariates` not already among them.
fn account_columns(pipeline: &Pipeline) -> Vec<(String, &'static str)> {
    let mut columns: Vec<(String, &'static str)> = pipeline
        .segment_by
        .iter()
        .map(|c| (c.clone(), "segment_by"))
        .collect();
    for covariate in pipeline.adjust.iter().flat_map(|a| &a.covariates) {
        if !columns.iter().any(|(c, _)| c == covariate) {
            columns.push((covariate.clone(), "adjust.covariates"));
        }
    }
    columns
}

/// docs/INPUTS.md#account-through-company-name: normalized company name →
/// `account_id` of `accounts`, for the names that one account holds (a name
/// that several accounts share matches none of them).
fn names_map(sources: &BTreeMap<SourceName, LoadedSource>, first: SourceName) -> Result<LazyFrame> {
    let accounts = sources
        .get(&SourceName::Accounts)
        .filter(|a| a.has_column("name"))
        .ok_or_else(|| {
            Error::config(format!(
                "source `{first}` has no `account_id` column and names the company in `account_name`, but \
                 `accounts` has no `name` to match it to: map the company name of `accounts` in its `columns` \
                 (for example `name: Company Name`)"
            ))
        })?;
    Ok(accounts
        .frame
        .clone()
        .select([
            crate::source::names::normalized(col("name")).alias(NAME_KEY),
            col("account_id"),
        ])
        .filter(col(NAME_KEY).is_not_null())
        .group_by([col(NAME_KEY)])
        .agg([
            col("account_id").first(),
            len().cast(DataType::UInt64).alias("__accounts"),
        ])
        .filter(col("__accounts").eq(lit(1u64)))
        .select([col(NAME_KEY), col("account_id")]))
}

/// Attaches each source of `names` to its accounts through `map`, or, when
/// there is no map, takes the source out of the run (its problem, when
/// there is one, joins `problems`).
fn attach(
    sources: &mut BTreeMap<SourceName, LoadedSource>,
    names: &[SourceName],
    key: AccountKey,
    map: std::result::Result<LazyFrame, Option<Error>>,
    failed: &mut std::collections::BTreeSet<SourceName>,
    problems: &mut Vec<Error>,
) {
    match map {
        Ok(map) => {
            for name in names {
                if let Some(source) = sources.get_mut(name) {
                    source.attach_accounts(key, map.clone());
                }
            }
        }
        Err(problem) => {
            problems.extend(problem);
            for name in names {
                sources.remove(name);
                failed.insert(*name);
            }
        }
    }
}
