//! The page's handle on the workers that hold the model and run the pipeline ([`crate::worker`]):
//! started once per site and backend, given the model's files, then asked to explain. The workers are a
//! team that splits each request's batches: the page passes their parts between them. Member 0's replies
//! go to the request that waits for them; a cancelled request's later replies go nowhere.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures::channel::{mpsc, oneshot};
use futures::future::join_all;
use gradlens_attribution::{Explanation, Request, Stage};
use gradlens_model::{ModelAssets, ModelConfig};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker, WorkerOptions, WorkerType};

use crate::backend::Backend;
use crate::loading::js_error;
use crate::runner::Failure;

/// What the workers say about one request.
pub enum Reply {
    Stage(Stage),
    Partial(Explanation),
    Done(Result<Explanation, Failure>),
}

type Waiting = Rc<RefCell<HashMap<u64, mpsc::UnboundedSender<Reply>>>>;

/// A team of workers with the model loaded.
pub struct Engine {
    /// The model's config.json: labels, examples, description, maximum length.
    pub config: ModelConfig,
    team: Rc<Vec<Worker>>,
    next_id: Cell<u64>,
    waiting: Waiting,
    /// Set when a worker died (a panic, out of memory): the engine is of no more use.
    stopped: Rc<Cell<bool>>,
    // Kept alive as long as the workers: they route the workers' messages.
    _listeners: Vec<(Closure<dyn FnMut(MessageEvent)>, Closure<dyn FnMut(ErrorEvent)>)>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.team.iter().for_each(Worker::terminate);
    }
}

impl Engine {
    /// Starts `workers` workers and loads the model from `assets` on `backend` in each.
    pub async fn start(assets: &ModelAssets, backend: Backend, workers: usize) -> Result<Engine, String> {
        let config: ModelConfig = serde_json::from_slice(&assets.config).map_err(|e| format!("config.json: {e}"))?;
        let team: Rc<Vec<Worker>> = Rc::new((0..workers.max(1)).map(|_| spawn()).collect::<Result<_, _>>()?);
        let waiting: Waiting = Rc::default();
        let stopped = Rc::new(Cell::new(false));
        let mut listeners = Vec::new();
        let mut loaded = Vec::new();
        for (member, worker) in team.iter().enumerate() {
            let (loaded_tx, loaded_rx) = oneshot::channel::<Result<(), String>>();
            loaded.push(loaded_rx);
            let on_message = listen(member, team.clone(), waiting.clone(), loaded_tx);
            worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            let (routes, stopped) = (waiting.clone(), stopped.clone());
            let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
                // Every request waiting on the team ends with the reason; the store starts a new team.
                stopped.set(true);
                let failure = Failure::Stopped(format!("the model's worker stopped ({})", event.message()));
                for (_, route) in routes.borrow_mut().drain() {
                    let _ = route.unbounded_send(Reply::Done(Err(failure.clone())));
                }
            });
            worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            listeners.push((on_message, on_error));

            let (names, buffers) = (Array::new(), Array::new());
            for (name, bytes) in assets.files() {
                names.push(&name.into());
                buffers.push(&Uint8Array::from(bytes).buffer());
            }
            let message = Object::new();
            let _ = Reflect::set(&message, &"kind".into(), &"load".into());
            let _ = Reflect::set(&message, &"backend".into(), &backend.key().into());
            let _ = Reflect::set(&message, &"member".into(), &member.into());
            let _ = Reflect::set(&message, &"size".into(), &team.len().into());
            let _ = Reflect::set(&message, &"names".into(), &names);
            let _ = Reflect::set(&message, &"buffers".into(), &buffers);
            // The copies are the worker's (transferred): none stays on this side.
            worker.post_message_with_transfer(&message, &buffers).map_err(js_error)?;
        }
        for result in join_all(loaded).await {
            result.map_err(|_| "the model's worker stopped".to_string())??;
        }
        Ok(Engine { config, team, next_id: Cell::new(0), waiting, stopped, _listeners: listeners })
    }

    /// How many workers split each request.
    pub fn workers(&self) -> usize {
        self.team.len()
    }

    /// Whether a worker died, so that the engine must be started again.
    pub fn stopped(&self) -> bool {
        self.stopped.get()
    }

    /// Asks the team to explain `request`: its number, and the replies as they come.
    pub fn explain(&self, request: &Request) -> (u64, mpsc::UnboundedReceiver<Reply>) {
        let id = self.next_id.get() + 1;
        self.next_id.set(id);
        let (tx, rx) = mpsc::unbounded();
        if self.stopped() {
            let _ = tx.unbounded_send(Reply::Done(Err(Failure::Stopped("the model's worker stopped".into()))));
            return (id, rx);
        }
        self.waiting.borrow_mut().insert(id, tx);
        let json = serde_json::to_string(request).expect("a request serialises");
        post_all(&self.team, "explain", id, Some(json));
        (id, rx)
    }

    /// Stops request `id`: the workers stop at their next stage, and nothing more of it arrives here.
    pub fn cancel(&self, id: u64) {
        self.waiting.borrow_mut().remove(&id);
        post_all(&self.team, "cancel", id, None);
    }
}

/// What the page does with member `member`'s messages: parts go to the other members, the loading
/// result to `loaded`, replies to the request they belong to.
fn listen(member: usize, team: Rc<Vec<Worker>>, routes: Waiting, loaded: oneshot::Sender<Result<(), String>>) -> Closure<dyn FnMut(MessageEvent)> {
    let loaded = RefCell::new(Some(loaded));
    Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let message = event.data();
        let text = |name: &str| Reflect::get(&message, &name.into()).ok().and_then(|v| v.as_string());
        let id = Reflect::get(&message, &"id".into()).ok().and_then(|v| v.as_f64()).unwrap_or_default() as u64;
        record_memory(member, &message);
        let reply = match text("kind").as_deref() {
            Some("loaded") => {
                if let Some(tx) = loaded.borrow_mut().take() {
                    let _ = tx.send(text("error").map_or(Ok(()), Err));
                }
                return;
            }
            Some("swap") => {
                team.iter().enumerate().filter(|(other, _)| *other != member).for_each(|(_, worker)| {
                    let _ = worker.post_message(&message);
                });
                return;
            }
            Some("stage") => text("stage").and_then(|s| serde_json::from_str(&s).ok()).map(Reply::Stage),
            Some("partial") => text("explanation").and_then(|s| serde_json::from_str(&s).ok()).map(Reply::Partial),
            Some("done") => text("result").and_then(|s| serde_json::from_str(&s).ok()).map(Reply::Done),
            _ => None,
        };
        let Some(reply) = reply else { return };
        let failed = matches!(reply, Reply::Done(Err(_)));
        let done = matches!(reply, Reply::Done(_));
        if let Some(route) = routes.borrow().get(&id) {
            let _ = route.unbounded_send(reply);
        }
        if done {
            routes.borrow_mut().remove(&id);
        }
        if failed {
            // The other members may wait for this one's parts: stop them too.
            post_all(&team, "cancel", id, None);
        }
    })
}

/// Keeps each worker's wasm memory where tools/browser_bench.mjs reads the tab's memory.
fn record_memory(member: usize, message: &JsValue) {
    let Ok(gradlens) = Reflect::get(&js_sys::global(), &"gradlens".into()) else { return };
    let sizes = Reflect::get(&gradlens, &"workerMemory".into()).ok().and_then(|v| v.dyn_into::<Array>().ok()).unwrap_or_else(|| {
        let sizes = Array::new();
        let _ = Reflect::set(&gradlens, &"workerMemory".into(), &sizes);
        sizes
    });
    if let Ok(bytes) = Reflect::get(message, &"memory".into()) {
        sizes.set(member as u32, bytes);
    }
}

fn post_all(team: &[Worker], kind: &str, id: u64, request: Option<String>) {
    let message = Object::new();
    let _ = Reflect::set(&message, &"kind".into(), &kind.into());
    let _ = Reflect::set(&message, &"id".into(), &(id as f64).into());
    if let Some(request) = request {
        let _ = Reflect::set(&message, &"request".into(), &request.into());
    }
    for worker in team {
        let _ = worker.post_message(&message);
    }
}

/// A module worker that starts this page's own build (loader.js says which one and where, and compiled
/// it): its first message is the compiled module. Made from a blob, so that a widget on another origin
/// can start it too; messages that arrive while the build starts are queued for it.
fn spawn() -> Result<Worker, String> {
    let gradlens = Reflect::get(&js_sys::global(), &"gradlens".into()).map_err(js_error)?;
    let setting =
        |name: &str| Reflect::get(&gradlens, &name.into()).ok().and_then(|v| v.as_string()).ok_or(format!("loader.js did not say the {name}"));
    let (base, build) = (setting("base")?, setting("build")?);
    let module = Reflect::get(&gradlens, &"module".into()).ok().filter(|m| m.is_object()).ok_or("loader.js did not compile the build")?;
    let quoted = |url: String| serde_json::to_string(&url).expect("a string serialises");
    let source = format!(
        "const queue = []; self.gradlensQueue = queue;\n\
         let first; const module = new Promise((resolve) => {{ first = resolve; }});\n\
         self.onmessage = (event) => {{ if (first) {{ first(event.data); first = null; }} else queue.push(event.data); }};\n\
         const {{ default: init }} = await import({});\n\
         await init({{ module_or_path: await module }});\n",
        quoted(format!("{base}{build}.js")),
    );
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/javascript");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&Array::of1(&source.into()), &options).map_err(js_error)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(js_error)?;
    let worker_options = WorkerOptions::new();
    worker_options.set_type(WorkerType::Module);
    let worker = Worker::new_with_options(&url, &worker_options).map_err(js_error)?;
    worker.post_message(&module).map_err(js_error)?;
    Ok(worker)
}
