//! What one click computes: the explanation of the text by each chosen method, and the faithfulness
//! metrics of each. Runs in this tab on the model's device.

use gradlens_attribution::metrics::{Metric, MetricValue, PerturbationOptions, evaluate_all};
use gradlens_attribution::methods::GradSam;
use gradlens_attribution::{ExplainedInput, Explanation, Method, Target};
use gradlens_model::Classifier;

/// The methods offered on the page, in the order shown, and those picked at first.
pub const OFFERED: [&str; 12] = [
    "integrated_gradients",
    "grad_sam",
    "occlusion",
    "saliency",
    "gradient_x_input",
    "smooth_grad",
    "gam",
    "raw_attention",
    "attention_rollout",
    "gradient_weighted_rollout",
    "dig",
    "udig",
];
pub const PICKED: [&str; 3] = ["integrated_gradients", "grad_sam", "occlusion"];

/// The metrics shown beside each method.
pub fn metrics() -> Vec<Metric> {
    vec![
        Metric::Comprehensiveness { k: 0.2 },
        Metric::Sufficiency { k: 0.2 },
        Metric::LogOdds { k: 0.2 },
        Metric::DeletionArea,
        Metric::InsertionArea,
    ]
}

pub struct Report {
    pub explanation: Explanation,
    /// Per attribution, in the same order, the values of [`metrics`].
    pub metrics: Vec<Vec<MetricValue>>,
    /// Grad-SAM's token-by-token map, row-major `S x S`, for the curious.
    pub grad_sam_map: Vec<f32>,
}

pub fn explain(model: &Classifier, text: &str, methods: &[String]) -> Result<Report, String> {
    let input = ExplainedInput::new(model, text, Target::Predicted).map_err(|e| e.to_string())?;
    let mut explanation = Explanation::of(&input);
    let metrics = metrics();
    let mut values = Vec::new();
    for name in methods {
        let method = Method::by_name(name).ok_or_else(|| format!("no method called {name}"))?;
        let scores = explanation.add(&input, &method).token_scores.clone();
        values.push(evaluate_all(&metrics, &input, &scores, &PerturbationOptions::default()));
    }
    let grad_sam_map = GradSam::map(&input).into_data().try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?;
    Ok(Report { explanation, metrics: values, grad_sam_map })
}
