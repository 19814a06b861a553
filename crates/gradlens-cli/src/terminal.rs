//! The terminal view: the text with each word's background coloured by its score, one line per method;
//! without colour, each word is followed by its score divided by the largest magnitude.

use std::fmt::Write;

use gradlens_attribution::Explanation;
use gradlens_render::color::{normalise, rgb, text_on};
use owo_colors::OwoColorize;

pub fn render(explanation: &Explanation, color: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "prediction: {}", gradlens_render::class_probabilities(explanation).join(", "));
    for attribution in &explanation.attributions {
        let _ = write!(out, "\n{} (for {}", attribution.method, explanation.model.labels[attribution.target]);
        if let Some(c) = attribution.completeness {
            let _ = write!(out, ", completeness gap {:.2}%", 100.0 * c.relative_gap);
        }
        let _ = writeln!(out, ", {:.2}s)", attribution.seconds);
        let mut cursor = 0;
        let normalised = normalise(&attribution.word_scores);
        for (word, &shade) in explanation.words.iter().zip(&normalised) {
            out.push_str(&explanation.text[cursor..word.start]);
            if color {
                let (r, g, b) = rgb(shade);
                let (fr, fg, fb) = text_on((r, g, b));
                let _ = write!(out, "{}", word.text.on_truecolor(r, g, b).truecolor(fr, fg, fb));
            } else {
                let _ = write!(out, "{}[{shade:+.2}]", word.text);
            }
            cursor = word.end;
        }
        out.push_str(&explanation.text[cursor..]);
        out.push('\n');
    }
    out
}
