//! One download of a site's model files per page, and one model (in its worker) per backend, shared by
//! the full page and every widget on it. A failed download is forgotten, so that a retry fetches again.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use gradlens_model::ModelAssets;

use crate::backend::Backend;
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

/// The model at `site` on `backend`, loaded once, in its worker.
pub async fn engine(site: &str, backend: Backend, progress: impl Fn(Progress) + 'static) -> Result<Rc<Engine>, String> {
    let key = (site.to_owned(), backend);
    let pending = ENGINES.with(|m| {
        let owned = site.to_owned();
        m.borrow_mut()
            .entry(key.clone())
            .or_insert_with(|| {
                async move {
                    let files = assets(&owned, progress).await?;
                    Engine::start(&files, backend).await.map(Rc::new)
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
