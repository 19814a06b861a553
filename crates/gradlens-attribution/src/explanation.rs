//! The one result type: what the CLI prints, the page renders and every export reads. Versioned, so that
//! a reader can refuse a file it does not understand; every score travels with its conventions.

use std::collections::BTreeMap;

use gradlens_model::EncodedText;
use serde::{Deserialize, Serialize};

/// Bumped whenever a field changes meaning or is removed.
pub const SCHEMA_VERSION: u32 = 1;

/// The conventions a score was computed under (target, baseline, rule, steps, normalisation, ...).
pub type Conventions = BTreeMap<String, serde_json::Value>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub schema_version: u32,
    /// The text as given.
    pub text: String,
    pub model: ModelInfo,
    /// Subword tokens, [CLS] and [SEP] included.
    pub tokens: Vec<Token>,
    /// Words (the tokenizer's pre-tokenized pieces); token scores are summed into them.
    pub words: Vec<Word>,
    /// The text was longer than the model reads; tokens past `max_len` were dropped.
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    /// For path methods: how far the scores are from summing to F(x) - F(baseline).
    pub completeness: Option<Completeness>,
    /// Wall-clock seconds the method took.
    pub seconds: f64,
    /// For methods that read several parts of the model (`layer_saliency`: every layer;
    /// `representation`: dimensions of the representation): one set of token scores per part, each
    /// with a score whose meaning the conventions give (`reading_score`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readings: Vec<Reading>,
}

/// One part's token scores, for methods that read several parts of the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// Which part: `layer 3`, `dimension 17`.
    pub label: String,
    /// The part's score (a layer's semantic coherence, a dimension's weight for the class).
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

impl Explanation {
    /// Tokens and words of an encoded text, before any method has run.
    pub fn new(encoded: &EncodedText, model: ModelInfo, probabilities: Vec<f32>) -> Self {
        let mut words: Vec<Word> = Vec::new();
        let mut word_index: BTreeMap<u32, usize> = BTreeMap::new();
        let tokens = (0..encoded.len())
            .map(|i| {
                let (start, end) = encoded.offsets[i];
                let word = encoded.word_ids[i].map(|w| {
                    *word_index.entry(w).or_insert_with(|| {
                        words.push(Word { text: String::new(), start, end });
                        words.len() - 1
                    })
                });
                if let Some(w) = word {
                    words[w].start = words[w].start.min(start);
                    words[w].end = words[w].end.max(end);
                }
                Token { text: encoded.tokens[i].clone(), start, end, word }
            })
            .collect();
        for word in &mut words {
            word.text = encoded.text[word.start..word.end].to_owned();
        }
        let predicted = probabilities
            .iter()
            .enumerate()
            .fold(0, |best, (i, p)| if *p > probabilities[best] { i } else { best });
        Self {
            schema_version: SCHEMA_VERSION,
            text: encoded.text.clone(),
            model,
            tokens,
            words,
            truncated: encoded.truncated,
            probabilities,
            predicted,
            attributions: Vec::new(),
        }
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
}
