//! Snippets that embed the current text and methods: an `<iframe>` (works from any host) and the custom
//! element (same origin, or a host that allows it; several on a page share one model download).

use leptos::prelude::*;

use crate::widget::WidgetOptions;

#[component]
pub fn EmbedPanel(text: RwSignal<String>, picked: RwSignal<Vec<String>>) -> impl IntoView {
    let copied = RwSignal::new(false);
    let snippets = move || {
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
    view! {
        <details class="embed">
            <summary>"Embed this explanation in a post or a static site"</summary>
            {snippets}
        </details>
    }
}
