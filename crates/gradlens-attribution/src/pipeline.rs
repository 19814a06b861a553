//! The one pipeline every front end runs: text -> encoding -> each method -> each method's
//! faithfulness metrics -> [`Explanation`]. Front ends differ only in their [`Hooks`]: the command
//! line draws a spinner, `eval` a progress bar, the page hands control back to the browser between
//! stages and stops when the reader cancels.

use gradlens_explanation::{Attribution, Explanation, ModelInfo};
use gradlens_model::Classifier;

use crate::batching::Team;
use crate::input::{DeviceError, ExplainedInput, InputError, Target};
use crate::methods::{AttributionMethod, Method};
use crate::metrics::{Metric, PerturbationOptions, evaluate_all};

/// What to compute for one text. Serialisable, so that a page can hand it to the worker that runs the model.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Request {
    /// The text to explain.
    pub text: String,
    /// The class to explain.
    pub target: Target,
    /// The methods to run, in order: one attribution each.
    pub methods: Vec<Method>,
    /// Faithfulness metrics of every method; none means no perturbed input is run.
    pub metrics: Vec<Metric>,
    /// How the metrics perturb the text.
    pub perturbation: PerturbationOptions,
}

impl Request {
    /// `methods` on `text` for the predicted class, without metrics.
    pub fn new(text: impl Into<String>, methods: Vec<Method>) -> Self {
        Self { text: text.into(), target: Target::Predicted, methods, metrics: Vec::new(), perturbation: PerturbationOptions::default() }
    }
}

/// The stage about to run, with how far the whole request is.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stage {
    /// Stages finished.
    pub done: usize,
    /// Stages in the whole request.
    pub total: usize,
    /// The method this stage runs, or computes the metrics of; `None` while the text is read.
    pub method: Option<String>,
    /// Whether the stage computes the metrics of `method` rather than running it.
    pub metrics: bool,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let title = |name: &str| Method::by_name(name).map_or_else(|_| name.to_owned(), |m| m.display_name().to_owned());
        match (&self.method, self.metrics) {
            (None, _) => write!(f, "reading the text"),
            (Some(m), false) => write!(f, "{}", title(m)),
            (Some(m), true) => write!(f, "faithfulness of {}", title(m)),
        }
    }
}

/// Why the pipeline stopped before its result.
#[derive(Debug, thiserror::Error)]
pub enum Stopped {
    /// The hooks stopped it (a cancel, a newer request).
    #[error("stopped before the end")]
    Cancelled,
    /// Bad input (the message says what to change) or a failed device.
    #[error(transparent)]
    Failed(#[from] InputError),
}

impl From<DeviceError> for Stopped {
    fn from(e: DeviceError) -> Self {
        Stopped::Failed(InputError::Device(e))
    }
}

/// What a front end does around the pipeline's stages.
#[allow(async_fn_in_trait)]
pub trait Hooks {
    /// Before each stage: report it, hand control back (the page lets the browser paint), or stop.
    async fn before(&mut self, _stage: &Stage) -> Result<(), Stopped> {
        Ok(())
    }

    /// Once the text is read (the prediction, no attribution yet), after each method and after each
    /// method's metrics: the explanation so far, to show early.
    fn progressed(&mut self, _so_far: &Explanation) {}

    /// Who runs the request's batches: this program alone, or a team that splits them (the page's
    /// workers, each running the same request with its own hooks).
    fn team(&self) -> Team {
        Team::alone()
    }
}

/// Hooks that do nothing: run to the end.
pub struct NoHooks;

impl Hooks for NoHooks {}

/// Runs `request` on `model`: every method first (so that highlights can show early), then the metrics
/// of each.
pub async fn explain(model: &Classifier, request: &Request, hooks: &mut impl Hooks) -> Result<Explanation, Stopped> {
    let methods = request.methods.len();
    let total = 1 + methods + if request.metrics.is_empty() { 0 } else { methods };
    let mut stage = Stage { done: 0, total, method: None, metrics: false };
    hooks.before(&stage).await?;
    let input = ExplainedInput { team: hooks.team(), ..ExplainedInput::new(model, &request.text, request.target).await? };
    let mut explanation = unexplained(&input);
    // The prediction, before any method.
    hooks.progressed(&explanation);
    for method in &request.methods {
        stage = Stage { done: stage.done + 1, method: Some(method.name().to_owned()), ..stage };
        hooks.before(&stage).await?;
        explanation.attributions.push(attribute(&input, &explanation, method).await?);
        hooks.progressed(&explanation);
    }
    if !request.metrics.is_empty() {
        for i in 0..methods {
            let attribution = &explanation.attributions[i];
            stage = Stage { done: stage.done + 1, method: Some(request.methods[i].name().to_owned()), metrics: true, ..stage };
            hooks.before(&stage).await?;
            let values = evaluate_all(&request.metrics, &input, &attribution.token_scores, &request.perturbation).await?;
            explanation.attributions[i].metrics = values;
            hooks.progressed(&explanation);
        }
    }
    Ok(explanation)
}

/// The tokens, words and prediction of `input`, before any method has run.
pub fn unexplained(input: &ExplainedInput) -> Explanation {
    let config = input.model.config();
    let encoded = &input.encoded;
    let explanation = Explanation::new(
        encoded.text.clone(),
        ModelInfo { name: config.name.clone(), labels: config.labels.clone() },
        encoded.result_tokens(),
        encoded.words.clone(),
        encoded.truncated,
        input.probabilities.clone(),
    );
    let unknown_tokens = encoded.ids.iter().filter(|&&id| id == config.special_tokens.unk).count();
    Explanation { unknown_tokens, ..explanation }
}

/// Runs one method on `input`, timed, its token scores summed into the words of `explanation`.
pub async fn attribute(input: &ExplainedInput<'_>, explanation: &Explanation, method: &Method) -> Result<Attribution, DeviceError> {
    let started = web_time::Instant::now();
    let out = method.attribute(input).await?;
    Ok(Attribution {
        method: method.name().to_owned(),
        display_name: method.display_name().to_owned(),
        target: input.target,
        word_scores: explanation.word_scores(&out.token_scores),
        token_scores: out.token_scores,
        conventions: out.conventions,
        seconds: started.elapsed().as_secs_f64(),
        diagnostics: out.diagnostics,
        metrics: Vec::new(),
    })
}
