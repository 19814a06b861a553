//! Line charts as standalone SVG (the deletion and insertion curves): one series per method, axes from 0
//! to 1, a legend. Text is escaped by the `svg` crate.

use gradlens_explanation::Explanation;
use svg::Document;
use svg::node::element::{Line, Polyline, Rectangle, Text};

/// One line: a name and its `(x, y)` points, both in [0, 1].
pub struct Series {
    /// The legend's label (for a curve, the method's name).
    pub name: String,
    /// The points in drawing order.
    pub points: Vec<(f32, f32)>,
}

/// The two curve metrics, with the one wording of their charts (page, widget, exports, `eval`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    /// `p_y` as the top-scored tokens are removed (lower is better).
    Deletion,
    /// `p_y` as the top-scored tokens are inserted into the emptied input (higher is better).
    Insertion,
}

impl Curve {
    /// Both curves, in the order charts show them.
    pub const ALL: [Curve; 2] = [Curve::Deletion, Curve::Insertion];

    /// The metric whose value is the area under this curve.
    pub fn metric(self) -> &'static str {
        match self {
            Curve::Deletion => "deletion_area",
            Curve::Insertion => "insertion_area",
        }
    }

    /// A short name for files and data attributes.
    pub fn key(self) -> &'static str {
        match self {
            Curve::Deletion => "deletion",
            Curve::Insertion => "insertion",
        }
    }

    /// One series per attribution that has this curve.
    pub fn series(self, explanation: &Explanation) -> Vec<Series> {
        explanation
            .attributions
            .iter()
            .filter_map(|a| {
                let curve = a.metric(self.metric())?.curve.as_ref()?;
                Some(Series { name: a.title(), points: curve.iter().map(|p| (p.fraction, p.probability)).collect() })
            })
            .collect()
    }

    /// One sentence under the chart: what the curve shows and which way is better, in plain words.
    pub fn caption(self) -> &'static str {
        match self {
            Curve::Deletion => {
                "The model's confidence as the words are removed, highest-scored first. A curve that drops early means the method found the words the prediction rests on."
            }
            Curve::Insertion => {
                "The model's confidence as the words are put back into an empty text, highest-scored first. A curve that rises early means the top words alone carry the prediction."
            }
        }
    }

    /// The chart of `series` under this curve's title and axes.
    pub fn chart(self, series: &[Series]) -> String {
        let (title, x_label) = match self {
            Curve::Deletion => ("Deletion (lower is better)", "fraction of tokens removed"),
            Curve::Insertion => ("Insertion (higher is better)", "fraction of tokens inserted"),
        };
        line_chart(title, x_label, "p(predicted class)", series)
    }
}

/// Colours for up to eight series (Okabe-Ito, distinguishable with colour-vision deficiencies).
const PALETTE: [&str; 8] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];
/// Line styles (SVG dash arrays), so that a ninth series and beyond differ from the first eight.
const DASHES: [&str; 3] = ["none", "7 3", "2 2"];

/// The colour and dash of series `i`: every combination once before any repeats (24 series).
fn line_style(i: usize) -> (&'static str, &'static str) {
    (PALETTE[i % PALETTE.len()], DASHES[(i / PALETTE.len()) % DASHES.len()])
}

const WIDTH: f32 = 460.0;
const HEIGHT: f32 = 300.0;
const LEFT: f32 = 48.0;
const RIGHT: f32 = 170.0;
const TOP: f32 = 28.0;
const BOTTOM: f32 = 44.0;

/// An SVG document: `title`, the axes' labels, and every series.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |v: f32| LEFT + v.clamp(0.0, 1.0) * plot_w;
    let y = |v: f32| TOP + (1.0 - v.clamp(0.0, 1.0)) * plot_h;
    let text = |content: &str, px: f32, py: f32, anchor: &str| {
        Text::new(content).set("x", px).set("y", py).set("text-anchor", anchor).set("font-size", 11).set("font-family", "sans-serif")
    };
    let mut doc = Document::new()
        .set("viewBox", (0, 0, WIDTH, HEIGHT))
        .set("width", WIDTH)
        .set("height", HEIGHT)
        .set("role", "img")
        .set("aria-label", title)
        .add(Rectangle::new().set("width", WIDTH).set("height", HEIGHT).set("fill", "#fff"))
        .add(text(title, WIDTH / 2.0, 16.0, "middle").set("font-size", 13));
    for tick in [0.0f32, 0.25, 0.5, 0.75, 1.0] {
        doc = doc
            .add(Line::new().set("x1", x(0.0)).set("x2", x(1.0)).set("y1", y(tick)).set("y2", y(tick)).set("stroke", "#e5e5e5"))
            .add(text(&format!("{tick}"), x(0.0) - 6.0, y(tick) + 4.0, "end"))
            .add(text(&format!("{tick}"), x(tick), y(0.0) + 16.0, "middle"));
    }
    doc = doc
        .add(Line::new().set("x1", x(0.0)).set("x2", x(0.0)).set("y1", y(0.0)).set("y2", y(1.0)).set("stroke", "#333"))
        .add(Line::new().set("x1", x(0.0)).set("x2", x(1.0)).set("y1", y(0.0)).set("y2", y(0.0)).set("stroke", "#333"))
        .add(text(x_label, x(0.5), HEIGHT - 8.0, "middle"))
        .add(text(y_label, 12.0, y(0.5), "middle").set("transform", format!("rotate(-90 12 {})", y(0.5))));
    for (i, s) in series.iter().enumerate() {
        let (color, dash) = line_style(i);
        let points: Vec<String> = s.points.iter().map(|&(px, py)| format!("{:.1},{:.1}", x(px), y(py))).collect();
        let legend_y = TOP + 14.0 * i as f32 + 6.0;
        doc = doc
            .add(
                Polyline::new()
                    .set("points", points.join(" "))
                    .set("fill", "none")
                    .set("stroke", color)
                    .set("stroke-dasharray", dash)
                    .set("stroke-width", 1.8),
            )
            .add(
                Line::new()
                    .set("x1", WIDTH - RIGHT + 10.0)
                    .set("x2", WIDTH - RIGHT + 26.0)
                    .set("y1", legend_y)
                    .set("y2", legend_y)
                    .set("stroke", color)
                    .set("stroke-dasharray", dash)
                    .set("stroke-width", 3),
            )
            .add(text(&s.name, WIDTH - RIGHT + 30.0, legend_y + 4.0, "start"));
    }
    doc.to_string()
}

/// A `rows x columns` matrix (row-major) as an SVG heat map, coloured on the attribution scale (blue
/// positive, red negative, scaled by the largest magnitude), each cell titled with its value.
pub fn heatmap(title: &str, rows: &[String], columns: &[String], values: &[f32]) -> String {
    let (n, m) = (rows.len(), columns.len());
    assert_eq!(values.len(), n * m, "a rows x columns matrix");
    const CELL: f32 = 16.0;
    const MARGIN: f32 = 90.0;
    let (width, height) = (MARGIN + CELL * m as f32 + 10.0, MARGIN + CELL * n as f32 + 10.0);
    let max = values.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(f32::MIN_POSITIVE);
    let label = |content: &str, x: f32, y: f32, anchor: &str| {
        Text::new(content).set("x", x).set("y", y).set("text-anchor", anchor).set("font-size", 10).set("font-family", "sans-serif")
    };
    let mut doc = Document::new()
        .set("viewBox", (0, 0, width, height + 16.0))
        .set("width", width)
        .set("role", "img")
        .set("aria-label", title)
        .add(Rectangle::new().set("width", width).set("height", height + 16.0).set("fill", "#fff"))
        .add(label(title, 4.0, 12.0, "start").set("font-size", 12));
    let top = MARGIN + 16.0;
    for (i, name) in rows.iter().enumerate() {
        doc = doc.add(label(name, MARGIN - 4.0, top + CELL * (i as f32 + 0.5) + 3.0, "end"));
    }
    for (j, name) in columns.iter().enumerate() {
        let offset = MARGIN + CELL * (j as f32 + 0.5);
        doc = doc.add(label(name, 0.0, 0.0, "start").set("transform", format!("translate({} {}) rotate(-60)", offset + 3.0, top - 4.0)));
    }
    for (k, &v) in values.iter().enumerate() {
        let (row, col) = (k / m, k % m);
        let (r, g, b) = crate::color::rgb(v / max);
        doc = doc.add(
            Rectangle::new()
                .set("x", MARGIN + CELL * col as f32)
                .set("y", top + CELL * row as f32)
                .set("width", CELL)
                .set("height", CELL)
                .set("fill", format!("rgb({r},{g},{b})"))
                .add(svg::node::element::Title::new(format!("{} → {}: {v:.4}", rows[row], columns[col]))),
        );
    }
    doc.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_well_formed_svg_with_escaped_text() {
        let series = [Series { name: "<script>x</script>".into(), points: vec![(0.0, 1.0), (1.0, 0.5)] }];
        let line = line_chart("a & b", "x", "y", &series);
        let doc = roxmltree::Document::parse(&line).expect("well-formed");
        assert_eq!(doc.descendants().filter(|n| n.has_tag_name("polyline")).count(), 1);
        assert!(doc.descendants().all(|n| !n.has_tag_name("script")));
        assert!(doc.descendants().any(|n| n.text().map(str::trim) == Some("<script>x</script>")), "the name is text, escaped");

        let labels = ["[CLS]".to_string(), "<b>".to_string(), "[SEP]".to_string()];
        let map = heatmap("Grad-SAM", &labels, &labels, &[0.0, 1.0, 0.5, 0.2, 0.0, 0.0, 0.1, 0.0, 2.0]);
        let doc = roxmltree::Document::parse(&map).expect("well-formed");
        let titles: Vec<&str> = doc.descendants().filter(|n| n.has_tag_name("title")).filter_map(|n| n.text().map(str::trim)).collect();
        assert_eq!(titles.len(), 9);
        assert_eq!(titles[1], "[CLS] → <b>: 1.0000");
        let full = doc.descendants().filter(|n| n.attribute("fill") == Some("rgb(33,102,172)")).count();
        assert_eq!(full, 1, "only the largest value gets full colour");
    }

    #[test]
    fn every_method_of_the_registry_gets_its_own_line() {
        let series: Vec<Series> = (0..17).map(|i| Series { name: format!("method {i}"), points: vec![(0.0, 1.0), (1.0, 0.0)] }).collect();
        let chart = line_chart("t", "x", "y", &series);
        let doc = roxmltree::Document::parse(&chart).expect("well-formed");
        let styles: std::collections::HashSet<(&str, &str)> = doc
            .descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .map(|n| (n.attribute("stroke").unwrap(), n.attribute("stroke-dasharray").unwrap()))
            .collect();
        assert_eq!(styles.len(), 17, "no two lines look alike");
    }
}
