//! The last request's result: the prediction's bars and the explanation, or what went wrong.

use std::rc::Rc;

use gradlens_attribution::Explanation;
use leptos::prelude::*;

#[component]
pub fn LastResult(result: RwSignal<Option<std::result::Result<Rc<Explanation>, String>>, LocalStorage>, max_len: Signal<usize>) -> impl IntoView {
    move || {
        result.with(|r| match r {
            None => ().into_any(),
            Some(Err(e)) => view! { <p class="error" role="alert">{e.clone()}</p> }.into_any(),
            Some(Ok(e)) => view! { <Prediction explanation=e.clone() max_len />{crate::view::explanation_view(e)} }.into_any(),
        })
    }
}

/// Each class's probability as a bar, and a note when the text was cut.
#[component]
fn Prediction(explanation: Rc<Explanation>, max_len: Signal<usize>) -> impl IntoView {
    let e = explanation;
    view! {
        <section class="prediction" aria-label="prediction">
            {e.truncated.then(|| view! { <p class="note">{move || format!("The text was longer than the model reads ({} tokens): only its beginning was used.", max_len.get())}</p> })}
            {e.model.labels.iter().zip(&e.probabilities).map(|(label, prob)| view! {
                <div class="bar" data-label=label.clone()>
                    <span>{label.clone()}</span>
                    <meter min="0" max="1" value=*prob></meter>
                    <span>{format!("{:.1}%", prob * 100.0)}</span>
                </div>
            }).collect_view()}
        </section>
    }
}
