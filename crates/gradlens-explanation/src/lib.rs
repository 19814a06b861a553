//! The one result type: what the CLI prints, the page renders, `eval` summarises and every export
//! reads. Versioned, so that a reader refuses a file it does not understand; every score travels with
//! its conventions, its faithfulness metrics and its diagnostics.
//!
//! This crate knows nothing of burn or tokenizers: a renderer of stored explanations depends on it alone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Bumped whenever a field changes meaning or is removed.
///
/// - 1: first release.
/// - 2: `Attribution::completeness` and `readings` moved into `diagnostics`, with the diagnostics that
///   were strings in `conventions` (`word_approximation_error`, `informativeness`, `disentanglement`,
///   `coherence`, `reading_score`); `Attribution::metrics` added (faithfulness values and curves).
pub const SCHEMA_VERSION: u32 = 2;

/// The conventions a score was computed under (target, baseline, rule, steps, normalisation, ...).
pub type Conventions = BTreeMap<String, serde_json::Value>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub schema_version: u32,
    /// The text as given.
    pub text: String,
    pub model: ModelInfo,
    /// Subword tokens, the model's special tokens included.
    pub tokens: Vec<Token>,
    /// Words (the tokenizer's pre-tokenized pieces); token scores are summed into them.
    pub words: Vec<Word>,
    /// The text was longer than the model reads; tokens past its maximum were dropped.
    pub truncated: bool,
    /// Softmax of the logits, in label order.
    pub probabilities: Vec<f32>,
    /// Index of the most probable class.
    pub predicted: usize,
    /// One entry per method run.
    pub attributions: Vec<Attribution>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    pub labels: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Token {
    pub text: String,
    /// Byte range in `Explanation::text` (empty for special tokens).
    pub start: usize,
    pub end: usize,
    /// Index into `Explanation::words`; `None` for special tokens.
    pub word: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Word {
    pub text: String,
    /// Byte range in `Explanation::text`.
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// Registry name of the method (e.g. `integrated_gradients`).
    pub method: String,
    /// The class explained.
    pub target: usize,
    /// One score per token; positive supports the target class.
    pub token_scores: Vec<f32>,
    /// One score per word: the sum of its tokens' scores.
    pub word_scores: Vec<f32>,
    pub conventions: Conventions,
    /// Wall-clock seconds the method took (its metrics not included).
    pub seconds: f64,
    /// What the method says about its own result.
    #[serde(default)]
    pub diagnostics: Diagnostics,
    /// Faithfulness of `token_scores`, for the metrics that were asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<MetricValue>,
}

/// Numbers a method reports about its own result, each where the method defines it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// Path methods (IG, DIG, UDIG): how far the scores are from summing to `F(x) - F(baseline)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completeness: Option<Completeness>,
    /// DIG / UDIG: mean distance from a path point to the word it stands for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub word_approximation_error: Option<f32>,
    /// Representation attribution: how much the map depends on the words rather than on positions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub informativeness: Option<f32>,
    /// Representation attribution: how differently the dimensions read the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disentanglement: Option<f32>,
    /// Methods that read several parts of the model (`layer_saliency`: every layer, scored by semantic
    /// coherence; `representation`: dimensions, scored by their weight for the class).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readings: Option<Readings>,
    /// Grad-SAM: its token-by-token map `H`, row-major `S x S` (row attends to column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_map: Option<Vec<f32>>,
}

/// One set of token scores per part of the model, and what a part's score means.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Readings {
    /// What `Reading::score` measures.
    pub score_meaning: String,
    pub parts: Vec<Reading>,
}

/// One part's token scores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// Which part: `layer 3`, `dimension 17`.
    pub label: String,
    pub score: f32,
    pub token_scores: Vec<f32>,
}

/// `sum_i attribution_i` against `F_c(x) - F_c(x')` (Sundararajan et al. 2017, completeness axiom).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Completeness {
    pub attribution_sum: f32,
    pub output_difference: f32,
    /// `attribution_sum - output_difference`.
    pub gap: f32,
    /// `|gap| / |output_difference|`.
    pub relative_gap: f32,
}

impl Completeness {
    pub fn new(attribution_sum: f32, output_difference: f32) -> Self {
        let gap = attribution_sum - output_difference;
        Self { attribution_sum, output_difference, gap, relative_gap: gap.abs() / output_difference.abs().max(1e-12) }
    }
}

/// What a front end needs to show a metric (ferret's convention: every metric describes itself).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricInfo {
    pub name: String,
    pub description: String,
    /// The values the metric can take.
    pub range: (f32, f32),
    pub lower_is_better: bool,
}

/// A point of a deletion or insertion curve: the fraction of candidate tokens removed (inserted), and `p_y`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub fraction: f32,
    pub probability: f32,
}

/// A metric's value on one attribution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    pub metric: String,
    pub value: f32,
    /// Whether a lower value means a more faithful explanation.
    pub lower_is_better: bool,
    /// For the curve metrics: the curve whose area is `value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<Vec<CurvePoint>>,
    pub conventions: Conventions,
}

/// A piece of the text in reading order: the characters between words, or a word with its score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Segment<'a> {
    Gap(&'a str),
    Word { index: usize, text: &'a str, score: f32 },
}

/// Why a stored explanation cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("not a GradLens explanation: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("this explanation has schema version {found}; this GradLens reads version {SCHEMA_VERSION} only")]
    UnknownVersion { found: u64 },
}

impl Explanation {
    /// An explanation of `text` before any method has run. `tokens` point into `words`.
    pub fn new(text: String, model: ModelInfo, tokens: Vec<Token>, words: Vec<Word>, truncated: bool, probabilities: Vec<f32>) -> Self {
        let predicted = probabilities.iter().enumerate().fold(0, |best, (i, p)| if *p > probabilities[best] { i } else { best });
        Self { schema_version: SCHEMA_VERSION, text, model, tokens, words, truncated, probabilities, predicted, attributions: Vec::new() }
    }

    /// Reads an explanation written by [`Explanation::to_json`], refusing a schema version it does not know.
    pub fn load(json: &str) -> Result<Self, LoadError> {
        let value: serde_json::Value = serde_json::from_str(json)?;
        match value.get("schema_version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(SCHEMA_VERSION) => Ok(serde_json::from_value(value)?),
            Some(found) => Err(LoadError::UnknownVersion { found }),
            None => Err(LoadError::Malformed(serde::de::Error::missing_field("schema_version"))),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("an explanation serialises")
    }

    /// Sums token scores into word scores (special tokens belong to no word).
    pub fn word_scores(&self, token_scores: &[f32]) -> Vec<f32> {
        let mut scores = vec![0.0; self.words.len()];
        for (token, score) in self.tokens.iter().zip(token_scores) {
            if let Some(w) = token.word {
                scores[w] += score;
            }
        }
        scores
    }

    /// The text as gaps and scored words, in order: what every renderer walks. `word_scores` has one
    /// score per word.
    pub fn segments<'a>(&'a self, word_scores: &'a [f32]) -> impl Iterator<Item = Segment<'a>> + 'a {
        let text = self.text.as_str();
        let mut cursor = 0;
        let mut pieces = Vec::with_capacity(2 * self.words.len() + 1);
        for (index, (word, &score)) in self.words.iter().zip(word_scores).enumerate() {
            pieces.push(Segment::Gap(&text[cursor..word.start]));
            pieces.push(Segment::Word { index, text: &text[word.start..word.end], score });
            cursor = word.end;
        }
        pieces.push(Segment::Gap(&text[cursor..]));
        pieces.into_iter().filter(|s| !matches!(s, Segment::Gap("")))
    }

    /// "label 97.8%" for every class, in label order: the prediction line every renderer starts with.
    pub fn class_probabilities(&self) -> Vec<String> {
        self.model.labels.iter().zip(&self.probabilities).map(|(label, p)| format!("{label} {:.1}%", 100.0 * p)).collect()
    }

    /// The explanation with only the attribution at `index` (one method's export).
    pub fn only(&self, index: usize) -> Explanation {
        Explanation { attributions: vec![self.attributions[index].clone()], ..self.clone() }
    }
}

impl Attribution {
    /// The value of the metric called `name`, if it was computed.
    pub fn metric(&self, name: &str) -> Option<&MetricValue> {
        self.metrics.iter().find(|m| m.metric == name)
    }
}
