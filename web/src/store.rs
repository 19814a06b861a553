//! One download of a site's model files per page, and one model per backend, shared by the full page and
//! every widget on it. A failed download is forgotten, so that a retry fetches again.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use gradlens_model::{Classifier, ModelAssets};

use crate::backend::{self, Backend};
use crate::loading::{Progress, fetch_model};

type Pending<T> = Shared<LocalBoxFuture<'static, Result<Rc<T>, String>>>;

thread_local! {
    static DOWNLOADS: RefCell<HashMap<String, Pending<ModelAssets>>> = RefCell::new(HashMap::new());
    static MODELS: RefCell<HashMap<(String, Backend), Pending<Classifier>>> = RefCell::new(HashMap::new());
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

/// The model at `site` on `backend`, loaded once.
pub async fn classifier(site: &str, backend: Backend, progress: impl Fn(Progress) + 'static) -> Result<Rc<Classifier>, String> {
    let key = (site.to_owned(), backend);
    let pending = MODELS.with(|m| {
        let owned = site.to_owned();
        m.borrow_mut()
            .entry(key.clone())
            .or_insert_with(|| {
                async move {
                    let files = assets(&owned, progress).await?;
                    let device = backend::device(backend).await.map_err(|e| format!("WebGPU could not start ({e}); choose the CPU backend."))?;
                    Classifier::load(&files, &device).map(Rc::new).map_err(|e| format!("The model files are damaged: {e}"))
                }
                .boxed_local()
                .shared()
            })
            .clone()
    });
    let result = pending.await;
    if result.is_err() {
        // Damaged files must be fetched again on a retry, not reused.
        MODELS.with(|m| m.borrow_mut().remove(&key));
        DOWNLOADS.with(|d| d.borrow_mut().remove(site));
    }
    result
}
