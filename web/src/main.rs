//! The GradLens page: fetches the default model from the site's own `model/` folder once, then explains
//! the visitor's text with the chosen methods inside this tab, on WebGPU or the CPU. Nothing is sent
//! anywhere.

mod backend;
mod calibration;
mod engine;
mod export;
mod loading;
mod offline;
mod page;
mod runner;
mod store;
mod view;
mod widget;
mod worker;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::page::App;
use crate::widget::{Widget, WidgetOptions};

fn main() {
    console_error_panic_hook::set_once();
    // The same build runs the model in a worker: there it only answers the page.
    if worker::in_worker() {
        worker::serve();
        return;
    }
    let document = web_sys::window().and_then(|w| w.document()).expect("a document");
    // index.html's loading line: the page says what it loads from here on.
    if let Some(boot) = document.get_element_by_id("gradlens-boot") {
        boot.remove();
    }
    let elements = document.query_selector_all("gradlens-explain").expect("a valid selector");
    if elements.length() > 0 {
        // A page that embeds widgets: one per element; they share one model download.
        for i in 0..elements.length() {
            let Some(element) = elements.item(i).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) else { continue };
            let options = WidgetOptions::from(|name| element.get_attribute(name));
            // The widget lives as long as the page.
            std::mem::forget(leptos::mount::mount_to(element, move || view! { <Widget options /> }));
        }
    } else if backend::url_parameter("embed").is_some() {
        // The page inside an <iframe>.
        offline::register_service_worker(|why| web_sys::console::warn_1(&why.into()));
        let options = WidgetOptions::from(backend::url_parameter);
        leptos::mount::mount_to_body(move || view! { <Widget options /> });
    } else {
        leptos::mount::mount_to_body(App);
    }
}
