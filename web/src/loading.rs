//! Fetching the model's files from the site's own `model/` folder, once, with progress.

use gradlens_model::{ModelAssets, assets};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

pub fn js_error(value: JsValue) -> String {
    value.as_string().or_else(|| js_sys::JSON::stringify(&value).ok().map(String::from)).unwrap_or_default()
}

/// Fetches one same-origin file, reporting `(bytes so far, expected bytes)` as it streams in.
async fn fetch_bytes(url: &str, mut progress: impl FnMut(u64, Option<u64>)) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str(url)).await.map_err(js_error)?.dyn_into().map_err(js_error)?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let expected = response.headers().get("content-length").ok().flatten().and_then(|v| v.parse().ok());
    let Some(body) = response.body() else { return Ok(Vec::new()) };
    let reader: web_sys::ReadableStreamDefaultReader =
        body.get_reader().dyn_into().map_err(|_| format!("{url}: the response body is not a readable stream"))?;
    let mut bytes = Vec::with_capacity(expected.unwrap_or(0) as usize);
    loop {
        let chunk: web_sys::ReadableStreamReadResult = JsFuture::from(reader.read()).await.map_err(js_error)?.into();
        if chunk.get_done().unwrap_or(true) {
            break;
        }
        bytes.extend(js_sys::Uint8Array::new(&chunk.get_value()).to_vec());
        progress(bytes.len() as u64, expected);
    }
    Ok(bytes)
}

/// How far the download is: the file being fetched, its bytes so far and expected, and the bytes of the
/// files already done.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    pub file: &'static str,
    pub received: u64,
    pub expected: Option<u64>,
    pub done: u64,
}

/// The four files of the model in `{site}model/`, and the optional surrogate; `site` is the GradLens
/// site's folder ("" for the page's own, or an embedding page's `src`).
pub async fn fetch_model(site: &str, progress: impl Fn(Progress)) -> Result<ModelAssets, String> {
    let mut files = Vec::new();
    let mut done = 0;
    for file in [assets::CONFIG_FILE, assets::TOKENIZER_FILE, assets::WORD_EMBEDDINGS_FILE, assets::WEIGHTS_FILE] {
        let url = format!("{site}model/{file}");
        let bytes = fetch_bytes(&url, |received, expected| progress(Progress { file, received, expected, done })).await?;
        done += bytes.len() as u64;
        files.push(bytes);
    }
    let [config, tokenizer, word_embeddings, weights]: [Vec<u8>; 4] = files.try_into().expect("four files");
    // Optional: a site without it simply shows no surrogate.
    let surrogate = fetch_bytes(&format!("{site}model/{}", assets::SURROGATE_FILE), |_, _| {}).await.ok();
    Ok(ModelAssets { config, tokenizer, word_embeddings, weights, surrogate })
}
