//! The GradLens page. For now: fetch the default model from the site's `model/` folder once, then
//! classify the visitor's text on the CPU backend inside this tab. Nothing is sent anywhere.

use std::rc::Rc;

use burn::prelude::*;
use burn::tensor::activation::softmax;
use gradlens_model::{Classifier, ModelAssets, assets};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

const EXAMPLE: &str = "A gorgeous, witty, seductive movie.";

fn js_error(value: JsValue) -> String {
    value.as_string().or_else(|| js_sys::JSON::stringify(&value).ok().map(String::from)).unwrap_or_default()
}

/// Fetches one file of the same origin.
async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str(url)).await.map_err(js_error)?.dyn_into().map_err(js_error)?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(js_error)?).await.map_err(js_error)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

async fn load_default_model() -> Result<Classifier, String> {
    let assets = ModelAssets {
        config: fetch_bytes(&format!("model/{}", assets::CONFIG_FILE)).await?,
        tokenizer: fetch_bytes(&format!("model/{}", assets::TOKENIZER_FILE)).await?,
        word_embeddings: fetch_bytes(&format!("model/{}", assets::WORD_EMBEDDINGS_FILE)).await?,
        weights: fetch_bytes(&format!("model/{}", assets::WEIGHTS_FILE)).await?,
    };
    Classifier::load(&assets, &Device::flex()).map_err(|e| e.to_string())
}

/// Class names with their probabilities, and whether the text was cut to the model's maximum length.
struct Prediction {
    classes: Vec<(String, f32)>,
    truncated: bool,
}

fn predict(model: &Classifier, text: &str) -> Result<Prediction, String> {
    let encoded = model.encode(text).map_err(|e| e.to_string())?;
    let logits = model.forward_batch(&model.batch(&[&encoded.ids])).logits;
    let probabilities = softmax(logits, 1).into_data().try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?;
    Ok(Prediction {
        classes: model.config().labels.iter().cloned().zip(probabilities).collect(),
        truncated: encoded.truncated,
    })
}

#[component]
fn App() -> impl IntoView {
    let model = RwSignal::new_local(None::<Rc<Classifier>>);
    let status = RwSignal::new("Loading the model…".to_string());
    let text = RwSignal::new(EXAMPLE.to_string());
    let prediction = RwSignal::new_local(None::<Result<Prediction, String>>);

    spawn_local(async move {
        match load_default_model().await {
            Ok(loaded) => {
                model.set(Some(Rc::new(loaded)));
                status.set("Model loaded. It runs on the CPU inside this tab: your text never leaves it.".into());
            }
            Err(e) => status.set(format!("Could not load the model: {e}")),
        }
    });

    let classify = move |_| {
        if let Some(m) = model.get() {
            prediction.set(Some(predict(&m, &text.get())));
        }
    };

    view! {
        <main>
            <h1>"GradLens"</h1>
            <p class="lede">"Explain a text classifier's prediction, entirely in your browser."</p>
            <label for="text">"Text to classify"</label>
            <textarea id="text" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            <button id="classify" on:click=classify disabled=move || model.with(Option::is_none)>"Classify"</button>
            <p class="status" role="status">{move || status.get()}</p>
            {move || prediction.with(|p| match p {
                None => ().into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.clone()}</p> }.into_any(),
                Some(Ok(p)) => view! {
                    <section class="prediction" aria-label="prediction">
                        {p.truncated.then(|| view! { <p class="status">"The text was longer than the model reads; only its beginning was used."</p> })}
                        {p.classes.iter().map(|(label, prob)| view! {
                            <div class="bar" data-label=label.clone()>
                                <span>{label.clone()}</span>
                                <meter min="0" max="1" value=*prob></meter>
                                <span>{format!("{:.1}%", prob * 100.0)}</span>
                            </div>
                        }).collect_view()}
                    </section>
                }.into_any(),
            })}
        </main>
    }
}

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
