//! Fetching the model's files from a GradLens site's `model/` folder, once per browser: `manifest.json`
//! names the files and their sha256; each file is taken from the browser's Cache Storage when a copy with
//! that sha256 is there and intact, and otherwise downloaded (its gzip copy), checked and kept there. A
//! damaged copy is dropped and downloaded again; a browser that keeps nothing (a private window, a full
//! disk) still gets a working page, and the page says what it could not keep.

use gradlens_model::ModelAssets;
use gradlens_model::site::{MANIFEST_FILE, SiteFile, SiteManifest, assets_from_files};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The Cache Storage cache that holds the model files of every GradLens site this origin uses.
const CACHE_NAME: &str = "gradlens-model";

pub fn js_error(value: JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return format!("{}: {}", error.name(), error.message());
    }
    value.as_string().or_else(|| js_sys::JSON::stringify(&value).ok().map(String::from)).unwrap_or_default()
}

/// How far loading is: bytes downloaded of those to download (files not in the browser's copy), whether
/// every file is in, and what the page should say about the copy it keeps.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    pub received: u64,
    pub expected: u64,
    pub ready: bool,
    pub notes: Vec<String>,
}

/// Fetches one file, reporting the bytes received so far as they stream in. `revalidate` asks the host
/// whether the file changed instead of trusting the browser's HTTP cache.
async fn fetch_bytes(url: &str, revalidate: bool, mut progress: impl FnMut(u64)) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let init = web_sys::RequestInit::new();
    if revalidate {
        init.set_cache(web_sys::RequestCache::NoCache);
    }
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str_and_init(url, &init)).await.map_err(js_error)?.dyn_into().map_err(js_error)?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    read_body(url, &response, &mut progress).await
}

async fn read_body(url: &str, response: &web_sys::Response, progress: &mut impl FnMut(u64)) -> Result<Vec<u8>, String> {
    let Some(body) = response.body() else { return Ok(Vec::new()) };
    let reader: web_sys::ReadableStreamDefaultReader =
        body.get_reader().dyn_into().map_err(|_| format!("{url}: the response body is not a readable stream"))?;
    let mut bytes = Vec::new();
    loop {
        let chunk: web_sys::ReadableStreamReadResult = JsFuture::from(reader.read()).await.map_err(js_error)?.into();
        if chunk.get_done().unwrap_or(true) {
            break;
        }
        bytes.extend(js_sys::Uint8Array::new(&chunk.get_value()).to_vec());
        progress(bytes.len() as u64);
    }
    Ok(bytes)
}

/// The browser's copy of model files, when it keeps one.
struct Kept(web_sys::Cache);

impl Kept {
    async fn open() -> Result<Self, String> {
        let window = web_sys::window().ok_or("no window")?;
        // Absent outside secure contexts (an iframe in an insecure page, say): calling through it would throw.
        let caches = js_sys::Reflect::get(&window, &JsValue::from_str("caches")).map_err(js_error)?;
        if caches.is_undefined() {
            return Err("this page may not use the browser's Cache Storage".into());
        }
        let caches: web_sys::CacheStorage = caches.unchecked_into();
        let cache = JsFuture::from(caches.open(CACHE_NAME)).await.map_err(js_error)?;
        Ok(Kept(cache.unchecked_into()))
    }

    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        let found = JsFuture::from(self.0.match_with_str(key)).await.ok()?;
        let response: web_sys::Response = found.dyn_into().ok()?;
        read_body(key, &response, &mut |_| {}).await.ok()
    }

    async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), String> {
        let body = js_sys::Uint8Array::from(bytes);
        let response = web_sys::Response::new_with_opt_buffer_source(Some(&body)).map_err(js_error)?;
        JsFuture::from(self.0.put_with_str(key, &response)).await.map(drop).map_err(js_error)
    }

    async fn delete(&self, key: &str) {
        let _ = JsFuture::from(self.0.delete_with_str(key)).await;
    }

    /// Drops this site's entries that the current manifest no longer names (an older model).
    async fn forget_others(&self, prefix: &str, current: &[String]) {
        let Ok(keys) = JsFuture::from(self.0.keys()).await else { return };
        for request in js_sys::Array::from(&keys).iter().filter_map(|r| r.dyn_into::<web_sys::Request>().ok()) {
            let url = request.url();
            if url.starts_with(prefix) && !current.iter().any(|k| url == *k) && !url.ends_with(MANIFEST_FILE) {
                self.delete(&url).await;
            }
        }
    }
}

/// Absolute URL of `path` under the site's model folder (cache keys must be comparable with
/// `Request::url`, which is absolute).
fn model_url(site: &str, path: &str) -> Result<String, String> {
    let base = web_sys::window().ok_or("no window")?.location().href().map_err(js_error)?;
    web_sys::Url::new_with_base(&format!("{site}model/{path}"), &base).map(|u| u.href()).map_err(js_error)
}

/// The cache key of one file's content: its sha256 is part of it, so that a new model never meets an
/// old copy.
fn cache_key(site: &str, file: &SiteFile) -> Result<String, String> {
    model_url(site, &format!("{}?sha256={}", file.name, file.sha256))
}

/// The manifest from the site (and kept), or the kept one when the site cannot be reached (offline).
async fn manifest(site: &str, kept: Option<&Kept>) -> Result<SiteManifest, String> {
    let url = model_url(site, MANIFEST_FILE)?;
    let bytes = match fetch_bytes(&url, true, |_| {}).await {
        Ok(bytes) => {
            if let Some(kept) = kept {
                let _ = kept.put(&url, &bytes).await;
            }
            bytes
        }
        Err(e) => match kept {
            Some(kept) => kept.get(&url).await.ok_or(e)?,
            None => return Err(e),
        },
    };
    serde_json::from_slice(&bytes).map_err(|e| format!("{url} is not a model manifest: {e}"))
}

/// The model in `{site}model/`; `site` is the GradLens site's folder ("" for the page's own, or an
/// embedding page's `src`).
pub async fn fetch_model(site: &str, progress: impl Fn(Progress)) -> Result<ModelAssets, String> {
    let mut notes = Vec::new();
    let kept = match Kept::open().await {
        Ok(kept) => Some(kept),
        Err(e) => {
            notes.push(format!("This browser keeps no copy of the model ({e}), so the next visit downloads it again."));
            None
        }
    };
    let manifest = manifest(site, kept.as_ref()).await?;
    let keys = manifest.files.iter().map(|f| cache_key(site, f)).collect::<Result<Vec<_>, _>>()?;

    let mut contents = Vec::new();
    let mut missing = Vec::new();
    for (file, key) in manifest.files.iter().zip(&keys) {
        let copy = match &kept {
            Some(kept) => kept.get(key).await,
            None => None,
        };
        match copy.map(|bytes| file.content(bytes)) {
            Some(Ok(content)) => contents.push((file.name.clone(), content)),
            Some(Err(_)) => {
                kept.as_ref().expect("a copy came from it").delete(key).await;
                notes.push(format!("The copy of {} this browser kept was damaged: it was downloaded again.", file.name));
                missing.push((file, key));
            }
            None => missing.push((file, key)),
        }
    }

    let expected = missing.iter().map(|(f, _)| f.transfer_bytes()).sum();
    let mut received = 0;
    for (file, key) in missing {
        let url = model_url(site, &file.transfer_name())?;
        let report = |r| progress(Progress { received: received + r, expected, ready: false, notes: notes.clone() });
        let bytes = fetch_bytes(&url, false, report).await?;
        received += bytes.len() as u64;
        let content = file.content(bytes)?;
        if let Some(kept) = &kept
            && let Err(e) = kept.put(key, &content).await
        {
            notes.push(format!("This browser could not keep a copy of the model ({e}), so the next visit downloads it again."));
        }
        contents.push((file.name.clone(), content));
    }
    if let Some(kept) = &kept {
        kept.forget_others(&model_url(site, "")?, &keys).await;
    }
    notes.dedup();
    progress(Progress { received, expected, ready: true, notes });
    assets_from_files(contents)
}
