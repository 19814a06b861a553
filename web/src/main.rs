//! The GradLens page: fetches the default model from the site's own `model/` folder once, then explains
//! the visitor's text with the chosen methods inside this tab, on WebGPU or the CPU. Nothing is sent
//! anywhere.

mod backend;
mod export;
mod loading;
mod offline;
mod runner;
mod store;
mod view;
mod widget;

use std::rc::Rc;

use gradlens_attribution::{Explanation, Method, Stage};
use gradlens_model::Classifier;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::backend::{Backend, WebGpuSupport};
use crate::loading::Progress;
use crate::runner::{Failure, PICKED, Runner, page_metrics, request};
use crate::widget::{Widget, WidgetOptions};

/// The page's own folder: the model is fetched from `model/` beside it.
const SITE: &str = "";

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

#[component]
fn App() -> impl IntoView {
    let model = RwSignal::new_local(None::<Rc<Classifier>>);
    let progress = RwSignal::new(Progress::default());
    let load_error = RwSignal::new(None::<String>);
    let webgpu = RwSignal::new(None::<WebGpuSupport>);
    let backend = RwSignal::new(None::<Backend>);
    let backend_note = RwSignal::new(String::new());
    // The text and methods in the address (`?text=...&methods=...`, kept across a switch to the WebGPU
    // build), else the model's first example once it has loaded (config.json), unless the visitor typed first.
    let text = RwSignal::new(backend::url_parameter("text").unwrap_or_default());
    let picked = RwSignal::new(match backend::url_parameter("methods") {
        Some(_) => WidgetOptions::from(backend::url_parameter).methods,
        None => PICKED.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
    });
    let runner = Runner::new();
    let surrogate = RwSignal::new_local(None::<Rc<gradlens_surrogate::Report>>);
    let step = RwSignal::new(None::<Stage>);
    let report = RwSignal::new_local(None::<Result<Rc<Explanation>, String>>);
    // Changes only when work starts or ends, so that what depends on it is not redrawn at every step.
    let busy = Memo::new(move |_| step.with(Option::is_some));
    // Requests that ran to the end (a report or an error), for tests and assistive technology.
    let finished = RwSignal::new(0u64);
    let copied = RwSignal::new(false);

    let cancel = move || {
        runner.cancel();
        step.set(None);
    };

    // (Re)loads the model on `chosen`: one download per page, one model per backend (kept in `store`).
    let use_backend = move |chosen: Backend, note: String| {
        cancel();
        model.set(None);
        backend.set(Some(chosen));
        backend_note.set(note);
        spawn_local(async move {
            match store::classifier(SITE, chosen, move |p| progress.set(p)).await {
                Ok(loaded) if backend.get_untracked() == Some(chosen) => {
                    // The optional surrogate came with the model's files (the download is shared).
                    if let Ok(files) = store::assets(SITE, |_| {}).await {
                        surrogate.set(files.surrogate.as_deref().and_then(|b| serde_json::from_slice(b).ok()).map(Rc::new));
                    }
                    if let Some(first) = loaded.config().examples.first().filter(|_| text.with_untracked(String::is_empty)) {
                        text.set(first.clone());
                    }
                    model.set(Some(loaded));
                }
                Ok(_) => {}
                Err(e) => load_error.set(Some(e)),
            }
        });
    };

    let load = move || {
        load_error.set(None);
        spawn_local(async move {
            let asked = backend::url_parameter("backend").and_then(|b| Backend::from_key(&b));
            let (chosen, why, support) = backend::choose(asked).await;
            webgpu.set(Some(support));
            use_backend(chosen, why);
        });
    };
    load();

    let run = move || {
        let Some(m) = model.get_untracked() else { return };
        let request = match request(&m, text.get_untracked(), &picked.get_untracked(), None, page_metrics()) {
            Ok(request) => request,
            Err(e) => {
                report.set(Some(Err(e.message().to_owned())));
                finished.update(|n| *n += 1);
                return;
            }
        };
        step.set(Some(Stage { done: 0, total: 1, method: None, metrics: false }));
        spawn_local(async move {
            let Some(result) = runner.explain(&m, &request, move |s| step.set(Some(s)), |_| {}).await else { return };
            step.set(None);
            finished.update(|n| *n += 1);
            match result {
                Ok(e) => report.set(Some(Ok(Rc::new(e)))),
                Err(Failure::Input(e)) => report.set(Some(Err(e))),
                Err(Failure::Device(e)) if backend.get_untracked() == Some(Backend::WebGpu) => {
                    use_backend(Backend::Cpu, format!("the WebGPU device failed ({e}); switched to the CPU"));
                    report.set(Some(Err("WebGPU failed while explaining; the page switched to the CPU backend. Click Explain again.".into())));
                }
                Err(Failure::Device(e)) => report.set(Some(Err(e))),
            }
        });
    };

    let status = move || {
        if let Some(e) = load_error.get() {
            return e;
        }
        if model.with(Option::is_none) {
            let p = progress.get();
            return match p {
                Progress { ready: true, .. } => "Preparing the model…".into(),
                Progress { expected: 0, .. } => "Loading the model…".into(),
                Progress { received, expected, .. } => format!("Loading the model: {} of {}…", megabytes(received), megabytes(expected)),
            };
        }
        if let Some(s) = step.get() {
            return format!("Explaining: {s} ({} of {} steps)…", s.done, s.total);
        }
        let notes = progress.with(|p| p.notes.join(" "));
        format!("Model loaded. It runs inside this tab: your text never leaves it. {notes}").trim_end().to_owned()
    };

    // Snippets for the current text and methods: an <iframe> (works from any host) and the custom element
    // (same origin, or a host that allows it; several on a page share one model download).
    let embed_code = move || {
        let location = web_sys::window().expect("a window").location();
        let page = format!("{}{}", location.origin().unwrap_or_default(), location.pathname().unwrap_or_default());
        let site = page[..page.rfind('/').map_or(page.len(), |i| i + 1)].to_string();
        let options = WidgetOptions::from(|name| match name {
            "text" => Some(text.get()),
            "methods" => Some(picked.get().join(",")),
            "editable" => Some("true".into()),
            "curve" => Some("true".into()),
            _ => None,
        });
        let iframe = options.iframe(&site);
        let element = options.element(&site);
        let copy = {
            let iframe = iframe.clone();
            move |_| {
                let clipboard = web_sys::window().expect("a window").navigator().clipboard();
                let _ = clipboard.write_text(&iframe);
                copied.set(true);
            }
        };
        view! {
            <p><button type="button" id="copy-embed" on:click=copy>"Copy embed code"</button>
               {move || copied.get().then_some(" Copied the iframe snippet.")}</p>
            <label for="embed-iframe">"An iframe, for any blog or host:"</label>
            <textarea id="embed-iframe" readonly rows="3">{iframe}</textarea>
            <label for="embed-element">"Or the widget element on your own pages (one script, any number of widgets):"</label>
            <textarea id="embed-element" readonly rows="4">{element}</textarea>
        }
    };

    let backend_picker = move || {
        let support = webgpu.get()?;
        let current = backend.get()?;
        let webgpu_usable = !matches!(support, WebGpuSupport::Missing(_));
        let change = move |ev: leptos::ev::Event| {
            match Backend::from_key(&event_target_value(&ev)) {
                // This build has no WebGPU runtime: open the page in the one that has, with the text.
                Some(Backend::WebGpu) if !backend::HAS_WEBGPU => {
                    let methods = picked.get_untracked().join(",");
                    if let Err(e) = backend::reload_with(Backend::WebGpu, &[("text", &text.get_untracked()), ("methods", &methods)]) {
                        backend_note.set(format!("WebGPU could not be loaded: {e}"));
                    }
                }
                Some(chosen) => use_backend(chosen, "chosen by you".into()),
                None => {}
            }
        };
        Some(view! {
            <p class="backend">
                <label for="backend">"Runs on "</label>
                <select id="backend" on:change=change>
                    <option value="webgpu" selected=current == Backend::WebGpu disabled=!webgpu_usable>{Backend::WebGpu.label()}</option>
                    <option value="cpu" selected=current == Backend::Cpu>{Backend::Cpu.label()}</option>
                </select>
                <span class="backend-note" data-backend=current.key()>{move || backend_note.get()}</span>
            </p>
        })
    };

    let method_picker = Method::all_defaults()
        .iter()
        .map(|m| {
            let name = m.name();
            let checked = move || picked.with(|p| p.iter().any(|m| m == name));
            let toggle = move |_| {
                picked.update(|p| {
                    if let Some(i) = p.iter().position(|m| m == name) {
                        p.remove(i);
                    } else {
                        p.push(name.to_string());
                    }
                })
            };
            view! {
                <label class="method-choice">
                    <input type="checkbox" value=name prop:checked=checked on:change=toggle />
                    {name.replace('_', " ")}
                </label>
            }
        })
        .collect_view();

    let about = move || model.with(|m| m.as_ref().map(|m| m.config().description.clone())).filter(|d| !d.is_empty());
    let examples = move || {
        let examples = model.with(|m| m.as_ref().map(|m| m.config().examples.clone()).unwrap_or_default());
        examples
            .into_iter()
            .map(|e| {
                let chosen = e.clone();
                view! { <button type="button" class="example" on:click=move |_| text.set(chosen.clone())>{e}</button> }
            })
            .collect_view()
    };
    let max_len = move || model.with(|m| m.as_ref().map_or(0, |m| m.config().max_len));

    view! {
        <main aria-busy=move || busy.get().to_string() data-finished=move || finished.get().to_string()>
            <header>
                <h1>"GradLens"</h1>
                <p class="lede">"Why did the classifier decide that? Type a text and see which words drove the prediction, computed in your browser."</p>
                {move || about().map(|d| view! { <p class="about">{d}</p> })}
            </header>
            <form on:submit=move |ev| { ev.prevent_default(); run(); }>
                <label for="text">"Text to explain"</label>
                <textarea id="text" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                <div class="examples" aria-label="examples">{examples}</div>
                <fieldset class="methods"><legend>"Methods"</legend>{method_picker}</fieldset>
                <div class="actions">
                    <button id="explain" type="submit" disabled=move || model.with(Option::is_none)>"Explain"</button>
                    {move || busy.get().then(|| view! { <button type="button" id="cancel" on:click=move |_| cancel()>"Cancel"</button> })}
                </div>
            </form>
            {backend_picker}
            <details class="embed">
                <summary>"Embed this explanation in a post or a static site"</summary>
                {embed_code}
            </details>
            <p class="status" role="status">{status}</p>
            {move || step.get().map(|s| view! { <progress class="work" max=s.total as f64 value=s.done as f64></progress> })}
            {move || load_error.get().map(|_| view! { <button type="button" id="retry" on:click=move |_| load()>"Retry the download"</button> })}
            {move || model.with(Option::is_none).then(|| {
                let p = progress.get();
                view! { <progress max=p.expected as f64 value=p.received as f64></progress> }
            })}
            {move || report.with(|r| match r {
                None => ().into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.clone()}</p> }.into_any(),
                Some(Ok(r)) => {
                    let e = r;
                    view! {
                        <section class="prediction" aria-label="prediction">
                            {e.truncated.then(|| view! { <p class="note">{format!("The text was longer than the model reads ({} tokens): only its beginning was used.", max_len())}</p> })}
                            {e.model.labels.iter().zip(&e.probabilities).map(|(label, prob)| view! {
                                <div class="bar" data-label=label.clone()>
                                    <span>{label.clone()}</span>
                                    <meter min="0" max="1" value=*prob></meter>
                                    <span>{format!("{:.1}%", prob * 100.0)}</span>
                                </div>
                            }).collect_view()}
                        </section>
                        {view::explanation_view(r)}
                    }.into_any()
                }
            })}
            {move || surrogate.get().map(|r| view::surrogate_panel(&r))}
        </main>
    }
}

fn main() {
    console_error_panic_hook::set_once();
    let document = web_sys::window().and_then(|w| w.document()).expect("a document");
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
        offline::register_service_worker();
        let options = WidgetOptions::from(backend::url_parameter);
        leptos::mount::mount_to_body(move || view! { <Widget options /> });
    } else {
        offline::register_service_worker();
        leptos::mount::mount_to_body(App);
    }
}
