//! What the page is doing: loading the model (with its progress and a retry), explaining (stage by
//! stage), or ready, and the notes the loader left (a damaged cached copy, say).

use std::rc::Rc;

use gradlens_attribution::Stage;
use leptos::prelude::*;

use crate::engine::Engine;
use crate::loading::Progress;

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

#[component]
pub fn Status(
    model: RwSignal<Option<Rc<Engine>>, LocalStorage>,
    progress: RwSignal<Progress>,
    load_error: RwSignal<Option<String>>,
    online_only: RwSignal<Option<String>>,
    step: RwSignal<Option<Stage>>,
    retry: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let line = move || {
        if let Some(e) = load_error.get() {
            return e;
        }
        if model.with(Option::is_none) {
            return match progress.get() {
                Progress { ready: true, .. } => "Preparing the model…".into(),
                Progress { expected: 0, .. } => "Loading the model…".into(),
                Progress { received, expected, .. } => format!("Loading the model: {} of {}…", megabytes(received), megabytes(expected)),
            };
        }
        if let Some(s) = step.get() {
            return format!("Explaining: {s} ({} of {} steps)…", s.done, s.total);
        }
        let notes = progress.with(|p| p.notes.iter().chain(online_only.get().iter()).cloned().collect::<Vec<_>>().join(" "));
        let workers = match model.with(|m| m.as_ref().map_or(1, |m| m.workers())) {
            1 => "one worker".to_owned(),
            n => format!("{n} workers that share each explanation"),
        };
        format!(
            "Model loaded ({workers}). It runs inside this tab: your text never leaves it (the page's security policy lets it connect to its own site only). {notes}"
        )
        .trim_end()
        .to_owned()
    };
    view! {
        <p class="status" role="status">{line}</p>
        {move || step.get().map(|s| view! { <progress class="work" max=s.total as f64 value=s.done as f64></progress> })}
        {move || load_error.get().map(|_| view! { <button type="button" id="retry" on:click=move |_| retry()>"Retry the download"</button> })}
        {move || model.with(Option::is_none).then(|| {
            let p = progress.get();
            view! { <progress max=p.expected as f64 value=p.received as f64></progress> }
        })}
    }
}
