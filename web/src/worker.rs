//! The other side of the page: the same build, started in Web Workers, holds the model and runs the
//! pipeline, so that the page's thread only draws (typing, scrolling and Cancel stay instant while a
//! method runs). The page talks to them through [`crate::engine`]; each message is a plain object with a
//! `kind`, JSON for structured values and buffers for the model's files and for numbers.
//!
//! The workers of one engine are a [`Team`]: each runs every request, splits its batches with the
//! others, and swaps parts with them through the page. Member 0 reports to the page.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use futures::channel::oneshot;
use gradlens_attribution::{DeviceError, Explanation, Hooks, InputError, Request, Stage, Stopped, Swap, Swapped, Team, explain};
use gradlens_model::Classifier;
use gradlens_model::site::assets_from_files;
use js_sys::{Array, Float32Array, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::backend::{self, Backend};
use crate::engine::{message, sleep};
use crate::runner::Failure;

thread_local! {
    static MODEL: RefCell<Option<Rc<Classifier>>> = const { RefCell::new(None) };
    /// Requests the page has given up on: they stop at their next stage or swap, and later parts of
    /// theirs are dropped.
    static CANCELLED: RefCell<HashSet<u64>> = RefCell::new(HashSet::new());
    /// The model's files, as the page sends them (one message each), until the page says to load.
    static FILES: RefCell<Vec<(String, Vec<u8>)>> = const { RefCell::new(Vec::new()) };
    /// This worker's place in its team (0 reports to the page).
    static MEMBER: Cell<usize> = const { Cell::new(0) };
    /// Parts of each (request, round) that have come in, and this member's wait for the rest.
    static SWAPS: RefCell<HashMap<(u64, u32), Round>> = RefCell::new(HashMap::new());
}

/// Token positions per batch (copies x length) in a worker: a 116-token review's IG batch of 25 path
/// points grew a worker's wasm memory to 1.3 GB; with this bound it stays near 300 MB.
const BATCH_TOKENS: usize = 512;

#[derive(Default)]
struct Round {
    parts: Vec<Option<Vec<f32>>>,
    waiting: Option<oneshot::Sender<Vec<Vec<f32>>>>,
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
        Some("file") => {
            let bytes = field(&message, "buffer").dyn_into::<js_sys::ArrayBuffer>().map(|b| Uint8Array::new(&b).to_vec()).unwrap_or_default();
            FILES.with(|f| f.borrow_mut().push((field(&message, "name").as_string().unwrap_or_default(), bytes)));
        }
        Some("load") => wasm_bindgen_futures::spawn_local(async move {
            let error = load(&message).await.err();
            post("loaded", 0, &[("error", error.map_or(JsValue::NULL, JsValue::from))]);
        }),
        Some("explain") => wasm_bindgen_futures::spawn_local(async move {
            // The members ready when the page sent the request share it.
            let size = (field(&message, "size").as_f64().unwrap_or_default() as usize).max(1);
            let outcome = run(id, &field(&message, "request").as_string().unwrap_or_default(), size).await;
            SWAPS.with(|s| s.borrow_mut().retain(|(request, _), _| *request != id));
            let cancelled = CANCELLED.with(|c| c.borrow().contains(&id));
            // Member 0 reports the result; a helper reports only its failure (the page then stops the others).
            match outcome {
                Some(outcome) if !cancelled && (MEMBER.get() == 0 || outcome.is_err()) => {
                    post("done", id, &[("result", json(&outcome).into())]);
                }
                _ => {}
            }
        }),
        Some("swap") => {
            let part = field(&message, "part").dyn_into::<Float32Array>().map(|p| p.to_vec()).unwrap_or_default();
            let number = |name: &str| field(&message, name).as_f64().unwrap_or_default() as usize;
            if !CANCELLED.with(|c| c.borrow().contains(&id)) {
                deposit(id, number("round") as u32, number("member"), number("size"), part, None);
            }
        }
        Some("cancel") => {
            CANCELLED.with(|c| c.borrow_mut().insert(id));
            // Waits for parts that will not come end (their senders are dropped).
            SWAPS.with(|s| s.borrow_mut().retain(|(request, _), _| *request != id));
        }
        _ => {}
    }
}

/// Files `member`'s part of a round of a request shared by `size` members; once every part is in and
/// this member waits, hands them over.
fn deposit(id: u64, round: u32, member: usize, size: usize, part: Vec<f32>, waiting: Option<oneshot::Sender<Vec<Vec<f32>>>>) {
    SWAPS.with(|swaps| {
        let mut swaps = swaps.borrow_mut();
        let entry = swaps.entry((id, round)).or_insert_with(|| Round { parts: vec![None; size], waiting: None });
        if let Some(slot) = entry.parts.get_mut(member) {
            *slot = Some(part);
        }
        if waiting.is_some() {
            entry.waiting = waiting;
        }
        if entry.waiting.is_some() && entry.parts.iter().all(Option::is_some) {
            let Round { parts, waiting } = swaps.remove(&(id, round)).expect("the entry just seen");
            let _ = waiting.expect("checked above").send(parts.into_iter().flatten().collect());
        }
    });
}

/// How this worker swaps parts of request `id` with the other `size - 1` members that share it: through
/// the page, which passes each part on to them.
fn swap(id: u64, size: usize) -> Swap {
    Rc::new(move |Swapped { round, part }| {
        let member = MEMBER.get();
        let numbers = Float32Array::from(part.as_slice());
        post("swap", id, &[("round", round.into()), ("member", member.into()), ("size", size.into()), ("part", numbers.into())]);
        let (tx, rx) = oneshot::channel();
        deposit(id, round, member, size, part, Some(tx));
        Box::pin(async move { rx.await.map_err(|_| DeviceError { device: "the page's workers".into(), reason: "the request was stopped".into() }) })
    })
}

/// Builds the model from the files the page sent, on the backend the `load` message names.
async fn load(message: &JsValue) -> Result<(), String> {
    let assets = assets_from_files(FILES.with(|f| std::mem::take(&mut *f.borrow_mut())))?;
    let backend = field(message, "backend").as_string().and_then(|b| Backend::from_key(&b)).unwrap_or(Backend::Cpu);
    let device = backend::device(backend).await.map_err(|e| format!("WebGPU could not start ({e}); choose the CPU backend."))?;
    let model = Classifier::load(&assets, &device).map_err(|e| format!("The model files are damaged: {e}"))?;
    MODEL.with(|m| *m.borrow_mut() = Some(Rc::new(model)));
    MEMBER.set(field(message, "member").as_f64().unwrap_or_default() as usize);
    Ok(())
}

/// Runs one request, shared by `size` members; `None` when the page cancelled it.
async fn run(id: u64, request: &str, size: usize) -> Option<Result<Explanation, Failure>> {
    let request: Request = match serde_json::from_str(request) {
        Ok(request) => request,
        Err(e) => return Some(Err(Failure::Input(format!("a malformed request: {e}")))),
    };
    let Some(model) = MODEL.with(|m| m.borrow().clone()) else {
        return Some(Err(Failure::Input("the model is not loaded".into())));
    };
    match explain(&model, &request, &mut Reporter { id, size }).await {
        Ok(explanation) => Some(Ok(explanation)),
        Err(Stopped::Cancelled) => None,
        Err(Stopped::Failed(InputError::Device(e))) => Some(Err(Failure::Device(e.to_string()))),
        Err(Stopped::Failed(e)) => Some(Err(Failure::Input(e.to_string()))),
    }
}

/// The pipeline's hooks in the worker: member 0 sends every stage and partial result to the page;
/// between stages each member reads its messages, so that a cancel lands.
struct Reporter {
    id: u64,
    size: usize,
}

impl Hooks for Reporter {
    async fn before(&mut self, stage: &Stage) -> Result<(), Stopped> {
        if MEMBER.get() == 0 {
            post("stage", self.id, &[("stage", json(stage).into())]);
        }
        // A task later: the messages that came in meanwhile (a cancel) are handled.
        sleep(0).await;
        if CANCELLED.with(|c| c.borrow().contains(&self.id)) { Err(Stopped::Cancelled) } else { Ok(()) }
    }

    fn progressed(&mut self, so_far: &Explanation) {
        if MEMBER.get() == 0 {
            post("partial", self.id, &[("explanation", json(so_far).into())]);
        }
    }

    fn team(&self) -> Team {
        let team = match self.size {
            1 => Team::alone(),
            size => Team::new(MEMBER.get(), size, swap(self.id, size)),
        };
        team.with_batch_tokens(BATCH_TOKENS)
    }
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("results serialise")
}

fn post(kind: &str, id: u64, fields: &[(&str, JsValue)]) {
    let message = message(kind, id, fields);
    // The worker's wasm memory (it only grows: its last size is its peak), for the page's figures.
    let memory = wasm_bindgen::memory().unchecked_into::<js_sys::WebAssembly::Memory>().buffer();
    let _ = Reflect::set(&message, &"memory".into(), &Reflect::get(&memory, &"byteLength".into()).unwrap_or_default());
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let _ = scope.post_message(&message);
}
