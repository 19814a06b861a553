//! Attribution for text classifiers, written once against burn's tensor API: the same code runs on
//! native CPU, CPU in wasm and WebGPU, on whichever autodiff `Device` the model was loaded.
//!
//! Data flows one way: text -> [`ExplainedInput`] (encoding, embeddings, prediction, target) -> a
//! [`Method`] -> token scores -> [`Explanation`] (word scores by the tokenizer's word ids, conventions,
//! completeness, timing), the one result type every front end reads.

mod baseline;
pub mod explanation;
mod input;
mod integration;
pub mod methods;
pub mod metrics;

pub use baseline::Baseline;
pub use explanation::{Attribution, Completeness, Explanation, ModelInfo, Reading, SCHEMA_VERSION};
pub use input::{DeviceError, ExplainedInput, InputError, ProbeGradients, Target, read};
pub use integration::IntegrationRule;
pub use methods::{AttributionMethod, Method, MethodOutput};

use gradlens_model::Classifier;

impl Explanation {
    /// The tokens, words and prediction of `input`, before any method has run.
    pub fn of(input: &ExplainedInput) -> Self {
        let config = input.model.config();
        let model = ModelInfo { name: config.name.clone(), labels: config.labels.clone() };
        Explanation::new(&input.encoded, model, input.probabilities.clone())
    }

    /// Runs `method` on `input` and appends its attribution, timed.
    pub async fn add(&mut self, input: &ExplainedInput<'_>, method: &Method) -> Result<&Attribution, DeviceError> {
        let started = web_time::Instant::now();
        let out = method.attribute(input).await?;
        self.attributions.push(Attribution {
            method: method.name().to_owned(),
            target: input.target,
            word_scores: self.word_scores(&out.token_scores),
            token_scores: out.token_scores,
            conventions: out.conventions,
            completeness: out.completeness,
            seconds: started.elapsed().as_secs_f64(),
            readings: out.readings,
        });
        Ok(self.attributions.last().expect("just pushed"))
    }
}

/// Explains `text` with every method in `methods`.
pub async fn explain(model: &Classifier, text: &str, target: Target, methods: &[Method]) -> Result<Explanation, InputError> {
    let input = ExplainedInput::new(model, text, target).await?;
    let mut explanation = Explanation::of(&input);
    for method in methods {
        explanation.add(&input, method).await?;
    }
    Ok(explanation)
}
