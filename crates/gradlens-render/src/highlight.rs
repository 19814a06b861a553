//! Word highlights as a standalone SVG, for slides and posts where HTML cannot go. The text is set in a
//! monospace font so that each word's box is sized from its character count (East Asian wide characters
//! count twice), without font metrics. Text is escaped by the `svg` crate; there are no scripts.

use gradlens_explanation::{Attribution, Explanation, Segment};
use svg::Document;
use svg::node::element::{Group, Rectangle, Text, Title};
use unicode_width::UnicodeWidthStr;

use crate::color::{normalise, rgb, text_on};

const FONT: f32 = 15.0;
/// The advance of one monospace character.
const CHAR: f32 = 0.6 * FONT;
const LINE: f32 = 1.9 * FONT;
const WIDTH: f32 = 640.0;
const PAD: f32 = 12.0;

/// Every attribution of `explanation`, one block per method under the prediction.
pub fn svg(explanation: &Explanation) -> String {
    let mut y = PAD + FONT;
    let prediction = explanation.class_probabilities().join("   ");
    let mut doc =
        Document::new().set("role", "img").set("aria-label", format!("GradLens explanation: {prediction}")).add(plain(&prediction, PAD, y, "#333"));
    for attribution in &explanation.attributions {
        y += LINE;
        let (block, height) = block(explanation, attribution);
        doc = doc.add(block.set("transform", format!("translate(0 {y})")));
        y += height;
    }
    let height = y + PAD;
    doc.set("viewBox", (0, 0, WIDTH, height)).set("width", WIDTH).set("height", height).set("style", "background:#fff").to_string()
}

/// One method: a caption, the text with its words on coloured boxes, and a legend. Returns the group and
/// its height.
fn block(explanation: &Explanation, attribution: &Attribution) -> (Group, f32) {
    let label = &explanation.model.labels[attribution.target];
    let caption = format!("{} for {label}", attribution.title());
    let mut group = Group::new().add(plain(&caption, PAD, 0.0, "#444"));
    let columns = ((WIDTH - 2.0 * PAD) / CHAR) as usize;
    let (mut column, mut line) = (0usize, 1usize);
    let shades = normalise(&attribution.word_scores);
    for (piece, score) in pieces(explanation, attribution, &shades) {
        if piece == "\n" {
            (column, line) = (0, line + 1);
            continue;
        }
        if piece.trim().is_empty() {
            column += piece.width();
            continue;
        }
        let width = piece.width();
        if column > 0 && column + width > columns {
            (column, line) = (0, line + 1);
        }
        let (x, baseline) = (PAD + CHAR * column as f32, LINE * line as f32);
        match score {
            Some((value, shade)) => {
                let background = rgb(shade);
                let (r, g, b) = text_on(background);
                group = group
                    .add(
                        Rectangle::new()
                            .set("x", x - 1.5)
                            .set("y", baseline - 0.95 * FONT)
                            .set("width", CHAR * width as f32 + 3.0)
                            .set("height", 1.3 * FONT)
                            .set("rx", 3)
                            .set("fill", format!("rgb({},{},{})", background.0, background.1, background.2))
                            .add(Title::new(format!("{piece}: {value:+.4}"))),
                    )
                    .add(plain(piece, x, baseline, &format!("rgb({r},{g},{b})")));
            }
            None => group = group.add(plain(piece, x, baseline, "#000")),
        }
        column += width;
    }
    let legend_y = LINE * (line + 1) as f32;
    let mut x = PAD;
    for ((r, g, b), words) in crate::color::legend(label) {
        let width = CHAR * 0.8 * words.width() as f32 + 8.0;
        group = group
            .add(
                Rectangle::new().set("x", x).set("y", legend_y - 11.0).set("width", width).set("height", 15).set("fill", format!("rgb({r},{g},{b})")),
            )
            .add(plain(&words, x + 4.0, legend_y, "#fff").set("font-size", 0.8 * FONT));
        x += width + 8.0;
    }
    (group, legend_y + 0.5 * LINE)
}

/// The text cut into words (with their score and shade) and, between them, runs of spaces, runs of
/// other characters and single newlines.
fn pieces<'a>(explanation: &'a Explanation, attribution: &'a Attribution, shades: &[f32]) -> Vec<(&'a str, Option<(f32, f32)>)> {
    let mut out = Vec::new();
    for segment in explanation.segments(&attribution.word_scores) {
        match segment {
            Segment::Gap(gap) => out.extend(runs(gap).into_iter().map(|r| (r, None))),
            Segment::Word { index, text, score } => out.push((text, Some((score, shades[index])))),
        }
    }
    out
}

fn runs(gap: &str) -> Vec<&str> {
    let kind = |c: char| {
        if c == '\n' {
            0
        } else if c.is_whitespace() {
            1
        } else {
            2
        }
    };
    let chars: Vec<(usize, char)> = gap.char_indices().collect();
    let mut out = Vec::new();
    let mut start = 0;
    for (k, &(_, c)) in chars.iter().enumerate() {
        let next = chars.get(k + 1);
        if next.is_none_or(|&(_, d)| c == '\n' || kind(d) != kind(c)) {
            let end = next.map_or(gap.len(), |&(j, _)| j);
            out.push(&gap[start..end]);
            start = end;
        }
    }
    out
}

fn plain(content: &str, x: f32, y: f32, fill: &str) -> Text {
    Text::new(content)
        .set("x", x)
        .set("y", y)
        .set("fill", fill)
        .set("font-size", FONT)
        .set("font-family", "ui-monospace, Menlo, Consolas, monospace")
        .set("xml:space", "preserve")
}
