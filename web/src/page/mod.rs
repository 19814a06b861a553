//! The full page: the state of one visit (model, backend, text, methods, the running request, its
//! result) and the components that show it.

mod embed;
mod pickers;
mod result;
mod status;

use std::rc::Rc;

use gradlens_attribution::{Explanation, Stage};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::backend::{self, Backend, WebGpuSupport};
use crate::calibration::Calibration;
use crate::engine::Engine;
use crate::loading::Progress;
use crate::runner::{Failure, PICKED, Runner, page_metrics, request};
use crate::store;
use crate::widget::WidgetOptions;

/// The page's own folder: the model is fetched from `model/` beside it.
const SITE: &str = "";

#[component]
pub fn App() -> impl IntoView {
    let model = RwSignal::new_local(None::<Rc<Engine>>);
    let progress = RwSignal::new(Progress::default());
    let load_error = RwSignal::new(None::<String>);
    // Why the page will not work offline, if its service worker did not install.
    let online_only = RwSignal::new(None::<String>);
    crate::offline::register_service_worker(move |why| online_only.set(Some(why)));
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
    let result = RwSignal::new_local(None::<Result<Rc<Explanation>, String>>);
    // Whether the report on screen comes from the request that runs or ran last (false while a new
    // request has shown nothing yet, and after Cancel): a stale report stays, dimmed and labelled.
    let fresh = RwSignal::new(true);
    // Changes only when work starts or ends, so that what depends on it is not redrawn at every step.
    let busy = Memo::new(move |_| step.with(Option::is_some));
    // Requests that ran to the end (a result or an error), for tests and assistive technology.
    let finished = RwSignal::new(0u64);

    // A stopped request reports nothing more: what it had shown so far stays, marked as unfinished.
    let cancel = move || {
        if step.get_untracked().is_some() {
            fresh.set(false);
        }
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
            match store::engine(SITE, chosen, move |p| progress.set(p)).await {
                Ok(loaded) if backend.get_untracked() == Some(chosen) => {
                    // The optional surrogate came with the model's files (the download is shared).
                    if let Ok(files) = store::assets(SITE, |_| {}).await {
                        surrogate.set(files.surrogate.as_deref().and_then(|b| serde_json::from_slice(b).ok()).map(Rc::new));
                    }
                    if let Some(first) = loaded.config.examples.first().filter(|_| text.with_untracked(String::is_empty)) {
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
            let choice = backend::choose(asked).await;
            webgpu.set(Some(choice.support));
            match choice.to_measure {
                // Once per adapter: both backends load, the faster stays.
                Some(adapter) if backend::HAS_WEBGPU => {
                    backend_note.set(format!("measuring whether WebGPU ({adapter}) or the CPU is faster here…"));
                    match Calibration::measure(SITE, &adapter, move |p| progress.set(p)).await {
                        Ok(measured) => use_backend(measured.faster(), measured.describe(false)),
                        Err(e) => use_backend(Backend::Cpu, format!("WebGPU could not be measured ({e})")),
                    }
                }
                _ => use_backend(choice.backend, choice.why),
            }
        });
    };
    load();

    // Explains the text for `target` (a class label), or for the predicted class.
    let run_for = move |target: Option<String>| {
        let Some(m) = model.get_untracked() else { return };
        let request = match request(&m.config, text.get_untracked(), &picked.get_untracked(), target.as_deref(), page_metrics()) {
            Ok(request) => request,
            Err(e) => {
                result.set(Some(Err(e.message().to_owned())));
                finished.update(|n| *n += 1);
                return;
            }
        };
        step.set(Some(Stage { done: 0, total: 1, method: None, metrics: false }));
        // The last report stays, marked, until the first highlight of this one; each method's highlights
        // show as soon as it is done, the metrics when they are.
        fresh.set(false);
        if result.with_untracked(|r| matches!(r, Some(Err(_)))) {
            result.set(None);
        }
        let partial = move |so_far: Explanation| {
            result.set(Some(Ok(Rc::new(so_far))));
            fresh.set(true);
        };
        spawn_local(async move {
            let Some(outcome) = runner.explain(&m, &request, move |s| step.set(Some(s)), partial).await else { return };
            step.set(None);
            finished.update(|n| *n += 1);
            fresh.set(true);
            match outcome {
                Ok(e) => result.set(Some(Ok(Rc::new(e)))),
                Err(Failure::Input(e)) => result.set(Some(Err(e))),
                Err(Failure::Device(e)) if backend.get_untracked() == Some(Backend::WebGpu) => {
                    use_backend(Backend::Cpu, format!("the WebGPU device failed ({e}); switched to the CPU"));
                    result.set(Some(Err("WebGPU failed while explaining; the page switched to the CPU backend. Click Explain again.".into())));
                }
                Err(Failure::Device(e)) => result.set(Some(Err(e))),
                Err(Failure::Stopped(e)) => {
                    // The store starts new workers; the downloaded files are kept, so nothing is fetched.
                    if let Some(current) = backend.get_untracked() {
                        use_backend(current, format!("{e}; started again"));
                    }
                    result.set(Some(Err(format!("{e}. The page started it again: click Explain again."))));
                }
            }
        });
    };

    let run = move || run_for(None);
    let explain_class = Callback::new(move |label: String| run_for(Some(label)));

    let about = move || model.with(|m| m.as_ref().map(|m| m.config.description.clone())).filter(|d| !d.is_empty());
    let examples = move || {
        let examples = model.with(|m| m.as_ref().map(|m| m.config.examples.clone()).unwrap_or_default());
        examples
            .into_iter()
            .map(|e| {
                let chosen = e.clone();
                view! { <button type="button" class="example" on:click=move |_| text.set(chosen.clone())>{e}</button> }
            })
            .collect_view()
    };
    let max_len = Signal::derive(move || model.with(|m| m.as_ref().map_or(0, |m| m.config.max_len)));
    let choose_backend = move |chosen: Backend| use_backend(chosen, "chosen by you".into());

    view! {
        <main aria-busy=move || busy.get().to_string() data-finished=move || finished.get().to_string()>
            <header>
                <h1>"GradLens"</h1>
                <p class="lede">"Why did the classifier decide that? Type a text and see which words drove the prediction, computed in your browser."</p>
                {move || about().map(|d| view! { <p class="about">{d}</p> })}
            </header>
            <form on:submit=move |ev| { ev.prevent_default(); run(); }>
                <label for="text">"Text to explain"</label>
                <textarea id="text" dir="auto" aria-describedby="text-keys" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))
                    on:keydown=move |ev| if crate::view::explain_keys(&ev) { ev.prevent_default(); run(); }></textarea>
                <p id="text-keys" class="keys">"Ctrl+Enter explains."</p>
                <div class="examples" aria-label="examples">{examples}</div>
                <pickers::MethodPicker picked />
                <div class="actions">
                    <button id="explain" type="submit" disabled=move || model.with(Option::is_none)>"Explain"</button>
                    {move || busy.get().then(|| view! { <button type="button" id="cancel" on:click=move |_| cancel()>"Cancel"</button> })}
                </div>
            </form>
            <pickers::BackendPicker webgpu backend backend_note text picked choose=choose_backend />
            <embed::EmbedPanel text picked />
            <status::Status model progress load_error online_only step retry=load />
            <result::LastResult result fresh text max_len explain_class />
            {move || surrogate.get().map(|r| crate::view::surrogate_panel(&r))}
        </main>
    }
}
