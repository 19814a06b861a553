//! The page's handle on the workers that hold the model and run the pipeline ([`crate::worker`]):
//! started once per site and backend, given the model's files, then asked to explain. The workers are a
//! team that splits each request's batches: the page passes their parts between them. Member 0's replies
//! go to the request that waits for them; a cancelled request's later replies go nowhere.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use futures::StreamExt;
use futures::channel::{mpsc, oneshot};
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

/// The workers of one engine (a team, in the pipeline's words) and the page's state for them. Closures that route the workers' messages
/// hold it weakly, so that dropping the engine ends it.
#[derive(Default)]
struct Workers {
    /// Workers started so far, in member order; the first `ready` have the model loaded.
    workers: RefCell<Vec<Worker>>,
    ready: Cell<usize>,
    /// Requests waiting for replies.
    waiting: RefCell<HashMap<u64, mpsc::UnboundedSender<Reply>>>,
    /// Set when a worker died (a panic, out of memory): the engine is of no more use.
    stopped: Cell<bool>,
    /// Set when the engine is dropped: a worker still loading is ended.
    closed: Cell<bool>,
    /// Told when the first reply with a highlight comes (the helpers start then, not before).
    first_highlight: RefCell<Option<oneshot::Sender<()>>>,
    listeners: RefCell<Vec<(Closure<dyn FnMut(MessageEvent)>, Closure<dyn FnMut(ErrorEvent)>)>>,
}

impl Workers {
    fn post(&self, members: usize, kind: &str, id: u64, fields: &[(&str, JsValue)]) {
        let message = message(kind, id, fields);
        for worker in self.workers.borrow().iter().take(members) {
            let _ = worker.post_message(&message);
        }
    }

    /// Ends every waiting request with `failure`.
    fn fail_all(&self, failure: Failure) {
        for (_, route) in self.waiting.borrow_mut().drain() {
            let _ = route.unbounded_send(Reply::Done(Err(failure.clone())));
        }
    }
}

/// A team of workers with the model loaded.
pub struct Engine {
    /// The model's config.json: labels, examples, description, maximum length.
    pub config: ModelConfig,
    team: Rc<Workers>,
    /// Workers the team will have once all have loaded the model.
    planned: usize,
    next_id: Cell<u64>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.team.closed.set(true);
        self.team.workers.borrow().iter().for_each(Worker::terminate);
    }
}

impl Engine {
    /// Starts a worker and loads the model from `assets` on `backend` in it; the engine is ready then.
    /// The other `workers - 1` start one after the other in the background, each joining the team for
    /// the requests made after it has loaded. They start once the first highlight is back (or after
    /// [`HELPERS_AFTER_MS`] without a request), so that loading them does not slow the first highlight.
    pub async fn start(assets: Rc<ModelAssets>, backend: Backend, workers: usize) -> Result<Engine, String> {
        let config: ModelConfig = serde_json::from_slice(&assets.config).map_err(|e| format!("config.json: {e}"))?;
        let team = Rc::new(Workers::default());
        start_member(&team, &assets, backend).await?;
        let (first_highlight, highlighted) = oneshot::channel();
        *team.first_highlight.borrow_mut() = Some(first_highlight);
        let helpers = team.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if workers > 1 {
                futures::future::select(highlighted, Box::pin(sleep(HELPERS_AFTER_MS))).await;
            }
            for _ in 1..workers {
                if helpers.closed.get() {
                    break;
                }
                if let Err(e) = start_member(&helpers, &assets, backend).await {
                    // The team works on with the workers it has.
                    web_sys::console::warn_1(&format!("GradLens: a helper worker did not start ({e})").into());
                    break;
                }
            }
        });
        Ok(Engine { config, team, planned: workers.max(1), next_id: Cell::new(0) })
    }

    /// How many workers split each request once all have started.
    pub fn workers(&self) -> usize {
        self.planned
    }

    /// Whether a worker died, so that the engine must be started again.
    pub fn stopped(&self) -> bool {
        self.team.stopped.get()
    }

    /// Asks the team (the workers ready now) to explain `request`: its number, and the replies as they come.
    pub fn explain(&self, request: &Request) -> (u64, mpsc::UnboundedReceiver<Reply>) {
        let id = self.next_id.get() + 1;
        self.next_id.set(id);
        let (tx, rx) = mpsc::unbounded();
        if self.stopped() {
            let _ = tx.unbounded_send(Reply::Done(Err(Failure::Stopped("the model's worker stopped".into()))));
            return (id, rx);
        }
        self.team.waiting.borrow_mut().insert(id, tx);
        let json = serde_json::to_string(request).expect("a request serialises");
        let size = self.team.ready.get();
        self.team.post(size, "explain", id, &[("request", json.into()), ("size", size.into())]);
        (id, rx)
    }

    /// Explains `request` to the end, without progress.
    pub async fn run(&self, request: &Request) -> Result<Explanation, Failure> {
        let (_, mut replies) = self.explain(request);
        while let Some(reply) = replies.next().await {
            if let Reply::Done(result) = reply {
                return result;
            }
        }
        Err(Failure::Stopped("the model's worker stopped".into()))
    }

    /// Stops request `id`: the workers stop at their next stage, and nothing more of it arrives here.
    pub fn cancel(&self, id: u64) {
        self.team.waiting.borrow_mut().remove(&id);
        self.team.post(usize::MAX, "cancel", id, &[]);
    }
}

/// How long the helpers wait for a first request before they start anyway.
const HELPERS_AFTER_MS: i32 = 1000;

/// A message of the protocol between the page and its workers: a plain object with a `kind`, the
/// request's `id` and `fields`.
pub fn message(kind: &str, id: u64, fields: &[(&str, JsValue)]) -> Object {
    let message = Object::new();
    let _ = Reflect::set(&message, &"kind".into(), &kind.into());
    let _ = Reflect::set(&message, &"id".into(), &(id as f64).into());
    for (name, value) in fields {
        let _ = Reflect::set(&message, &(*name).into(), value);
    }
    message
}

/// Resolves `ms` milliseconds later, a task later at least (0: once the messages that came in meanwhile
/// have been handled). On the page and in a worker alike.
pub async fn sleep(ms: i32) {
    let timer = js_sys::Promise::new(&mut |resolve, _| {
        let set_timeout = Reflect::get(&js_sys::global(), &"setTimeout".into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        if let Some(set_timeout) = set_timeout {
            let _ = set_timeout.call2(&JsValue::NULL, &resolve, &ms.into());
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(timer).await;
}

/// Starts the team's next member and loads the model into it.
async fn start_member(team: &Rc<Workers>, assets: &ModelAssets, backend: Backend) -> Result<(), String> {
    let worker = spawn()?;
    let member = team.workers.borrow().len();
    let (loaded_tx, loaded_rx) = oneshot::channel::<Result<(), String>>();
    let on_message = listen(member, Rc::downgrade(team), loaded_tx);
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    let weak = Rc::downgrade(team);
    let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
        // Every request waiting on the team ends with the reason; the store starts a new team.
        if let Some(team) = weak.upgrade() {
            team.stopped.set(true);
            team.fail_all(Failure::Stopped(format!("the model's worker stopped ({})", event.message())));
        }
    });
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    team.listeners.borrow_mut().push((on_message, on_error));
    team.workers.borrow_mut().push(worker.clone());

    // One file per message and per task: copying all 20 MB at once takes the page's thread longer than a
    // frame, and a helper starts while the page explains. The copies are the worker's (transferred).
    for (name, bytes) in assets.files() {
        let buffer = Uint8Array::from(bytes).buffer();
        let file = message("file", 0, &[("name", name.into()), ("buffer", buffer.clone().into())]);
        worker.post_message_with_transfer(&file, &Array::of1(&buffer)).map_err(js_error)?;
        sleep(0).await;
    }
    let _ = worker.post_message(&message("load", 0, &[("backend", backend.key().into()), ("member", member.into())]));
    loaded_rx.await.map_err(|_| "the model's worker stopped".to_string())??;
    if !team.closed.get() {
        team.ready.set(member + 1);
    }
    Ok(())
}

/// What the page does with member `member`'s messages: parts go to the other members of the request,
/// the loading result to `loaded`, replies to the request they belong to.
fn listen(member: usize, team: Weak<Workers>, loaded: oneshot::Sender<Result<(), String>>) -> Closure<dyn FnMut(MessageEvent)> {
    let loaded = RefCell::new(Some(loaded));
    Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let Some(team) = team.upgrade() else { return };
        let message = event.data();
        let field = |name: &str| Reflect::get(&message, &name.into()).unwrap_or(JsValue::UNDEFINED);
        let text = |name: &str| field(name).as_string();
        let id = field("id").as_f64().unwrap_or_default() as u64;
        record_memory(member, &message);
        let reply = match text("kind").as_deref() {
            Some("loaded") => {
                if let Some(tx) = loaded.borrow_mut().take() {
                    let _ = tx.send(text("error").map_or(Ok(()), Err));
                }
                return;
            }
            Some("swap") => {
                let size = field("size").as_f64().unwrap_or_default() as usize;
                team.workers.borrow().iter().take(size).enumerate().filter(|(other, _)| *other != member).for_each(|(_, worker)| {
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
        let highlighted = match &reply {
            Reply::Partial(so_far) => !so_far.attributions.is_empty(),
            Reply::Done(_) => true,
            Reply::Stage(_) => false,
        };
        if highlighted && let Some(tx) = team.first_highlight.borrow_mut().take() {
            let _ = tx.send(());
        }
        let failed = matches!(reply, Reply::Done(Err(_)));
        let done = matches!(reply, Reply::Done(_));
        if let Some(route) = team.waiting.borrow().get(&id) {
            let _ = route.unbounded_send(reply);
        }
        if done {
            team.waiting.borrow_mut().remove(&id);
        }
        if failed {
            // The other members may wait for this one's parts: stop them too.
            team.post(usize::MAX, "cancel", id, &[]);
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

/// A module worker that starts this page's own build (loader.js keeps its glue as a blob and compiled its
/// module): its first message is the compiled module. Made from a blob, so that a widget on another origin
/// can start it too; messages that arrive while the build starts are queued for it.
fn spawn() -> Result<Worker, String> {
    let gradlens = Reflect::get(&js_sys::global(), &"gradlens".into()).map_err(js_error)?;
    let glue = Reflect::get(&gradlens, &"glue".into()).ok().and_then(|v| v.as_string()).ok_or("loader.js did not keep the build's glue")?;
    let module = Reflect::get(&gradlens, &"module".into()).ok().filter(|m| m.is_object()).ok_or("loader.js did not compile the build")?;
    let quoted = |url: String| serde_json::to_string(&url).expect("a string serialises");
    let source = format!(
        "const queue = []; self.gradlensQueue = queue;\n\
         let first; const module = new Promise((resolve) => {{ first = resolve; }});\n\
         self.onmessage = (event) => {{ if (first) {{ first(event.data); first = null; }} else queue.push(event.data); }};\n\
         const {{ default: init }} = await import({});\n\
         await init({{ module_or_path: await module }});\n",
        quoted(glue),
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
