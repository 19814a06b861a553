//! Exports of an explanation, made in the tab and saved through a Blob URL: nothing goes over the network.
//! The HTML and SVG come from gradlens-render, the same code as the CLI's `--format html-fragment|svg`.

use wasm_bindgen::{JsCast, JsValue};

use crate::loading::js_error;

/// The file name for `what` (a method or "all") in `extension`.
pub fn file_name(what: &str, extension: &str) -> String {
    format!("gradlens-{what}.{extension}")
}

/// Offers `contents` as a download named `file_name`.
pub fn download(file_name: &str, mime: &str, contents: &str) -> Result<(), String> {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let parts = js_sys::Array::of1(&JsValue::from_str(contents));
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(js_error)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(js_error)?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let link: web_sys::HtmlAnchorElement = document.create_element("a").map_err(js_error)?.dyn_into().map_err(|_| "no anchor element")?;
    link.set_href(&url);
    link.set_download(file_name);
    link.click();
    web_sys::Url::revoke_object_url(&url).map_err(js_error)
}
