//! The page's handle on the worker that holds the model and runs the pipeline ([`crate::worker`]):
//! started once per site and backend, given the model's files, then asked to explain. Its replies go to
//! the request that waits for them; a cancelled request's later replies go nowhere.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures::channel::{mpsc, oneshot};
use gradlens_attribution::{Explanation, Request, Stage};
use gradlens_model::{ModelAssets, ModelConfig};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

use crate::backend::Backend;
use crate::loading::js_error;
use crate::runner::Failure;

/// What the worker says about one request.
pub enum Reply {
    Stage(Stage),
    Partial(Explanation),
    Done(Result<Explanation, Failure>),
}

type Waiting = Rc<RefCell<HashMap<u64, mpsc::UnboundedSender<Reply>>>>;

/// A worker with a model loaded.
pub struct Engine {
    /// The model's config.json: labels, examples, description, maximum length.
    pub config: ModelConfig,
    worker: Worker,
    next_id: Cell<u64>,
    waiting: Waiting,
    // Kept alive as long as the worker: it routes the worker's messages.
    _listener: Closure<dyn FnMut(MessageEvent)>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

impl Engine {
    /// Starts a worker and loads the model from `assets` on `backend` there.
    pub async fn start(assets: &ModelAssets, backend: Backend) -> Result<Engine, String> {
        let config: ModelConfig = serde_json::from_slice(&assets.config).map_err(|e| format!("config.json: {e}"))?;
        let worker = spawn()?;
        let waiting: Waiting = Rc::default();
        let (loaded_tx, loaded_rx) = oneshot::channel::<Result<(), String>>();
        let loaded_tx = RefCell::new(Some(loaded_tx));
        let routes = waiting.clone();
        let listener = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let message = event.data();
            let text = |name: &str| Reflect::get(&message, &name.into()).ok().and_then(|v| v.as_string());
            let id = Reflect::get(&message, &"id".into()).ok().and_then(|v| v.as_f64()).unwrap_or_default() as u64;
            let reply = match text("kind").as_deref() {
                Some("loaded") => {
                    if let Some(tx) = loaded_tx.borrow_mut().take() {
                        let _ = tx.send(text("error").map_or(Ok(()), Err));
                    }
                    return;
                }
                Some("stage") => text("stage").and_then(|s| serde_json::from_str(&s).ok()).map(Reply::Stage),
                Some("partial") => text("explanation").and_then(|s| serde_json::from_str(&s).ok()).map(Reply::Partial),
                Some("done") => text("result").and_then(|s| serde_json::from_str(&s).ok()).map(Reply::Done),
                _ => None,
            };
            let Some(reply) = reply else { return };
            let done = matches!(reply, Reply::Done(_));
            let mut routes = routes.borrow_mut();
            if let Some(route) = routes.get(&id) {
                let _ = route.unbounded_send(reply);
            }
            if done {
                routes.remove(&id);
            }
        });
        worker.set_onmessage(Some(listener.as_ref().unchecked_ref()));

        // The files go over as buffers the worker takes (transferred: no second copy on this side).
        let (names, buffers) = (Array::new(), Array::new());
        for (name, bytes) in assets.files() {
            names.push(&name.into());
            buffers.push(&Uint8Array::from(bytes).buffer());
        }
        let message = Object::new();
        let _ = Reflect::set(&message, &"kind".into(), &"load".into());
        let _ = Reflect::set(&message, &"backend".into(), &backend.key().into());
        let _ = Reflect::set(&message, &"names".into(), &names);
        let _ = Reflect::set(&message, &"buffers".into(), &buffers);
        worker.post_message_with_transfer(&message, &buffers).map_err(js_error)?;
        loaded_rx.await.map_err(|_| "the model's worker stopped".to_string())??;
        Ok(Engine { config, worker, next_id: Cell::new(0), waiting, _listener: listener })
    }

    /// Asks the worker to explain `request`: its number, and the replies as they come.
    pub fn explain(&self, request: &Request) -> (u64, mpsc::UnboundedReceiver<Reply>) {
        let id = self.next_id.get() + 1;
        self.next_id.set(id);
        let (tx, rx) = mpsc::unbounded();
        self.waiting.borrow_mut().insert(id, tx);
        let json = serde_json::to_string(request).expect("a request serialises");
        self.post("explain", id, Some(json));
        (id, rx)
    }

    /// Stops request `id`: the worker stops at its next stage, and nothing more of it arrives here.
    pub fn cancel(&self, id: u64) {
        self.waiting.borrow_mut().remove(&id);
        self.post("cancel", id, None);
    }

    fn post(&self, kind: &str, id: u64, request: Option<String>) {
        let message = Object::new();
        let _ = Reflect::set(&message, &"kind".into(), &kind.into());
        let _ = Reflect::set(&message, &"id".into(), &(id as f64).into());
        if let Some(request) = request {
            let _ = Reflect::set(&message, &"request".into(), &request.into());
        }
        let _ = self.worker.post_message(&message);
    }
}

/// A module worker that starts this page's own build (loader.js says which one and where). Made from a
/// blob, so that a widget on another origin can start it too; messages that arrive while the build
/// starts are queued for it.
fn spawn() -> Result<Worker, String> {
    let gradlens = Reflect::get(&js_sys::global(), &"gradlens".into()).map_err(js_error)?;
    let setting =
        |name: &str| Reflect::get(&gradlens, &name.into()).ok().and_then(|v| v.as_string()).ok_or(format!("loader.js did not say the {name}"));
    let (base, build) = (setting("base")?, setting("build")?);
    let quoted = |url: String| serde_json::to_string(&url).expect("a string serialises");
    let source = format!(
        "const queue = []; self.gradlensQueue = queue; self.onmessage = (event) => queue.push(event.data);\n\
         const {{ default: init }} = await import({});\n\
         await init({{ module_or_path: {} }});\n",
        quoted(format!("{base}{build}.js")),
        quoted(format!("{base}{build}_bg.wasm")),
    );
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/javascript");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&Array::of1(&source.into()), &options).map_err(js_error)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(js_error)?;
    let worker_options = WorkerOptions::new();
    worker_options.set_type(WorkerType::Module);
    Worker::new_with_options(&url, &worker_options).map_err(js_error)
}
