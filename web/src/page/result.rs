//! The last request's result: the prediction's bars and the explanation, or what went wrong.

use std::rc::Rc;

use gradlens_attribution::Explanation;
use leptos::prelude::*;

/// `fresh`: whether the report comes from the request that runs or ran last. A report that is not, or
/// whose text is no longer the one in the box, is dimmed and says which text it belongs to.
#[component]
pub fn LastResult(
    result: RwSignal<Option<std::result::Result<Rc<Explanation>, String>>, LocalStorage>,
    fresh: RwSignal<bool>,
    text: RwSignal<String>,
    max_len: Signal<usize>,
    explain_class: Callback<String>,
) -> impl IntoView {
    let stale = move || result.with(|r| matches!(r, Some(Ok(e)) if !fresh.get() || text.with(|t| *t != e.text)));
    let report = move || {
        result.with(|r| match r {
            None => ().into_any(),
            Some(Err(e)) => view! { <p class="error" role="alert">{e.clone()}</p> }.into_any(),
            Some(Ok(e)) => view! { <Prediction explanation=e.clone() max_len explain_class />{crate::view::explanation_view(e)} }.into_any(),
        })
    };
    let note = move || {
        stale().then(|| {
            let of = result.with(|r| r.as_ref().and_then(|r| r.as_ref().ok()).map(|e| e.text.clone())).unwrap_or_default();
            view! { <p class="stale-note" role="note">"Out of date: this report belongs to an earlier or cancelled request, for “"<span dir="auto">{of}</span>"”."</p> }
        })
    };
    view! { <div class="report" class:stale=stale>{note}{report}</div> }
}

/// Each class's probability as a bar, a note when the text was cut, and which class the colours explain,
/// with a button for each other class.
#[component]
fn Prediction(explanation: Rc<Explanation>, max_len: Signal<usize>, explain_class: Callback<String>) -> impl IntoView {
    let e = explanation;
    let explained = crate::view::explained_class(&e);
    let whose = if explained == e.predicted { "the prediction" } else { "not the prediction" };
    let others = crate::view::class_switches(&e, "switch-class", move |label| explain_class.run(label));
    view! {
        <section class="prediction" aria-label="prediction">
            {e.truncated.then(|| view! { <p class="note">{move || format!("The text was longer than the model reads ({} tokens): only its beginning was used.", max_len.get())}</p> })}
            {e.unknown_warning().map(|w| view! { <p class="note warning" role="note">{w}</p> })}
            {e.model.labels.iter().zip(&e.probabilities).map(|(label, prob)| view! {
                <div class="bar" data-label=label.clone()>
                    <span>{label.clone()}</span>
                    <meter min="0" max="1" value=*prob></meter>
                    <span>{format!("{:.1}%", prob * 100.0)}</span>
                </div>
            }).collect_view()}
            <p class="explained">
                {format!("The colours explain {} ({whose}). ", e.model.labels[explained])}
                {others}
            </p>
        </section>
    }
}
