//! The terminal view: the text with each word's background coloured by its score, one line per method;
//! without colour, each word is followed by its score divided by the largest magnitude.

use std::fmt::Write;

use gradlens_explanation::{Explanation, Segment};
use gradlens_render::color::{normalise, rgb, text_on};
use owo_colors::OwoColorize;

pub fn render(explanation: &Explanation, color: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "prediction: {}", explanation.class_probabilities().join(", "));
    for attribution in &explanation.attributions {
        let _ = write!(out, "\n{} (for {}", attribution.method, explanation.model.labels[attribution.target]);
        if let Some(c) = attribution.diagnostics.completeness {
            let _ = write!(out, ", completeness gap {:.2}%", 100.0 * c.relative_gap);
        }
        let _ = writeln!(out, ", {:.2}s)", attribution.seconds);
        let shades = normalise(&attribution.word_scores);
        for segment in explanation.segments(&attribution.word_scores) {
            match segment {
                Segment::Gap(gap) => out.push_str(gap),
                Segment::Word { index, text, .. } if color => {
                    let (r, g, b) = rgb(shades[index]);
                    let (fr, fg, fb) = text_on((r, g, b));
                    let _ = write!(out, "{}", text.on_truecolor(r, g, b).truecolor(fr, fg, fb));
                }
                Segment::Word { index, text, .. } => {
                    let _ = write!(out, "{text}[{:+.2}]", shades[index]);
                }
            }
        }
        out.push('\n');
    }
    out
}
