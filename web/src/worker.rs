//! The other side of the page: the same build, started in a Web Worker, holds the model and runs the
//! pipeline, so that the page's thread only draws (typing, scrolling and Cancel stay instant while a
//! method runs). The page talks to it through [`crate::engine`]; each message is a plain object with a
//! `kind`, JSON for structured values and transferred buffers for the model's files.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use gradlens_attribution::{Explanation, Hooks, InputError, Request, Stage, Stopped, explain};
use gradlens_model::Classifier;
use gradlens_model::site::assets_from_files;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::backend::{self, Backend};
use crate::runner::Failure;

thread_local! {
    static MODEL: RefCell<Option<Rc<Classifier>>> = const { RefCell::new(None) };
    /// Requests the page has given up on: they stop at their next stage.
    static CANCELLED: RefCell<HashSet<u64>> = RefCell::new(HashSet::new());
}

/// Whether this instance runs in a worker (the page's build starts there too).
pub fn in_worker() -> bool {
    js_sys::global().dyn_into::<DedicatedWorkerGlobalScope>().is_ok()
}

/// Answers the page's messages from now on, and those that came while the build was starting (the
/// starter script queued them in `gradlensQueue`).
pub fn serve() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| handle(event.data()));
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // The worker lives as long as the page that made it.
    handler.forget();
    if let Ok(queue) = Reflect::get(&scope, &"gradlensQueue".into()).and_then(|q| q.dyn_into::<Array>()) {
        queue.for_each(&mut |message, _, _| handle(message));
    }
}

fn field(message: &JsValue, name: &str) -> JsValue {
    Reflect::get(message, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

fn handle(message: JsValue) {
    let id = field(&message, "id").as_f64().unwrap_or_default() as u64;
    match field(&message, "kind").as_string().as_deref() {
        Some("load") => wasm_bindgen_futures::spawn_local(async move {
            let error = load(&message).await.err();
            post("loaded", 0, &[("error", error.map_or(JsValue::NULL, JsValue::from))]);
        }),
        Some("explain") => wasm_bindgen_futures::spawn_local(async move {
            let outcome = run(id, &field(&message, "request").as_string().unwrap_or_default()).await;
            CANCELLED.with(|c| c.borrow_mut().remove(&id));
            if let Some(outcome) = outcome {
                post("done", id, &[("result", json(&outcome).into())]);
            }
        }),
        Some("cancel") => {
            CANCELLED.with(|c| c.borrow_mut().insert(id));
        }
        _ => {}
    }
}

/// Builds the model from the files the page sent, on the backend it named.
async fn load(message: &JsValue) -> Result<(), String> {
    let names: Array = field(message, "names").dyn_into().map_err(|_| "no file names")?;
    let buffers: Array = field(message, "buffers").dyn_into().map_err(|_| "no files")?;
    let files =
        names.iter().zip(buffers.iter()).map(|(name, buffer)| (name.as_string().unwrap_or_default(), Uint8Array::new(&buffer).to_vec())).collect();
    let assets = assets_from_files(files)?;
    let backend = field(message, "backend").as_string().and_then(|b| Backend::from_key(&b)).unwrap_or(Backend::Cpu);
    let device = backend::device(backend).await.map_err(|e| format!("WebGPU could not start ({e}); choose the CPU backend."))?;
    let model = Classifier::load(&assets, &device).map_err(|e| format!("The model files are damaged: {e}"))?;
    MODEL.with(|m| *m.borrow_mut() = Some(Rc::new(model)));
    Ok(())
}

/// Runs one request; `None` when the page cancelled it.
async fn run(id: u64, request: &str) -> Option<Result<Explanation, Failure>> {
    let request: Request = match serde_json::from_str(request) {
        Ok(request) => request,
        Err(e) => return Some(Err(Failure::Input(format!("a malformed request: {e}")))),
    };
    let Some(model) = MODEL.with(|m| m.borrow().clone()) else {
        return Some(Err(Failure::Input("the model is not loaded".into())));
    };
    match explain(&model, &request, &mut Reporter { id }).await {
        Ok(explanation) => Some(Ok(explanation)),
        Err(Stopped::Cancelled) => None,
        Err(Stopped::Failed(InputError::Device(e))) => Some(Err(Failure::Device(e.to_string()))),
        Err(Stopped::Failed(e)) => Some(Err(Failure::Input(e.to_string()))),
    }
}

/// The pipeline's hooks in the worker: every stage and partial result goes to the page; between stages
/// the worker reads its messages, so that a cancel lands.
struct Reporter {
    id: u64,
}

impl Hooks for Reporter {
    async fn before(&mut self, stage: &Stage) -> Result<(), Stopped> {
        post("stage", self.id, &[("stage", json(stage).into())]);
        next_task().await;
        if CANCELLED.with(|c| c.borrow().contains(&self.id)) { Err(Stopped::Cancelled) } else { Ok(()) }
    }

    fn progressed(&mut self, so_far: &Explanation) {
        post("partial", self.id, &[("explanation", json(so_far).into())]);
    }
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("results serialise")
}

fn post(kind: &str, id: u64, fields: &[(&str, JsValue)]) {
    let message = Object::new();
    let _ = Reflect::set(&message, &"kind".into(), &kind.into());
    let _ = Reflect::set(&message, &"id".into(), &(id as f64).into());
    for (name, value) in fields {
        let _ = Reflect::set(&message, &(*name).into(), value);
    }
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let _ = scope.post_message(&message);
}

/// Lets the worker handle the messages that came in meanwhile (a task later).
async fn next_task() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let task = js_sys::Promise::new(&mut |resolve, _| {
        let _ = scope.set_timeout_with_callback_and_timeout_and_arguments_0(resolve.unchecked_ref(), 0);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(task).await;
}
