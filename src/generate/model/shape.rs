//! The columns of the generated tables, derived from the canonical ones of
//! `source::tables` so that the generator and the reader share one schema.

use super::{Buffer, Table};
use crate::config::SourceName;
use crate::source::tables::{columns_of, ColumnKind, ColumnSpec};

/// How the generator writes one source, relative to its canonical columns
/// ([`columns_of`]): which of them, in which order, how it stores the kinds
/// that allow several types, and the columns it adds. The spec is checked
/// when the table is made: a column it does not know, a required column left
/// out or a null id in a non-nullable column is a bug of the generator.
pub(super) struct Shape {
    pub(super) source: SourceName,
    /// The canonical columns written, in file order, when that is not all of
    /// them in the spec's order.
    pub(super) only: Option<&'static [&'static str]>,
    /// `Day` columns are UTC datetimes (`Instant`) rather than dates.
    pub(super) instants: bool,
    /// `Number` columns are whole numbers (`Int`) rather than floats.
    pub(super) whole_numbers: bool,
    /// `Id` columns that are null in some rows (`OptInt`); other ids are always set.
    pub(super) sometimes_null: &'static [&'static str],
    /// Free-text columns beyond the spec, written after the canonical ones.
    pub(super) extra_text: &'static [&'static str],
}

impl Shape {
    /// All the canonical columns of `source`, in the spec's order, dates as dates.
    pub(super) const fn of(source: SourceName) -> Self {
        Shape {
            source,
            only: None,
            instants: false,
            whole_numbers: false,
            sometimes_null: &[],
            extra_text: &[],
        }
    }

    pub(super) fn table(self) -> Table {
        let name = self.source.as_str();
        let spec = columns_of(self.source);
        let find = |column: &str| -> &'static ColumnSpec {
            spec.iter().find(|c| c.name == column).unwrap_or_else(|| {
                panic!("generator table `{name}`: `{column}` is not a column of the spec")
            })
        };
        let written: Vec<&'static ColumnSpec> = match self.only {
            Some(columns) => columns.iter().map(|c| find(c)).collect(),
            None => spec.iter().collect(),
        };
        for column in spec {
            let times = written.iter().filter(|c| c.name == column.name).count();
            assert!(
                times <= 1,
                "generator table `{name}` lists `{}` twice",
                column.name
            );
            assert!(
                times == 1 || !column.required,
                "generator table `{name}` leaves out required column `{}`",
                column.name
            );
        }
        for column in self.sometimes_null {
            let found = find(column);
            assert!(
                found.kind == ColumnKind::Id && found.nullable,
                "generator table `{name}`: `{column}` is not a nullable id"
            );
        }
        for column in self.extra_text {
            assert!(
                spec.iter().all(|c| c.name != *column),
                "generator table `{name}`: extra column `{column}` is in the spec"
            );
        }
        let columns = written
            .iter()
            .map(|c| (c.name, self.buffer(c)))
            .chain(self.extra_text.iter().map(|c| (*c, Buffer::Text(vec![]))))
            .collect();
        Table::new(name, columns)
    }

    fn buffer(&self, column: &ColumnSpec) -> Buffer {
        match column.kind {
            ColumnKind::Id if self.sometimes_null.contains(&column.name) => Buffer::OptInt(vec![]),
            ColumnKind::Id => Buffer::Int(vec![]),
            ColumnKind::Day if self.instants => Buffer::Instant(vec![]),
            ColumnKind::Day => Buffer::Day(vec![]),
            ColumnKind::Number if self.whole_numbers => Buffer::Int(vec![]),
            ColumnKind::Number => Buffer::Float(vec![]),
            ColumnKind::Text => Buffer::Text(vec![]),
        }
    }
}
