//! Registers the site's service worker (`sw.js`, written at build time by tools/stage_service_worker.sh),
//! which keeps the page's own files for offline visits; the model's files are kept by [`crate::loading`].

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::loading::js_error;

/// Registers `sw.js` beside the page. A browser without service workers (or one that refuses this one)
/// still gets a working page, online only: `failed` hears why, in words for the reader.
pub fn register_service_worker(failed: impl FnOnce(String) + 'static) {
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else { return };
    let online_only = |why: String| format!("This page will not work offline here: {why}.");
    // Absent outside secure contexts: calling through it would throw.
    if !js_sys::Reflect::has(&navigator, &JsValue::from_str("serviceWorker")).unwrap_or(false) {
        failed(online_only("this browser offers no service worker to this page".into()));
        return;
    }
    let registering = navigator.service_worker().register("sw.js");
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = JsFuture::from(registering).await {
            failed(online_only(format!("its service worker did not install ({})", js_error(e))));
        }
    });
}
