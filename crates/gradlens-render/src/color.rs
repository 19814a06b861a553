//! The diverging colour scale shared by every renderer: blue supports the explained class, red speaks
//! against it (a red/blue scale stays readable with the common colour-vision deficiencies).

/// `(r, g, b)` of the scale's ends.
pub const SUPPORTS: (u8, u8, u8) = (33, 102, 172);
/// The red end, for scores against the explained class (`SUPPORTS` is the blue one).
pub const OPPOSES: (u8, u8, u8) = (178, 24, 43);

/// The legend every renderer shows under a highlighted text: each end of the scale with its words, for
/// the class explained.
pub fn legend(label: &str) -> [((u8, u8, u8), String); 2] {
    [(rgb(1.0), format!("supports {label}")), (rgb(-1.0), format!("speaks against {label}"))]
}

/// What the colours' strength means, under every legend.
pub const LEGEND_NOTE: &str = "colours are scaled per method; hover or focus a word for its score";

/// Scores divided by the largest magnitude, so the strongest token gets full colour. All zeros stay zero.
pub fn normalise(scores: &[f32]) -> Vec<f32> {
    let max = scores.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    scores.iter().map(|s| if max > 0.0 { s / max } else { 0.0 }).collect()
}

/// The colour of a normalised score in [-1, 1], blended from white.
pub fn rgb(normalised: f32) -> (u8, u8, u8) {
    let t = normalised.clamp(-1.0, 1.0);
    let (r, g, b) = if t >= 0.0 { SUPPORTS } else { OPPOSES };
    let mix = |end: u8| (255.0 + (end as f32 - 255.0) * t.abs()).round() as u8;
    (mix(r), mix(g), mix(b))
}

/// Black or white, whichever reads better on `rgb` (WCAG relative luminance).
pub fn text_on(rgb: (u8, u8, u8)) -> (u8, u8, u8) {
    let channel = |c: u8| {
        let c = c as f32 / 255.0;
        if c <= 0.03928 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    let luminance = 0.2126 * channel(rgb.0) + 0.7152 * channel(rgb.1) + 0.0722 * channel(rgb.2);
    if luminance > 0.35 { (0, 0, 0) } else { (255, 255, 255) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_middle_of_the_scale() {
        assert_eq!(rgb(0.0), (255, 255, 255));
        assert_eq!(rgb(1.0), SUPPORTS);
        assert_eq!(rgb(-1.0), OPPOSES);
        assert_eq!(rgb(7.0), SUPPORTS);
        assert_eq!(normalise(&[0.5, -2.0, 0.0]), vec![0.25, -1.0, 0.0]);
        assert_eq!(normalise(&[0.0, 0.0]), vec![0.0, 0.0]);
        assert_eq!(text_on(SUPPORTS), (255, 255, 255));
        assert_eq!(text_on((255, 255, 255)), (0, 0, 0));
    }
}
