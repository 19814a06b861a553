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

/// A classified text and the attributions computed for it: the schema every front end reads and writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// [`SCHEMA_VERSION`] when written; [`Explanation::load`] refuses any other.
    pub schema_version: u32,
    /// The text as given.
    pub text: String,
    /// The model that classified the text.
    pub model: ModelInfo,
    /// Subword tokens, the model's special tokens included.
    pub tokens: Vec<Token>,
    /// Words (the tokenizer's pre-tokenized pieces); token scores are summed into them.
    pub words: Vec<Word>,
    /// The text was longer than the model reads; tokens past its maximum were dropped.
    pub truncated: bool,
    /// Tokens the vocabulary lacks (the tokenizer's unknown token): see [`Explanation::unknown_warning`].
    #[serde(default)]
    pub unknown_tokens: usize,
    /// Softmax of the logits, in label order.
    pub probabilities: Vec<f32>,
    /// Index of the most probable class.
    pub predicted: usize,
    /// One entry per method run.
    pub attributions: Vec<Attribution>,
}

/// Which model an explanation is of.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The model's name in its `config.json` (the graph that ran it).
    pub name: String,
    /// Class names, in logit order.
    pub labels: Vec<String>,
}

/// One subword token of the text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Token {
    /// The token as the tokenizer writes it (`##` marks a word continuation).
    pub text: String,
    /// Byte range in `Explanation::text` (empty for special tokens).
    pub start: usize,
    /// End of the byte range (exclusive).
    pub end: usize,
    /// Index into `Explanation::words`; `None` for special tokens.
    pub word: Option<usize>,
}

/// One word of the text: a span of consecutive tokens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Word {
    /// The word as it appears in the text.
    pub text: String,
    /// Byte range in `Explanation::text`.
    pub start: usize,
    /// End of the byte range (exclusive).
    pub end: usize,
}

/// One method's scores for one target class, with how they were computed and how faithful they are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// Registry name of the method (e.g. `integrated_gradients`).
    pub method: String,
    /// The method's name for readers (e.g. `Integrated Gradients`); see [`Attribution::title`].
    #[serde(default)]
    pub display_name: String,
    /// The class explained.
    pub target: usize,
    /// One score per token; positive supports the target class.
    pub token_scores: Vec<f32>,
    /// One score per word: the sum of its tokens' scores.
    pub word_scores: Vec<f32>,
    /// The settings the scores were computed under (baseline, steps, normalisation, ...).
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
    /// One reading per part of the model read.
    pub parts: Vec<Reading>,
}

/// One part's token scores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// Which part: `layer 3`, `dimension 17`.
    pub label: String,
    /// This part's score, as `Readings::score_meaning` says.
    pub score: f32,
    /// This part's score per token.
    pub token_scores: Vec<f32>,
}

/// `sum_i attribution_i` against `F_c(x) - F_c(x')` (Sundararajan et al. 2017, completeness axiom).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Completeness {
    /// `sum_i attribution_i`: the scores' total.
    pub attribution_sum: f32,
    /// `F_c(x) - F_c(x')`: the target output at the input minus at the baseline.
    pub output_difference: f32,
    /// `attribution_sum - output_difference`.
    pub gap: f32,
    /// `|gap| / |output_difference|`.
    pub relative_gap: f32,
}

impl Completeness {
    /// Computes `gap` and `relative_gap` from the two sides.
    pub fn new(attribution_sum: f32, output_difference: f32) -> Self {
        let gap = attribution_sum - output_difference;
        Self { attribution_sum, output_difference, gap, relative_gap: gap.abs() / output_difference.abs().max(1e-12) }
    }
}

/// What a front end needs to show a metric (ferret's convention: every metric describes itself).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricInfo {
    /// The metric's registry name (e.g. `aopc_comprehensiveness`).
    pub name: String,
    /// One sentence on what the metric measures, for a tooltip.
    pub description: String,
    /// The metric's name for readers (e.g. `Comprehensiveness`).
    pub title: String,
    /// What a reader takes from the value, in plain words (what higher or lower means).
    pub meaning: String,
    /// The values the metric can take.
    pub range: (f32, f32),
    /// Whether a lower value means a more faithful explanation.
    pub lower_is_better: bool,
}

/// A point of a deletion or insertion curve: the fraction of candidate tokens removed (inserted), and `p_y`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Fraction of the candidate tokens removed (deletion) or inserted (insertion), in `[0, 1]`.
    pub fraction: f32,
    /// The model's probability of the target class `y` at that point.
    pub probability: f32,
}

/// A metric's value on one attribution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    /// The metric's registry name ([`MetricInfo::name`]).
    pub metric: String,
    /// The metric's value (an area, for the curve metrics).
    pub value: f32,
    /// Whether a lower value means a more faithful explanation.
    pub lower_is_better: bool,
    /// For the curve metrics: the curve whose area is `value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<Vec<CurvePoint>>,
    /// The settings the metric ran under (removal, `k`, ...).
    pub conventions: Conventions,
}

/// A piece of the text in reading order: the characters between words, or a word with its score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Segment<'a> {
    /// The characters between two words, or before the first and after the last (usually whitespace).
    Gap(&'a str),
    /// A word, with its index into `Explanation::words` and its score.
    Word {
        /// Index into `Explanation::words`.
        index: usize,
        /// The word's text, a slice of `Explanation::text`.
        text: &'a str,
        /// The word's score.
        score: f32,
    },
}

/// Why a stored explanation cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Not valid JSON, or not the shape of an explanation.
    #[error("not a GradLens explanation: {0}")]
    Malformed(#[from] serde_json::Error),
    /// Written under a `schema_version` this build does not read.
    #[error("this explanation has schema version {found}; this GradLens reads version {SCHEMA_VERSION} only")]
    UnknownVersion {
        /// The file's `schema_version`.
        found: u64,
    },
}

impl Explanation {
    /// An explanation of `text` before any method has run. `tokens` point into `words`.
    pub fn new(text: String, model: ModelInfo, tokens: Vec<Token>, words: Vec<Word>, truncated: bool, probabilities: Vec<f32>) -> Self {
        let predicted = probabilities.iter().enumerate().fold(0, |best, (i, p)| if *p > probabilities[best] { i } else { best });
        Self {
            schema_version: SCHEMA_VERSION,
            text,
            model,
            tokens,
            words,
            truncated,
            unknown_tokens: 0,
            probabilities,
            predicted,
            attributions: Vec::new(),
        }
    }

    /// A warning when most of the text's tokens are unknown to the model (emoji, a script or a long word
    /// its vocabulary lacks): the prediction then rests on almost nothing, however confident it looks.
    pub fn unknown_warning(&self) -> Option<String> {
        let text_tokens = self.tokens.iter().filter(|t| t.word.is_some()).count();
        (2 * self.unknown_tokens > text_tokens).then(|| {
            format!(
                "{} of this text's {text_tokens} tokens are unknown to the model's vocabulary: the prediction rests on almost nothing, however sure it looks.",
                self.unknown_tokens
            )
        })
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

    /// The explanation as pretty-printed JSON, the form [`Explanation::load`] reads.
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

    /// Which attribution was the most faithful on this text, by the metrics computed for it: each metric
    /// ranks the methods (1 = best, in the metric's own direction; ties share the better rank), and the
    /// lowest mean rank wins (the first listed, on a tie). With its mean rank; `None` unless at least two
    /// attributions carry the same metrics.
    pub fn most_faithful(&self) -> Option<(usize, f32)> {
        let metrics: Vec<&str> = self.attributions.first()?.metrics.iter().map(|m| m.metric.as_str()).collect();
        let same = |a: &Attribution| a.metrics.iter().map(|m| m.metric.as_str()).eq(metrics.iter().copied());
        if metrics.is_empty() || self.attributions.len() < 2 || !self.attributions.iter().all(same) {
            return None;
        }
        let better = |m: &MetricValue, than: &MetricValue| if m.lower_is_better { m.value < than.value } else { m.value > than.value };
        let mean_rank = |a: &Attribution| {
            let ranks = a.metrics.iter().enumerate().map(|(k, m)| 1 + self.attributions.iter().filter(|o| better(&o.metrics[k], m)).count());
            ranks.sum::<usize>() as f32 / metrics.len() as f32
        };
        self.attributions.iter().map(mean_rank).enumerate().fold(None, |best: Option<(usize, f32)>, (i, r)| match best {
            Some((_, b)) if b <= r => best,
            _ => Some((i, r)),
        })
    }

    /// The explanation with only the attribution at `index` (one method's export).
    pub fn only(&self, index: usize) -> Explanation {
        Explanation { attributions: vec![self.attributions[index].clone()], ..self.clone() }
    }
}

impl Attribution {
    /// The method's name as readers see it; from the registry name for files written before display
    /// names were recorded.
    pub fn title(&self) -> String {
        if self.display_name.is_empty() { self.method.replace('_', " ") } else { self.display_name.clone() }
    }

    /// The value of the metric called `name`, if it was computed.
    pub fn metric(&self, name: &str) -> Option<&MetricValue> {
        self.metrics.iter().find(|m| m.metric == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Un-believably good!" as a WordPiece tokenizer splits it: [CLS] un - believ ##ably good ! [SEP].
    fn explanation() -> Explanation {
        let text = "Un-believably good!".to_owned();
        let word = |start: usize, end: usize| Word { text: text[start..end].to_owned(), start, end };
        let words = vec![word(0, 2), word(2, 3), word(3, 13), word(14, 18), word(18, 19)];
        let token = |t: &str, start, end, word| Token { text: t.into(), start, end, word };
        let tokens = vec![
            token("[CLS]", 0, 0, None),
            token("un", 0, 2, Some(0)),
            token("-", 2, 3, Some(1)),
            token("believ", 3, 9, Some(2)),
            token("##ably", 9, 13, Some(2)),
            token("good", 14, 18, Some(3)),
            token("!", 18, 19, Some(4)),
            token("[SEP]", 0, 0, None),
        ];
        let model = ModelInfo { name: "test".into(), labels: vec!["negative".into(), "positive".into()] };
        Explanation::new(text, model, tokens, words, false, vec![0.25, 0.75])
    }

    #[test]
    fn word_scores_sum_tokens_and_segments_rebuild_the_text() {
        let e = explanation();
        assert_eq!(e.predicted, 1);
        let words = e.word_scores(&[9.0, 0.5, 0.25, 1.0, 2.0, -1.0, 0.125, 9.0]);
        assert_eq!(words, [0.5, 0.25, 3.0, -1.0, 0.125], "special tokens count for no word; subwords add up");
        let segments: Vec<Segment> = e.segments(&words).collect();
        assert_eq!(
            segments,
            [
                Segment::Word { index: 0, text: "Un", score: 0.5 },
                Segment::Word { index: 1, text: "-", score: 0.25 },
                Segment::Word { index: 2, text: "believably", score: 3.0 },
                Segment::Gap(" "),
                Segment::Word { index: 3, text: "good", score: -1.0 },
                Segment::Word { index: 4, text: "!", score: 0.125 },
            ]
        );
        let rebuilt: String = segments
            .iter()
            .map(|s| match s {
                Segment::Gap(g) => *g,
                Segment::Word { text, .. } => *text,
            })
            .collect();
        assert_eq!(rebuilt, e.text);
        assert_eq!(e.class_probabilities(), ["negative 25.0%", "positive 75.0%"]);
    }

    #[test]
    fn the_most_faithful_method_has_the_best_mean_rank() {
        let value = |metric: &str, value: f32, lower_is_better: bool| MetricValue {
            metric: metric.into(),
            value,
            lower_is_better,
            curve: None,
            conventions: Conventions::new(),
        };
        let attribution = |method: &str, comprehensiveness: f32, log_odds: f32| Attribution {
            method: method.into(),
            display_name: String::new(),
            target: 1,
            token_scores: Vec::new(),
            word_scores: Vec::new(),
            conventions: Conventions::new(),
            seconds: 0.0,
            diagnostics: Diagnostics::default(),
            metrics: vec![value("comprehensiveness", comprehensiveness, false), value("log_odds", log_odds, true)],
        };
        let mut e = explanation();
        assert_eq!(e.most_faithful(), None, "no method");
        // Ranks by hand: comprehensiveness (higher is better) a 2, b 1, c 3; log-odds (lower is better)
        // a 1, b 3, c 2. Mean ranks: a 1.5, b 2, c 2.5.
        e.attributions = vec![attribution("a", 0.3, -2.0), attribution("b", 0.5, -0.5), attribution("c", 0.1, -1.0)];
        assert_eq!(e.most_faithful(), Some((0, 1.5)));
        // A tie goes to the first listed: with b's log-odds at -1.5, b ranks 1 and 2 (mean 1.5, as a).
        e.attributions[1].metrics[1].value = -1.5;
        assert_eq!(e.most_faithful(), Some((0, 1.5)));
        // Equal values share the better rank: b's log-odds equal to a's rank both 1 (b's mean 1).
        e.attributions[1].metrics[1].value = -2.0;
        assert_eq!(e.most_faithful(), Some((1, 1.0)));
        e.attributions[1].metrics[1].value = -3.0;
        assert_eq!(e.most_faithful(), Some((1, 1.0)));
        e.attributions.truncate(1);
        assert_eq!(e.most_faithful(), None, "one method is not a comparison");
    }
}
