//! The stylesheet of the page, inlined in its `<style>`.

/// The page's style: Okabe–Ito blue (trained, solid) and orange (untrained,
/// dashed) for marks, readable in grey, and darker shades of them for text
/// (every text colour reaches 4.5:1, the test below); a layout that
/// stacks the comparison tables on a phone, and a print layout that keeps
/// charts whole.
pub(super) const CSS: &str = r#"
:root { --trained: #0072B2; --untrained: #E69F00; --good: #0072B2; --bad: #D55E00; --muted: #6b6b6b; --bad-text: #B04500; --untrained-text: #8a5a00; --faint: #767676; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; margin: 0 auto; max-width: 1180px; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 32px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.facts { color: var(--muted); margin: 0 0 16px; }
.caveat { border-left: 4px solid var(--untrained); background: #fff8e6; padding: 10px 14px; margin: 16px 0; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 12px; }
.tile { border: 1px solid #ccc; border-radius: 6px; padding: 12px; break-inside: avoid; }
.tile h3 { font-size: 15px; margin: 0 0 6px; }
.tile .diff { font-size: 22px; font-weight: 600; }
.tile .verdict { font-weight: 600; } .tile .sentence { margin: 6px 0 0; font-size: 13px; }
.better { color: var(--good); } .worse { color: var(--bad-text); } .unclear { color: var(--muted); }
.tile .cohorts { display: grid; grid-template-columns: auto 1fr; gap: 0 8px; margin: 6px 0; }
.small { font-size: 13px; color: var(--muted); }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { padding: 3px 8px; border-bottom: 1px solid #e5e5e5; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.swatch-trained { color: var(--trained); font-weight: 600; } .swatch-untrained { color: var(--untrained-text); font-weight: 600; }
figure { margin: 8px 0; break-inside: avoid; }
svg text { font: 12px system-ui, sans-serif; fill: #1a1a1a; }
svg text.swatch-trained { fill: var(--trained); } svg text.swatch-untrained { fill: var(--untrained-text); }
svg .axis { stroke: #555; } svg .grid { stroke: #e3e3e3; }
svg .trained { stroke: var(--trained); fill: none; stroke-width: 2; }
svg .untrained { stroke: var(--untrained); fill: none; stroke-width: 2; stroke-dasharray: 6 4; }
svg .bar-trained { fill: var(--trained); } svg .bar-untrained { fill: var(--untrained); stroke: #7a5200; stroke-dasharray: 3 2; }
svg .band-trained { fill: var(--trained); opacity: 0.15; } svg .band-untrained { fill: var(--untrained); opacity: 0.2; }
table.forest-table { width: 100%; font-size: 12px; }  table.forest-table tr.metric th { text-align: left; padding-top: 12px; border-bottom: 1px solid #bbb; }
table.forest-table tr.thin td { color: var(--faint); }
table.forest-table tr.metric th.small { font-weight: normal; } table.forest-table td.diff span.small { display: block; } table.forest-table td, table.forest-table th { padding: 3px 5px; } div.scroll { overflow-x: auto; } h4 .favours { font-weight: normal; margin-left: 8px; } 
svg.forest .zero { stroke: #444; stroke-width: 1; } svg.forest .ci { stroke-width: 2; }
svg.forest.better .ci, svg.forest.better .point { stroke: var(--good); fill: var(--good); }
svg.forest.worse .ci, svg.forest.worse .point { stroke: var(--bad); fill: var(--bad); }
svg.forest.unclear .ci, svg.forest.unclear .point { stroke: #9a9a9a; fill: #9a9a9a; }
tr.unclear td { color: #707070; }
div.heatmap-wrap { overflow-x: auto; margin-bottom: 12px; }
table.heatmap { font-size: 11px; } table.heatmap td, table.heatmap th { padding: 1px 3px; border: 1px solid #fff; text-align: center; min-width: 22px; }
table.heatmap td.blank { background: #f4f4f4; } table.heatmap td.few { background: #e9e9e9; color: #5f5f5f; } table.heatmap caption { text-align: left; font-weight: 600; font-size: 13px; }
dl.definitions dt { font-weight: 600; margin-top: 6px; } dl.definitions dd { margin-left: 16px; }
footer { margin-top: 32px; color: var(--muted); font-size: 13px; }
.mv-new { fill: #009E73; background: #009E73; } .mv-reactivation { fill: #56B4E9; background: #56B4E9; } .mv-expansion { fill: #A6DBC9; background: #A6DBC9; }
.mv-contraction { fill: #F0A78A; background: #F0A78A; } .mv-churn { fill: #B8400A; background: #B8400A; }
th.group { text-align: center; border-bottom: 2px solid #ccc; }
svg .net { stroke: #1a1a1a; stroke-width: 1.5; fill: none; } svg circle.net { fill: #1a1a1a; }
.legend .key { margin-right: 14px; white-space: nowrap; } .legend .sw { display: inline-block; width: 11px; height: 11px; margin-right: 4px; vertical-align: -1px; }
.legend .net-key { height: 2px; width: 16px; background: #1a1a1a; vertical-align: 3px; }
.panels { display: flex; flex-wrap: wrap; gap: 8px 24px; }
.dots { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 4px 16px; }
.dots h3 { font-size: 14px; margin: 10px 0 0; }
svg .clipped { fill: #555; } svg .dot-trained { fill: var(--trained); } svg .dot-untrained { fill: #fff; stroke: #9a6a00; stroke-width: 1.5; }
svg text.thin, td.thin { fill: var(--faint); color: var(--faint); }
#bottom-line { border: 2px solid #1a1a1a; border-radius: 6px; padding: 4px 16px; margin: 16px 0; } #bottom-line h2 { border: 0; margin: 8px 0 4px; font-size: 18px; } p.bottom-line { font-size: 17px; margin: 6px 0 10px; }
.tile .relative { font-size: 14px; font-weight: normal; color: var(--muted); } .tile .lead-label { font-weight: 600; } .tile .before { margin-top: 6px; } .tile .mde, .tile .e-value, .tile .n-counts { margin: 4px 0 0; }
.tier { font-size: 13px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); margin: 14px 0 6px; }
.tile.breach { border: 2px solid var(--bad); } .breach-note { color: var(--bad-text); font-weight: 600; font-size: 13px; }
.warning { border-left: 4px solid var(--bad); background: #fdf0ea; padding: 6px 12px; margin: 8px 0; }
svg.love .before { fill: #fff; stroke: #555; stroke-width: 1.5; } svg.love .after { fill: #1a1a1a; } svg.love .threshold { stroke: #999; stroke-dasharray: 4 3; }
dl.glossary dt { font-weight: 600; margin-top: 6px; } dl.glossary dd { margin-left: 16px; }
svg[viewBox] { max-width: 100%; height: auto; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
div.metric-block { margin: 10px 0 14px; } div.metric-block h4 { font-size: 14px; margin: 0 0 2px; border-bottom: 1px solid #bbb; padding-bottom: 2px; }
table.forest-table td.chart { width: 150px; } table.forest-table td.verdict { white-space: nowrap; }
details.exploratory { margin: 2px 0 6px; } details.exploratory summary { cursor: pointer; font-size: 13px; color: var(--muted); }
.dots { grid-template-columns: repeat(auto-fill, minmax(min(540px, 100%), 1fr)); }
table.heatmap span.n { display: none; } table.movements span.n { display: block; font-size: 10px; color: var(--muted); }
table.wide { display: block; overflow-x: auto; max-width: 100%; }
/* Paper (Letter or A4, about 740 px) and narrow screens: compact tables. */
@media print, screen and (max-width: 800px) {
  table.forest-table { font-size: 10px; } table.movements, table.heatmap { font-size: 9px; }
  table.movements td, table.movements th, table.forest-table td, table.forest-table th { padding: 2px; }
  table.heatmap td, table.heatmap th { min-width: 0; padding: 1px 2px; }
  table.forest-table td.chart { width: 110px; }
}
@media screen and (max-width: 700px) {
  body { padding: 12px; }
  table.forest-table thead { display: none; }
  table.forest-table, table.forest-table tbody, table.forest-table tr, table.forest-table td { display: block; width: auto; text-align: left; }
  table.forest-table tr { border-bottom: 1px solid #ddd; padding: 4px 0; }
  table.forest-table td { border: 0; padding: 1px 0; }
  table.forest-table td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); }
  table.forest-table td.diff span.small { display: inline; }
  table { display: block; overflow-x: auto; max-width: 100%; }
}
@media print { table.heatmap span.n { display: block; font-size: 7px; } table.movements span.n { font-size: 7px; } body { max-width: none; padding: 0; } .tile, figure, svg, tr, .dots > div { break-inside: avoid; } figure table, .heatmap-wrap table { break-inside: avoid; } h2 { break-after: avoid; } abbr { text-decoration: none; } .heatmap-wrap, div.scroll { overflow: visible; } }
"#;

#[cfg(test)]
mod tests {
    use super::CSS;

    /// The relative luminance of `#rrggbb` (WCAG 2).
    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    /// The value of `property` in a rule's declarations, variables resolved.
    fn value_of(declarations: &str, property: &str) -> Option<String> {
        declarations.split(';').find_map(|d| {
            let (name, value) = d.split_once(':')?;
            (name.trim() == property).then(|| {
                let value = value.trim();
                match value
                    .strip_prefix("var(--")
                    .and_then(|v| v.strip_suffix(')'))
                {
                    Some(var) => {
                        let root = &CSS[CSS.find(":root").unwrap()..];
                        let at = root.find(&format!("--{var}:")).unwrap();
                        root[at + var.len() + 3..].trim_start()[..7].to_string()
                    }
                    None => value.to_string(),
                }
            })
        })
    }

    #[test]
    fn contrast_by_hand() {
        // Black on white is 21:1; Okabe–Ito orange on white 2.25:1.
        assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 1e-9);
        assert!((contrast("#E69F00", "#ffffff") - 2.25).abs() < 0.01);
    }

    #[test]
    fn every_text_colour_reaches_4_5_to_1() {
        let mut checked = 0;
        for rule in CSS.split('}') {
            let Some((selector, declarations)) = rule.rsplit_once('{') else {
                continue;
            };
            // Text is `color`, and `fill` in rules for SVG text.
            let colours = [
                value_of(declarations, "color"),
                value_of(declarations, "fill").filter(|_| selector.contains("text")),
            ];
            let background = value_of(declarations, "background")
                .filter(|b| b.starts_with('#') && b.len() == 7)
                .unwrap_or_else(|| "#ffffff".into());
            for colour in colours.into_iter().flatten() {
                if !(colour.starts_with('#') && colour.len() == 7) {
                    continue;
                }
                let ratio = contrast(&colour, &background);
                assert!(
                    ratio >= 4.5,
                    "`{}`: {colour} on {background} is {ratio:.2}:1",
                    selector.trim()
                );
                checked += 1;
            }
        }
        assert!(checked >= 15, "only {checked} text colours found");
    }
}
