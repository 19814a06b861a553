//! What one click computes: the explanation of the text by each chosen method, and the faithfulness
//! metrics of each. Runs in this tab on the model's device.

use gradlens_attribution::metrics::{Metric, MetricValue, PerturbationOptions, evaluate_all};
use gradlens_attribution::methods::GradSam;
use gradlens_attribution::{DeviceError, ExplainedInput, Explanation, InputError, Method, Target, read};
use gradlens_model::Classifier;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The methods offered on the page, in the order shown, and those picked at first.
pub const OFFERED: [&str; 17] = [
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
    "lime",
    "kernel_shap",
    "shapley_sampling",
    "layer_saliency",
    "representation",
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

/// Why an explanation has no report.
#[derive(Clone, Debug, PartialEq)]
pub enum Stopped {
    /// A newer request, or the visitor, stopped it.
    Superseded,
    /// Bad input (the message says what to change).
    Input(String),
    /// The device failed (a lost WebGPU device, say); the page falls back to the CPU.
    Device(String),
}

impl From<DeviceError> for Stopped {
    fn from(e: DeviceError) -> Self {
        Stopped::Device(e.to_string())
    }
}

/// How far an explanation is: `done` of `total` steps, and the step under way.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Step {
    pub done: usize,
    pub total: usize,
    pub doing: String,
}

/// What to compute for one text.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub text: String,
    pub methods: Vec<String>,
    pub target: Target,
    /// Metrics of every method (the page shows all of [`metrics`]; a widget only the curve it draws).
    pub metrics: Vec<Metric>,
    pub grad_sam_map: bool,
}

/// Explains the request's text with each of its methods and their metrics. Between steps it hands
/// control back to the browser (`pause`), so that the page repaints, shows `progress` and reacts to
/// clicks; it stops as soon as `superseded` says a newer request (or a cancel) has come.
async fn explain<P: Future<Output = ()>>(
    model: &Classifier,
    request: &Request,
    progress: impl Fn(Step),
    pause: impl Fn() -> P,
    superseded: impl Fn() -> bool,
) -> Result<Report, Stopped> {
    let total = 2 * request.methods.len() + 2;
    let step = |done: usize, doing: String| {
        progress(Step { done, total, doing });
        async {
            pause().await;
            if superseded() { Err(Stopped::Superseded) } else { Ok(()) }
        }
    };
    step(0, "reading the text".into()).await?;
    let input = ExplainedInput::new(model, &request.text, request.target).await.map_err(|e| match e {
        InputError::Device(e) => Stopped::from(e),
        e => Stopped::Input(e.to_string()),
    })?;
    let mut explanation = Explanation::of(&input);
    let mut values = Vec::new();
    for (i, name) in request.methods.iter().enumerate() {
        let method = Method::by_name(name).ok_or_else(|| Stopped::Input(format!("no method called {name}")))?;
        step(1 + 2 * i, name.replace('_', " ")).await?;
        let scores = explanation.add(&input, &method).await?.token_scores.clone();
        if !request.metrics.is_empty() {
            step(2 + 2 * i, format!("faithfulness of {}", name.replace('_', " "))).await?;
        }
        values.push(evaluate_all(&request.metrics, &input, &scores, &PerturbationOptions::default()).await?);
    }
    let grad_sam_map = if request.grad_sam_map {
        step(total - 1, "Grad-SAM map".into()).await?;
        read(GradSam::map(&input)).await?
    } else {
        Vec::new()
    };
    Ok(Report { explanation, metrics: values, grad_sam_map })
}

/// One explanation at a time for one view (the page, a widget): a new request supersedes the running
/// one and a cancel stops it; a stopped request's results never arrive, so they are never mixed in.
#[derive(Clone, Copy)]
pub struct Runner {
    /// Each request gets a number; a running request stops once a newer number exists.
    generation: StoredValue<u64>,
}

impl Runner {
    pub fn new() -> Self {
        Self { generation: StoredValue::new(0) }
    }

    pub fn cancel(self) {
        self.generation.update_value(|g| *g += 1);
    }

    /// Explains `request` in place of the running request, with its progress; `None` when a newer
    /// request or a cancel stopped it.
    pub async fn explain(self, model: &Classifier, request: &Request, progress: impl Fn(Step)) -> Option<Result<Report, Stopped>> {
        self.cancel();
        let mine = self.generation.get_value();
        let current = move || self.generation.get_value() == mine;
        let progress = |s| {
            if current() {
                progress(s)
            }
        };
        let result = explain(model, request, progress, next_paint, move || !current()).await;
        current().then_some(result)
    }
}

/// Hands control back to the browser until it has painted (the next animation frame) and handled what
/// was waiting (a task later), so that progress shows and clicks land between steps.
async fn next_paint() {
    let window = web_sys::window().expect("a window");
    let frame = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window.request_animation_frame(resolve.unchecked_ref());
    });
    let _ = wasm_bindgen_futures::JsFuture::from(frame).await;
    let task = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(resolve.unchecked_ref(), 0);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(task).await;
}
