//! Turns an [`Explanation`] (and a surrogate tree) into things people look at. Everything here reads only
//! the result types.

pub mod chart;
pub mod color;
pub mod highlight;
pub mod html;
pub mod tree;

use gradlens_attribution::Explanation;

/// "label 97.8%" for every class, in label order: the prediction line every renderer starts with.
pub fn class_probabilities(explanation: &Explanation) -> Vec<String> {
    explanation.model.labels.iter().zip(&explanation.probabilities).map(|(label, p)| format!("{label} {:.1}%", 100.0 * p)).collect()
}
