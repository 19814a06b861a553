//! The request runner: one explanation at a time for one view (the page, a widget), through the
//! library's pipeline, handing control back to the browser between stages so that the page repaints,
//! shows progress and reacts to clicks.

use std::rc::Rc;

use futures::StreamExt;
use gradlens_attribution::metrics::{Metric, PerturbationOptions};
use gradlens_attribution::{Explanation, Method, Request, Stage, Target};
use gradlens_model::ModelConfig;
use leptos::prelude::*;

use crate::engine::{Engine, Reply};

/// The methods picked when the page opens.
pub const PICKED: [&str; 3] = ["integrated_gradients", "grad_sam", "occlusion"];

/// The metrics the page shows beside each method.
pub fn page_metrics() -> Vec<Metric> {
    vec![
        Metric::Comprehensiveness { k: 0.2 },
        Metric::Sufficiency { k: 0.2 },
        Metric::LogOdds { k: 0.2 },
        Metric::DeletionArea,
        Metric::InsertionArea,
    ]
}

/// Points of the page's deletion and insertion curves: eleven forward passes per curve whatever the
/// text's length (a 116-token review took 75 s of metrics with a point per token), and the points of the
/// AOPC-style 10% steps that comprehensiveness and sufficiency at 20% share.
const CURVE_INTERVALS: usize = 10;

/// Why an explanation has no result.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Failure {
    /// Bad input (the message says what to change).
    Input(String),
    /// The device failed (a lost WebGPU device, say); the page falls back to the CPU.
    Device(String),
    /// A worker died (a panic, out of memory); the page starts new workers.
    Stopped(String),
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Failure::Input(m) | Failure::Device(m) | Failure::Stopped(m) => m,
        }
    }
}

/// The request of a page or widget: `methods` by name, `target` by label or number (none: the
/// prediction). Unknown names are refused here, before anything runs. One-pass methods run first, so
/// that a highlight shows within a fraction of a second while the others run.
pub fn request(config: &ModelConfig, text: String, methods: &[String], target: Option<&str>, metrics: Vec<Metric>) -> Result<Request, Failure> {
    let mut methods = methods.iter().map(|name| Method::by_name(name)).collect::<Result<Vec<_>, _>>().map_err(|e| Failure::Input(e.to_string()))?;
    methods.sort_by_key(|m| !m.is_one_pass());
    let target = match target {
        Some(label) => Target::parse(label, &config.labels).map_err(|e| Failure::Input(e.to_string()))?,
        None => Target::Predicted,
    };
    let perturbation = PerturbationOptions { curve_intervals: Some(CURVE_INTERVALS), ..PerturbationOptions::default() };
    Ok(Request { target, metrics, perturbation, ..Request::new(text, methods) })
}

/// One explanation at a time for one view: a new request supersedes the running one and a cancel stops
/// it; a stopped request's results never arrive, so they are never mixed in.
#[derive(Clone, Copy)]
pub struct Runner {
    /// The request running now, in its engine's worker.
    running: StoredValue<Option<(Rc<Engine>, u64)>, LocalStorage>,
}

impl Runner {
    pub fn new() -> Self {
        Self { running: StoredValue::new_local(None) }
    }

    pub fn cancel(self) {
        if let Some((engine, id)) = self.running.try_update_value(Option::take).flatten() {
            engine.cancel(id);
        }
    }

    /// Explains `request` in place of the running request, reporting each stage and each partial
    /// result; `None` when a newer request or a cancel stopped it.
    pub async fn explain(
        self,
        engine: &Rc<Engine>,
        request: &Request,
        stage: impl Fn(Stage),
        partial: impl Fn(Explanation),
    ) -> Option<Result<Explanation, Failure>> {
        self.cancel();
        let (id, mut replies) = engine.explain(request);
        self.running.set_value(Some((engine.clone(), id)));
        // A cancel closes `replies`: nothing of a stopped request is reported.
        while let Some(reply) = replies.next().await {
            match reply {
                Reply::Stage(s) => stage(s),
                Reply::Partial(so_far) => partial(so_far),
                Reply::Done(result) => {
                    self.running.set_value(None);
                    return Some(result);
                }
            }
        }
        None
    }
}
