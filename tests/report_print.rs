//! The report on paper: the adjusted sample report (the widest page)
//! printed by headless Chromium to PDF on Letter and on A4, read back with
//! `pdftotext`. Nothing is shrunk to fit or passes the page's edge, and the
//! text of every table row (every header cell, every number, the counts
//! that are only hover titles on screen) is in the PDF in its order.

mod common;

use std::path::Path;

use common::*;
use scraper::{ElementRef, Html, Node, Selector};

/// A word of known width, printed in the report and alone: Chromium shrinks
/// a page whose content is wider than the paper to fit, so the word prints
/// narrower in the report than alone exactly when something is too wide.
const PROBE: &str = "PRINTSCALEPROBE";
const PROBE_P: &str = r#"<p style="font: 20px monospace">PRINTSCALEPROBE</p>"#;

fn select<'a>(page: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    let selector = Selector::parse(css).unwrap_or_else(|e| panic!("{css}: {e:?}"));
    page.select(&selector).collect()
}

fn select_in<'a>(element: ElementRef<'a>, css: &str) -> Vec<ElementRef<'a>> {
    let selector = Selector::parse(css).unwrap_or_else(|e| panic!("{css}: {e:?}"));
    element.select(&selector).collect()
}

/// Text without any whitespace or soft hyphen: how a table's text and the
/// PDF's are compared, whatever the line breaks inside a cell.
fn flat(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{ad}')
        .collect()
}

/// The text a table row prints: its text nodes in order, leaving out the
/// charts' titles and descriptions (inside `svg`) and text for screen
/// readers only (`.sr`).
fn printed_text(row: ElementRef) -> String {
    let mut text = String::new();
    for node in row.descendants() {
        let Node::Text(t) = node.value() else {
            continue;
        };
        let hidden = node.ancestors().any(|a| {
            a.value()
                .as_element()
                .is_some_and(|e| e.name() == "svg" || e.classes().any(|c| c == "sr"))
        });
        if !hidden {
            text.push_str(t);
        }
    }
    flat(&text)
}

/// One word of the PDF: its left and right edge (points) and its text.
struct Word {
    left: f64,
    right: f64,
    text: String,
}

/// Prints `html` (written to `dir/name.html`) to `dir/name.pdf` and reads
/// back the page width, the words with their boxes, and the text in the
/// order it is drawn.
fn print(
    browser: &Path,
    pdftotext: &Path,
    dir: &Path,
    name: &str,
    html: &str,
) -> (f64, Vec<Word>, String) {
    let page = dir.join(format!("{name}.html"));
    let pdf = dir.join(format!("{name}.pdf"));
    std::fs::write(&page, html).unwrap();
    browser::headless(
        browser,
        &dir.join("profile"),
        &[
            "--no-pdf-header-footer",
            &format!("--print-to-pdf={}", pdf.display()),
        ],
        &page,
    );
    let text = |args: &[&str]| {
        let out = std::process::Command::new(pdftotext)
            .args(args)
            .arg(&pdf)
            .arg("-")
            .output()
            .expect("run pdftotext");
        assert!(out.status.success(), "pdftotext {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let boxes = Html::parse_document(&text(&["-bbox"]));
    let number =
        |e: &ElementRef, attr: &str| -> f64 { e.value().attr(attr).unwrap().parse().unwrap() };
    let width = number(&select(&boxes, "page")[0], "width");
    let words = select(&boxes, "word")
        .iter()
        .map(|w| Word {
            left: number(w, "xmin"),
            right: number(w, "xmax"),
            text: w.text().collect(),
        })
        .collect();
    (width, words, text(&["-raw"]))
}

#[test]
fn printed_on_letter_and_a4_no_table_loses_a_column_or_a_count() {
    let Some(browser) = browser::chromium_or_skip("print") else {
        return;
    };
    let Some(pdftotext) = browser::pdftotext_or_skip("print") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let report =
        std::fs::read_to_string(adjusted_sample_run(dir.path()).join("report.html")).unwrap();
    let page = Html::parse_document(&report);
    // Every table shown without a click (not the closed exploratory rows).
    let rows: Vec<(String, String)> = select(&page, "table")
        .into_iter()
        .filter(|t| {
            !t.ancestors().any(|a| {
                a.value()
                    .as_element()
                    .is_some_and(|e| e.name() == "details")
            })
        })
        .flat_map(|t| {
            let section = t
                .ancestors()
                .filter_map(ElementRef::wrap)
                .find(|a| a.value().name() == "section")
                .and_then(|s| s.value().attr("id"))
                .unwrap_or("-")
                .to_string();
            let rows = select_in(t, "tr");
            rows.into_iter()
                .map(move |r| (section.clone(), printed_text(r)))
        })
        .filter(|(_, text)| !text.is_empty())
        .collect();
    assert!(rows.len() > 200, "{} rows", rows.len());
    // The counts behind the heatmap cells and the MRR amounts are printed.
    assert!(!select(&page, "table.heatmap td.cell span.n").is_empty());
    assert!(!select(&page, "table.movements td span.n").is_empty());

    for paper in ["Letter", "A4"] {
        let size = format!("<style>@page {{ size: {paper} }}</style>");
        let copy = report
            .replacen("</head>", &format!("{size}</head>"), 1)
            .replacen("</body>", &format!("{PROBE_P}</body>"), 1);
        let (width, words, text) = print(&browser, &pdftotext, dir.path(), paper, &copy);
        let alone =
            format!("<!doctype html><html><head>{size}</head><body>{PROBE_P}</body></html>");
        let (_, alone_words, _) = print(
            &browser,
            &pdftotext,
            dir.path(),
            &format!("{paper}-probe"),
            &alone,
        );
        let probe = |words: &[Word]| {
            let w = words
                .iter()
                .find(|w| w.text == PROBE)
                .expect("the probe word");
            w.right - w.left
        };
        // Not shrunk to fit: the probe is as wide as alone (a table 1,100 px
        // wide made it 0.67).
        let scale = probe(&words) / probe(&alone_words);
        assert!(
            (scale - 1.0).abs() < 0.01,
            "{paper}: printed at {scale:.3} of its size"
        );
        // Nothing passes the paper's edge.
        let outside: Vec<&str> = words
            .iter()
            .filter(|w| w.left < 0.0 || w.right > width)
            .map(|w| w.text.as_str())
            .collect();
        assert!(outside.is_empty(), "{paper}: past the edge: {outside:?}");
        // Every table row's text in order (a table broken over pages
        // repeats its header): a hidden column or count breaks it.
        let printed = flat(&text);
        for (section, row) in &rows {
            assert!(
                printed.contains(row.as_str()),
                "{paper}: a table row of `{section}` is not printed whole:\n{row}"
            );
        }
    }
}
