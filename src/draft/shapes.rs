//! The export shapes `init` recognizes (docs/INPUTS.md#a-first-pipeline-from-your-exports):
//! the vendor exports of the recipes, by their column names, and any file
//! holding a source's canonical columns. A recognized export becomes a
//! [`Proposal`]: the source, its column mapping and what the recipe sets.

use crate::config::SourceName;
use crate::source::tables::{columns_of, invoice_columns, ColumnSpec};

use super::sniff::Sniffed;

/// A source drafted from one export.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub source: SourceName,
    /// What it was recognized as ("HubSpot companies export", "canonical columns").
    pub shape: String,
    /// Canonical column → column of the file.
    pub columns: Vec<(String, String)>,
    pub invoice: bool,
    /// Canonical number columns written in cents.
    pub cents: Vec<&'static str>,
    /// `drop_rows` the recipe sets: column of the file, values, why.
    pub drop_rows: Vec<(String, Vec<String>, &'static str)>,
    /// Comments for the reader of the draft.
    pub notes: Vec<String>,
}

/// One vendor export of docs/INPUTS.md's recipes.
struct Vendor {
    name: &'static str,
    source: SourceName,
    /// Columns that identify the export (any case).
    signature: &'static [&'static str],
    /// Canonical column → the file's candidates, first present wins; `*x*`
    /// is the first column containing `x`, `x.*` the first starting with `x.`.
    columns: &'static [(&'static str, &'static [&'static str])],
    invoice: bool,
    cents: &'static [&'static str],
    drop_rows: &'static [(&'static str, &'static [&'static str], &'static str)],
    note: &'static str,
}

use SourceName::*;

const VENDORS: &[Vendor] = &[
    Vendor {
        name: "HubSpot companies export",
        source: Accounts,
        signature: &["Record ID", "Became a Customer Date"],
        columns: &[
            ("account_id", &["Record ID"]),
            ("name", &["Company name"]),
            ("signup_date", &["Became a Customer Date"]),
            ("churn_date", &["Churned Date", "Churn Date", "*churn*"]),
        ],
        invoice: false,
        cents: &[],
        drop_rows: &[("Became a Customer Date", &[""], "leads and opportunities: never customers")],
        note: "",
    },
    Vendor {
        name: "Salesforce accounts report",
        source: Accounts,
        signature: &["Account ID"],
        columns: &[
            ("account_id", &["Account ID"]),
            ("name", &["Account Name"]),
            ("signup_date", &["Customer Since", "Created Date"]),
            ("churn_date", &["Churn Date", "*churn*"]),
        ],
        invoice: false,
        cents: &[],
        drop_rows: &[],
        note: "",
    },
    Vendor {
        name: "Docebo enrollments report",
        source: Training,
        signature: &["Course Code", "Enrollment Date"],
        columns: &[
            ("user_id", &["Email", "Username"]),
            ("course_id", &["Course Code"]),
            ("enrolled_at", &["Enrollment Date"]),
            ("completed_at", &["Completion Date"]),
            ("status", &["Status"]),
            ("score", &["Final Score"]),
        ],
        invoice: false,
        cents: &[],
        drop_rows: &[],
        note: "learners keyed by email: `users` must map emails to accounts",
    },
    Vendor {
        name: "Skilljar course completions",
        source: Training,
        signature: &["Student Email", "Course Title"],
        columns: &[
            ("user_id", &["Student Email"]),
            ("course_id", &["Course Title"]),
            ("enrolled_at", &["Enrolled At"]),
            ("completed_at", &["Completed At"]),
        ],
        invoice: false,
        cents: &[],
        drop_rows: &[],
        note: "learners keyed by email: `users` must map emails to accounts",
    },
    Vendor {
        name: "Segment tracks",
        source: Events,
        signature: &["context_groupId", "event", "timestamp"],
        columns: &[
            ("account_id", &["context_groupId"]),
            ("user_id", &["user_id"]),
            ("event_name", &["event"]),
            ("event_time", &["timestamp"]),
        ],
        invoice: false,
        cents: &[],
        drop_rows: &[],
        note: "",
    },
    Vendor {
        name: "Amplitude export",
        source: Events,
        signature: &["event_type", "event_time"],
        columns: &[
            ("account_id", &["groups.*"]),
            ("user_id", &["user_id"]),
            ("event_name", &["event_type"]),
            ("event_time", &["event_time"]),
        ],
        invoice: false,
        cents: &[],
        drop_rows: &[],
        note: "the account is the group your app sets (`groups.…`); anonymous events are dropped as orphans",
    },
    Vendor {
        name: "Chargebee invoices",
        source: Revenue,
        signature: &["customer_id", "date_from", "date_to", "total"],
        columns: &[
            ("account_id", &["customer_id"]),
            ("period_start", &["date_from"]),
            ("period_end", &["date_to"]),
            ("amount", &["total"]),
            ("currency", &["currency_code"]),
        ],
        invoice: true,
        cents: &["amount"],
        drop_rows: &[("status", &["voided"], "a voided invoice was never owed")],
        note: "`total`, not `amount_paid`: an unpaid invoice is revenue of its period too",
    },
    Vendor {
        name: "Stripe invoices",
        source: Revenue,
        signature: &["customer", "period_start", "period_end"],
        columns: &[
            ("account_id", &["customer"]),
            ("period_start", &["period_start"]),
            ("period_end", &["period_end"]),
            ("amount", &["total", "amount_paid", "amount_due"]),
            ("currency", &["currency"]),
        ],
        invoice: true,
        cents: &["amount"],
        drop_rows: &[("status", &["void", "draft"], "void and draft invoices are not owed")],
        note: "`customer` is Stripe's id: `accounts` must be keyed by it, or map it first",
    },
    Vendor {
        name: "SurveyMonkey export",
        source: NpsResponses,
        signature: &["Respondent ID", "Collector ID"],
        columns: &[
            ("account_id", &["Custom Data 1"]),
            ("responded_at", &["End Date"]),
            ("score", &["*recommend*", "*satisf*"]),
        ],
        invoice: false,
        cents: &[],
        drop_rows: &[],
        note: "the account id as the survey link's custom variable (Custom Data 1)",
    },
    Vendor {
        name: "Delighted responses",
        source: NpsResponses,
        signature: &["score", "created_at", "properties.account_id"],
        columns: &[
            ("account_id", &["properties.account_id"]),
            ("responded_at", &["created_at"]),
            ("score", &["score"]),
        ],
        invoice: false,
        cents: &[],
        drop_rows: &[],
        note: "",
    },
    Vendor {
        name: "Freshdesk tickets",
        source: Tickets,
        signature: &["Company Name", "Created time"],
        columns: &[
            ("account_name", &["Company Name"]),
            ("created_at", &["Created time"]),
            ("product_area", &["Product"]),
        ],
        invoice: false,
        cents: &[],
        drop_rows: &[],
        note: "tickets name the company: `accounts` needs its `name` column",
    },
];

/// What `export` is: a vendor export, or a source's canonical columns; None
/// when neither. A Zendesk tickets export (keyed by Zendesk's own
/// organization id) is recognized and refused with the recipe's join.
pub fn recognize(export: &Sniffed) -> std::result::Result<Option<Proposal>, String> {
    if export.column("organization_id").is_some()
        && export.column("account_id").is_none()
        && export.column_containing("created").is_some()
    {
        return Err(
            "a Zendesk tickets export: `organization_id` is Zendesk's id, not the account's; join the \
             organizations export first (docs/INPUTS.md, \"Support: Zendesk tickets with the organizations export\")"
                .to_string(),
        );
    }
    if let Some(vendor) = VENDORS
        .iter()
        .find(|v| v.signature.iter().all(|c| export.column(c).is_some()))
    {
        return Ok(Some(from_vendor(vendor, export)));
    }
    // A user list keyed by email (what an LMS export names learners by):
    // a file named for users, or one that is no other source.
    let name = export.path.to_lowercase();
    let named = ["user", "member", "people", "contact"]
        .iter()
        .any(|w| name.contains(w));
    let proposal = canonical(export);
    if proposal.is_some() && !named {
        return Ok(proposal);
    }
    if export.column("user_id").is_none() && export.column("account_id").is_some() {
        if let Some(email) = export.column_containing("email") {
            return Ok(Some(Proposal {
                source: Users,
                shape: "user list keyed by email".to_string(),
                columns: vec![("user_id".to_string(), email.to_string())],
                invoice: false,
                cents: Vec::new(),
                drop_rows: Vec::new(),
                notes: vec![
                    "users keyed by email: every source keyed by user must name users by email too"
                        .to_string(),
                ],
            }));
        }
    }
    Ok(proposal)
}

fn from_vendor(vendor: &Vendor, export: &Sniffed) -> Proposal {
    let mut columns = Vec::new();
    for (canonical, candidates) in vendor.columns {
        if let Some(found) = candidates.iter().find_map(|c| find(export, c)) {
            columns.push((canonical.to_string(), found));
        }
    }
    let mut source = vendor.source;
    // A SurveyMonkey satisfaction question is CSAT, not NPS.
    if vendor.name == "SurveyMonkey export" && find(export, "*recommend*").is_none() {
        source = CsatResponses;
    }
    let drop_rows = vendor
        .drop_rows
        .iter()
        .filter_map(|(column, values, why)| {
            let column = export.column(column)?.to_string();
            Some((column, values.iter().map(|v| v.to_string()).collect(), *why))
        })
        .collect();
    Proposal {
        source,
        shape: vendor.name.to_string(),
        columns,
        invoice: vendor.invoice,
        cents: vendor.cents.to_vec(),
        drop_rows,
        notes: [vendor.note]
            .into_iter()
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .collect(),
    }
}

/// The file's column for a candidate (any case; `*x*` and `x.*` patterns).
fn find(export: &Sniffed, candidate: &str) -> Option<String> {
    if let Some(part) = candidate
        .strip_prefix('*')
        .and_then(|c| c.strip_suffix('*'))
    {
        return export.column_containing(part).map(str::to_string);
    }
    if let Some(prefix) = candidate.strip_suffix('*') {
        let prefix = prefix.to_lowercase();
        return export
            .columns
            .iter()
            .map(|(c, _)| c)
            .find(|c| c.to_lowercase().starts_with(&prefix))
            .cloned();
    }
    export.column(candidate).map(str::to_string)
}

/// Words of a file name that tell two sources with the same columns apart.
const NAME_HINTS: &[(SourceName, &[&str])] = &[
    (NpsResponses, &["nps"]),
    (CsatResponses, &["csat", "satisf"]),
    (Tickets, &["ticket"]),
    (Touchpoints, &["touch"]),
    (Referrals, &["referr"]),
    (Cancellations, &["cancel"]),
];

/// The source whose required canonical columns the file holds (an id
/// through `user_id` counts for a fact source), the one matching the most
/// columns, a file name hint breaking ties.
fn canonical(export: &Sniffed) -> Option<Proposal> {
    let name = export.path.to_lowercase();
    let mut best: Option<(usize, SourceName, bool)> = None;
    let mut shapes: Vec<(SourceName, bool, &[ColumnSpec])> = SourceName::ALL
        .iter()
        .map(|s| (*s, false, columns_of(*s)))
        .collect();
    shapes.push((Revenue, true, invoice_columns()));
    for (source, invoice, specs) in shapes {
        let by_user = !matches!(source, Accounts | Users) && export.column("user_id").is_some();
        let holds = specs
            .iter()
            .filter(|s| s.required)
            .all(|s| export.column(s.name).is_some() || (s.name == "account_id" && by_user));
        if !holds {
            continue;
        }
        let matched = specs
            .iter()
            .filter(|s| export.column(s.name).is_some())
            .count();
        let hinted = NAME_HINTS
            .iter()
            .any(|(s, words)| *s == source && words.iter().any(|w| name.contains(w)));
        let score = matched * 2 + usize::from(hinted) * 100;
        if best.is_none_or(|(b, _, _)| score > b) {
            best = Some((score, source, invoice));
        }
    }
    let (_, source, invoice) = best?;
    let specs = if invoice {
        invoice_columns()
    } else {
        columns_of(source)
    };
    let columns = specs
        .iter()
        .filter_map(|s| {
            export
                .column(s.name)
                .map(|c| (s.name.to_string(), c.to_string()))
        })
        .filter(|(canonical, file)| canonical != file)
        .collect();
    Some(Proposal {
        source,
        shape: "canonical columns".to_string(),
        columns,
        invoice,
        cents: Vec::new(),
        drop_rows: Vec::new(),
        notes: Vec::new(),
    })
}

impl Proposal {
    /// The file's column of a canonical column (mapped, or of its own name).
    pub fn file_column<'a>(&'a self, export: &'a Sniffed, canonical: &str) -> Option<&'a str> {
        self.columns
            .iter()
            .find(|(c, _)| c == canonical)
            .map(|(_, f)| f.as_str())
            .or_else(|| export.column(canonical))
    }

    /// The canonical columns of the drafted source.
    pub fn specs(&self) -> &'static [ColumnSpec] {
        if self.invoice {
            invoice_columns()
        } else {
            columns_of(self.source)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use polars::prelude::DataType;

    use super::recognize;
    use crate::config::{FileFormat, SourceName};
    use crate::draft::sniff::Sniffed;

    fn export(path: &str, columns: &[&str]) -> Sniffed {
        Sniffed {
            path: path.into(),
            format: FileFormat::Csv,
            columns: columns
                .iter()
                .map(|c| (c.to_string(), DataType::String))
                .collect(),
            samples: BTreeMap::new(),
            delimiter: None,
            second_header: false,
            files: Vec::new(),
        }
    }

    fn source(path: &str, columns: &[&str]) -> Option<SourceName> {
        recognize(&export(path, columns))
            .ok()
            .flatten()
            .map(|p| p.source)
    }

    #[test]
    fn files_are_told_apart_by_columns_then_by_name() {
        use SourceName::*;
        assert_eq!(
            source(
                "accounts.csv",
                &["account_id", "signup_date", "owner_email"]
            ),
            Some(Accounts)
        );
        assert_eq!(
            source(
                "tickets.csv",
                &["account_id", "created_at", "requester_email"]
            ),
            Some(Tickets)
        );
        assert_eq!(
            source("users.csv", &["email", "account_id", "created_at"]),
            Some(Users)
        );
        assert_eq!(
            source("nps.csv", &["account_id", "responded_at", "score"]),
            Some(NpsResponses)
        );
        assert_eq!(
            source("csat.csv", &["account_id", "responded_at", "score"]),
            Some(CsatResponses)
        );
        assert_eq!(
            source(
                "x.csv",
                &["Record ID", "Became a Customer Date", "Lifecycle Stage"]
            ),
            Some(Accounts)
        );
        assert_eq!(source("org.csv", &["Manager", "Report"]), None);
        assert!(recognize(&export("t.csv", &["id", "organization_id", "created_at"])).is_err());
    }
}
