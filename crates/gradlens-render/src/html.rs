//! Self-contained HTML: inline styles only, no scripts, every piece of text escaped, so that the output
//! can be pasted into a post or opened from disk.

use std::fmt::Write;

use gradlens_explanation::{Attribution, Explanation, Segment};
use html_escape::{encode_double_quoted_attribute, encode_text};

use crate::color::{normalise, rgb, text_on};

/// One method's word scores over the original text, with a legend: a `<figure>` fragment.
pub fn fragment(explanation: &Explanation, attribution: &Attribution) -> String {
    let label = &explanation.model.labels[attribution.target];
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<figure style="font-family:system-ui,sans-serif;line-height:2;margin:1em 0"><figcaption style="font-size:.85em;color:#444">{} for <b>{}</b> ({:.1}%)</figcaption><p dir="auto" style="margin:.3em 0">"#,
        encode_text(&attribution.title()),
        encode_text(label),
        100.0 * explanation.probabilities[attribution.target]
    );
    let shades = normalise(&attribution.word_scores);
    for segment in explanation.segments(&attribution.word_scores) {
        match segment {
            Segment::Gap(gap) => out.push_str(&encode_text(gap)),
            Segment::Word { index, text, score } => {
                let bg = rgb(shades[index]);
                let fg = text_on(bg);
                let _ = write!(
                    out,
                    r#"<span title="{}" style="background:rgb({},{},{});color:rgb({},{},{});padding:.1em .15em;border-radius:.2em">{}</span>"#,
                    encode_double_quoted_attribute(&format!("{score:+.4}")),
                    bg.0,
                    bg.1,
                    bg.2,
                    fg.0,
                    fg.1,
                    fg.2,
                    encode_text(text)
                );
            }
        }
    }
    out.push_str("</p>");
    out.push_str(&legend(label));
    out.push_str("</figure>");
    out
}

fn legend(label: &str) -> String {
    let mut out = String::from(r#"<div style="font-size:.8em;color:#444">"#);
    for ((r, g, b), words) in crate::color::legend(label) {
        let _ = write!(out, r#"<span style="background:rgb({r},{g},{b});color:#fff;padding:0 .3em">{}</span> "#, encode_text(&words));
    }
    let _ = write!(out, "({})</div>", crate::color::LEGEND_NOTE);
    out
}

/// A whole HTML document with one fragment per method and the prediction.
pub fn document(explanation: &Explanation) -> String {
    let mut body = String::new();
    let _ = write!(body, "<h1 style=\"font-size:1.3em\">GradLens explanation</h1><p>");
    for (label, p) in explanation.model.labels.iter().zip(&explanation.probabilities) {
        let _ = write!(body, "{}: {:.1}% &nbsp; ", encode_text(label), 100.0 * p);
    }
    body.push_str("</p>");
    if explanation.truncated {
        body.push_str("<p><i>The text was longer than the model reads: only its beginning was explained.</i></p>");
    }
    if let Some(warning) = explanation.unknown_warning() {
        let _ = write!(body, "<p><i>{}</i></p>", encode_text(&warning));
    }
    for attribution in &explanation.attributions {
        body.push_str(&fragment(explanation, attribution));
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>GradLens explanation</title></head><body style=\"max-width:48em;margin:2em auto;padding:0 1em\">{body}</body></html>\n"
    )
}
