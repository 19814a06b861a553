//! One download of a site's model files per page, and one model (in its worker) per backend, shared by
//! the full page and every widget on it. A failed download is forgotten, so that a retry fetches again.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use gradlens_model::ModelAssets;
use js_sys::Reflect;

use crate::backend::{self, Backend};
use crate::engine::Engine;
use crate::loading::{Progress, fetch_model};

type Pending<T> = Shared<LocalBoxFuture<'static, Result<Rc<T>, String>>>;

thread_local! {
    static DOWNLOADS: RefCell<HashMap<String, Pending<ModelAssets>>> = RefCell::new(HashMap::new());
    static ENGINES: RefCell<HashMap<(String, Backend), Pending<Engine>>> = RefCell::new(HashMap::new());
}

/// The files of the model at `site`; `progress` hears about the download if this call starts it.
pub async fn assets(site: &str, progress: impl Fn(Progress) + 'static) -> Result<Rc<ModelAssets>, String> {
    let pending = DOWNLOADS.with(|d| {
        let owned = site.to_owned();
        d.borrow_mut()
            .entry(site.to_owned())
            .or_insert_with(|| {
                async move { fetch_model(&owned, progress).await.map(Rc::new).map_err(|e| format!("The model could not be downloaded: {e}")) }
                    .boxed_local()
                    .shared()
            })
            .clone()
    });
    let result = pending.await;
    if result.is_err() {
        DOWNLOADS.with(|d| d.borrow_mut().remove(site));
    }
    result
}

/// The model at `site` on `backend`, loaded once, in its workers; started again if a worker died.
pub async fn engine(site: &str, backend: Backend, progress: impl Fn(Progress) + 'static) -> Result<Rc<Engine>, String> {
    let key = (site.to_owned(), backend);
    let pending = ENGINES.with(|m| {
        let owned = site.to_owned();
        let mut engines = m.borrow_mut();
        if engines.get(&key).and_then(|e| e.peek()).is_some_and(|e| e.as_ref().is_ok_and(|e| e.stopped())) {
            engines.remove(&key);
        }
        engines
            .entry(key.clone())
            .or_insert_with(|| {
                async move {
                    let files = assets(&owned, progress).await?;
                    Engine::start(files, backend, team_size(backend)).await.map(Rc::new)
                }
                .boxed_local()
                .shared()
            })
            .clone()
    });
    let result = pending.await;
    if result.is_err() {
        // Damaged files must be fetched again on a retry, not reused.
        ENGINES.with(|m| m.borrow_mut().remove(&key));
        DOWNLOADS.with(|d| d.borrow_mut().remove(site));
    }
    result
}

/// Lets the model at `site` on `backend` go (its workers end once nobody holds it).
pub fn forget(site: &str, backend: Backend) {
    ENGINES.with(|m| m.borrow_mut().remove(&(site.to_owned(), backend)));
}

/// Workers at most. Each holds a copy of the model: about 200 MB of wasm memory after loading and 300 MB
/// after a long review (tools/browser_bench.mjs), so a tab with one worker stays under 400 MB and one
/// with two does not.
const MAX_WORKERS: usize = 2;

/// Device memory (`navigator.deviceMemory`, in GB) from which a second worker is worth its memory:
/// desktops and laptops; phones and small devices report less (or nothing) and get one.
const GB_FOR_A_TEAM: f64 = 8.0;

/// How many workers split each request: on the CPU backend one per core but one (the page's thread keeps
/// a core: on a 2-core machine, two busy workers stretched the page's 25 ms renders into 60-94 ms long
/// tasks), at most [`MAX_WORKERS`], on a device with the memory for them; on WebGPU one (the GPU is one
/// device, and a second model copy would only share it). The page's `workers` parameter overrides it
/// (for measuring).
fn team_size(backend: Backend) -> usize {
    if let Some(asked) = backend::url_parameter("workers").and_then(|w| w.parse::<usize>().ok()) {
        return asked.clamp(1, 8);
    }
    let navigator =
        |name: &str| Reflect::get(&js_sys::global(), &"navigator".into()).and_then(|n| Reflect::get(&n, &name.into())).ok().and_then(|v| v.as_f64());
    match backend {
        Backend::WebGpu => 1,
        Backend::Cpu if navigator("deviceMemory").unwrap_or(0.0) < GB_FOR_A_TEAM => 1,
        Backend::Cpu => (navigator("hardwareConcurrency").unwrap_or(1.0) as usize).saturating_sub(1).clamp(1, MAX_WORKERS),
    }
}
