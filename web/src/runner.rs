//! The request runner: one explanation at a time for one view (the page, a widget), through the
//! library's pipeline, handing control back to the browser between stages so that the page repaints,
//! shows progress and reacts to clicks.

use gradlens_attribution::metrics::Metric;
use gradlens_attribution::{Explanation, Hooks, InputError, Method, Request, Stage, Stopped, Target, explain};
use gradlens_model::Classifier;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

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

/// Why an explanation has no result.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// Bad input (the message says what to change).
    Input(String),
    /// The device failed (a lost WebGPU device, say); the page falls back to the CPU.
    Device(String),
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Failure::Input(m) | Failure::Device(m) => m,
        }
    }
}

/// The request of a page or widget: `methods` by name, `target` by label or number (none: the
/// prediction). Unknown names are refused here, before anything runs.
pub fn request(model: &Classifier, text: String, methods: &[String], target: Option<&str>, metrics: Vec<Metric>) -> Result<Request, Failure> {
    let methods = methods.iter().map(|name| Method::by_name(name)).collect::<Result<Vec<_>, _>>().map_err(|e| Failure::Input(e.to_string()))?;
    let target = match target {
        Some(label) => Target::parse(label, &model.config().labels).map_err(|e| Failure::Input(e.to_string()))?,
        None => Target::Predicted,
    };
    Ok(Request { target, metrics, ..Request::new(text, methods) })
}

/// One explanation at a time for one view: a new request supersedes the running one and a cancel stops
/// it; a stopped request's results never arrive, so they are never mixed in.
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

    /// Explains `request` in place of the running request, reporting each stage and each partial
    /// result; `None` when a newer request or a cancel stopped it.
    pub async fn explain(
        self,
        model: &Classifier,
        request: &Request,
        stage: impl Fn(Stage),
        partial: impl Fn(&Explanation),
    ) -> Option<Result<Explanation, Failure>> {
        self.cancel();
        let mine = self.generation.get_value();
        let mut hooks = Browser { runner: self, mine, stage, partial };
        match explain(model, request, &mut hooks).await {
            Ok(explanation) => hooks.current().then_some(Ok(explanation)),
            Err(Stopped::Cancelled) => None,
            Err(_) if !hooks.current() => None,
            Err(Stopped::Failed(InputError::Device(e))) => Some(Err(Failure::Device(e.to_string()))),
            Err(Stopped::Failed(e)) => Some(Err(Failure::Input(e.to_string()))),
        }
    }
}

/// The pipeline's hooks in the browser.
struct Browser<S, P> {
    runner: Runner,
    mine: u64,
    stage: S,
    partial: P,
}

impl<S: Fn(Stage), P: Fn(&Explanation)> Browser<S, P> {
    fn current(&self) -> bool {
        self.runner.generation.get_value() == self.mine
    }
}

impl<S: Fn(Stage), P: Fn(&Explanation)> Hooks for Browser<S, P> {
    async fn before(&mut self, stage: &Stage) -> Result<(), Stopped> {
        if self.current() {
            (self.stage)(stage.clone());
        }
        next_paint().await;
        if self.current() { Ok(()) } else { Err(Stopped::Cancelled) }
    }

    fn progressed(&mut self, so_far: &Explanation) {
        if self.current() {
            (self.partial)(so_far);
        }
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
