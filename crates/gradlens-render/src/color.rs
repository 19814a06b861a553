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

/// The page's background, where the scale starts.
pub const WHITE: (u8, u8, u8) = (255, 255, 255);

/// The colour of a normalised score in [-1, 1], blended from white.
pub fn rgb(normalised: f32) -> (u8, u8, u8) {
    rgb_over(normalised, WHITE)
}

/// The colour of a normalised score in [-1, 1], blended from `base` (a dark theme's background: a word
/// that scores nothing is not a white box on it).
pub fn rgb_over(normalised: f32, base: (u8, u8, u8)) -> (u8, u8, u8) {
    let t = normalised.clamp(-1.0, 1.0);
    let (r, g, b) = if t >= 0.0 { SUPPORTS } else { OPPOSES };
    let mix = |from: u8, end: u8| (from as f32 + (end as f32 - from as f32) * t.abs()).round() as u8;
    (mix(base.0, r), mix(base.1, g), mix(base.2, b))
}

/// Black or white, whichever contrasts more with `rgb` (WCAG relative luminance; the two contrasts are
/// equal at 0.179, so either choice keeps at least 4.58:1, WCAG AA for text).
pub fn text_on(rgb: (u8, u8, u8)) -> (u8, u8, u8) {
    let channel = |c: u8| {
        let c = c as f32 / 255.0;
        if c <= 0.03928 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    let luminance = 0.2126 * channel(rgb.0) + 0.7152 * channel(rgb.1) + 0.0722 * channel(rgb.2);
    if luminance > 0.179 { (0, 0, 0) } else { (255, 255, 255) }
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
        let dark = (27, 31, 36);
        assert_eq!(rgb_over(0.0, dark), dark);
        assert_eq!(rgb_over(-1.0, dark), OPPOSES);
        assert_eq!(rgb_over(0.5, dark), (30, 67, 104));
        assert_eq!(text_on(dark), (255, 255, 255));
        // Every shade of the scale keeps WCAG AA contrast (4.5:1) with the text drawn on it.
        let luminance = |(r, g, b): (u8, u8, u8)| {
            let c = |c: u8| {
                let c = c as f64 / 255.0;
                if c <= 0.03928 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
            };
            0.2126 * c(r) + 0.7152 * c(g) + 0.0722 * c(b)
        };
        for step in -100..=100 {
            for base in [WHITE, dark] {
                let shade = rgb_over(step as f32 / 100.0, base);
                let (a, b) = (luminance(shade), luminance(text_on(shade)));
                let contrast = (a.max(b) + 0.05) / (a.min(b) + 0.05);
                assert!(contrast >= 4.5, "{shade:?}: {contrast:.2}");
            }
        }
    }
}
