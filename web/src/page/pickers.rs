//! What the visitor chooses besides the text: the methods, and the backend the model runs on.

use gradlens_attribution::Method;
use leptos::prelude::*;

use crate::backend::{self, Backend, WebGpuSupport};

/// One checkbox per method of the registry, in its order.
#[component]
pub fn MethodPicker(picked: RwSignal<Vec<String>>) -> impl IntoView {
    let choices = Method::all_defaults()
        .iter()
        .map(|m| {
            let name = m.name();
            let checked = move || picked.with(|p| p.iter().any(|m| m == name));
            let toggle = move |_| {
                picked.update(|p| match p.iter().position(|m| m == name) {
                    Some(i) => {
                        p.remove(i);
                    }
                    None => p.push(name.to_string()),
                })
            };
            view! {
                <label class="method-choice">
                    <input type="checkbox" value=name prop:checked=checked on:change=toggle />
                    {m.display_name()}
                </label>
            }
        })
        .collect_view();
    view! { <fieldset class="methods"><legend>"Methods"</legend>{choices}</fieldset> }
}

/// WebGPU or the CPU, with why the page chose what it runs on. WebGPU from the CPU build reopens the
/// page in the WebGPU build, keeping the text and methods.
#[component]
pub fn BackendPicker(
    webgpu: RwSignal<Option<WebGpuSupport>>,
    backend: RwSignal<Option<Backend>>,
    backend_note: RwSignal<String>,
    text: RwSignal<String>,
    picked: RwSignal<Vec<String>>,
    choose: impl Fn(Backend) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    move || {
        let support = webgpu.get()?;
        let current = backend.get()?;
        let webgpu_usable = !matches!(support, WebGpuSupport::Missing(_));
        let change = move |ev: leptos::ev::Event| match Backend::from_key(&event_target_value(&ev)) {
            Some(Backend::WebGpu) if !backend::HAS_WEBGPU => {
                let methods = picked.get_untracked().join(",");
                if let Err(e) = backend::reload_with(Backend::WebGpu, &[("text", &text.get_untracked()), ("methods", &methods)]) {
                    backend_note.set(format!("WebGPU could not be loaded: {e}"));
                }
            }
            Some(chosen) => choose(chosen),
            None => {}
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
    }
}
