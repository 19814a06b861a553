//! The GradLens page: fetches the default model from the site's own `model/` folder once, then explains
//! the visitor's text with the chosen methods on the CPU backend inside this tab. Nothing is sent anywhere.

mod loading;
mod report;
mod view;

use std::rc::Rc;

use burn::prelude::*;
use gradlens_model::Classifier;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::loading::{Progress, fetch_model};
use crate::report::{OFFERED, PICKED, Report, explain};

const EXAMPLES: [&str; 4] = [
    "A gorgeous, witty, seductive movie.",
    "The plot is thin and the jokes fall flat.",
    "Not bad at all, though hardly the masterpiece its fans claim.",
    "It is neither funny nor moving, and it goes on far too long for a story this slight.",
];

/// Lets the browser paint (status, disabled button) before a long synchronous computation.
async fn next_paint() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let window = web_sys::window().expect("a window");
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(resolve.unchecked_ref(), 0);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

#[component]
fn App() -> impl IntoView {
    let model = RwSignal::new_local(None::<Rc<Classifier>>);
    let progress = RwSignal::new(Progress::default());
    let load_error = RwSignal::new(None::<String>);
    let text = RwSignal::new(EXAMPLES[0].to_string());
    let picked = RwSignal::new(PICKED.iter().map(|m| m.to_string()).collect::<Vec<_>>());
    let busy = RwSignal::new(false);
    let report = RwSignal::new_local(None::<Result<Rc<Report>, String>>);

    let load = move || {
        load_error.set(None);
        spawn_local(async move {
            match fetch_model(move |p| progress.set(p)).await {
                Ok(assets) => match Classifier::load(&assets, &Device::flex().autodiff()) {
                    Ok(loaded) => model.set(Some(Rc::new(loaded))),
                    Err(e) => load_error.set(Some(format!("The model files are damaged: {e}"))),
                },
                Err(e) => load_error.set(Some(format!("The model could not be downloaded: {e}"))),
            }
        });
    };
    load();

    let run = move || {
        let Some(m) = model.get() else { return };
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            next_paint().await;
            let result = explain(&m, &text.get_untracked(), &picked.get_untracked()).map(Rc::new);
            report.set(Some(result));
            busy.set(false);
        });
    };

    let status = move || {
        if let Some(e) = load_error.get() {
            return e;
        }
        if model.with(Option::is_none) {
            let p = progress.get();
            return match p.expected {
                Some(total) => format!("Loading the model ({}): {} of {}…", p.file, megabytes(p.received), megabytes(total)),
                None => format!("Loading the model: {}…", megabytes(p.done + p.received)),
            };
        }
        if busy.get() {
            return "Explaining…".into();
        }
        "Model loaded. It runs on the CPU (WebAssembly) inside this tab: your text never leaves it.".into()
    };

    let method_picker = OFFERED
        .iter()
        .map(|&name| {
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

    let examples = EXAMPLES
        .iter()
        .map(|&e| view! { <button type="button" class="example" on:click=move |_| text.set(e.to_string())>{e}</button> })
        .collect_view();

    view! {
        <main>
            <header>
                <h1>"GradLens"</h1>
                <p class="lede">"Why did the classifier decide that? Type a review and see which words drove the prediction, computed in your browser."</p>
            </header>
            <form on:submit=move |ev| { ev.prevent_default(); run(); }>
                <label for="text">"Text to explain"</label>
                <textarea id="text" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                <div class="examples" aria-label="examples">{examples}</div>
                <fieldset class="methods"><legend>"Methods"</legend>{method_picker}</fieldset>
                <button id="explain" type="submit" disabled=move || model.with(Option::is_none) || busy.get()>"Explain"</button>
            </form>
            <p class="status" role="status">{status}</p>
            {move || load_error.get().map(|_| view! { <button type="button" id="retry" on:click=move |_| load()>"Retry the download"</button> })}
            {move || model.with(Option::is_none).then(|| {
                let p = progress.get();
                view! { <progress max=p.expected.unwrap_or(0) as f64 value=p.received as f64></progress> }
            })}
            {move || report.with(|r| match r {
                None => ().into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.clone()}</p> }.into_any(),
                Some(Ok(r)) => {
                    let e = &r.explanation;
                    view! {
                        <section class="prediction" aria-label="prediction">
                            {e.truncated.then(|| view! { <p class="note">"The text was longer than the model reads (128 tokens): only its beginning was used."</p> })}
                            {e.model.labels.iter().zip(&e.probabilities).map(|(label, prob)| view! {
                                <div class="bar" data-label=label.clone()>
                                    <span>{label.clone()}</span>
                                    <meter min="0" max="1" value=*prob></meter>
                                    <span>{format!("{:.1}%", prob * 100.0)}</span>
                                </div>
                            }).collect_view()}
                        </section>
                        {view::report_view(r)}
                    }.into_any()
                }
            })}
        </main>
    }
}

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
