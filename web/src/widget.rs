//! The embeddable widget: a text, its prediction, each chosen method's highlights and optionally the
//! deletion curve. Configured by the attributes of a `<gradlens-explain>` element on any page (several
//! widgets share one model download) or by the URL parameters of `?embed` (for an `<iframe>`).

use std::rc::Rc;

use gradlens_attribution::Explanation;
use gradlens_attribution::metrics::Metric;
use gradlens_render::chart::Curve;
use html_escape::encode_double_quoted_attribute;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::backend::{self, Backend};
use crate::runner::{Runner, request};
use crate::store;
use crate::view::{class_switches, highlighted, legend};

/// The widget's settings, from element attributes or URL parameters of the same names.
#[derive(Clone, Debug, PartialEq)]
pub struct WidgetOptions {
    /// The GradLens site's folder (where `model/` is), e.g. `/demo/`; empty for the current folder.
    pub src: String,
    pub text: String,
    /// Method names, comma-separated in the attribute.
    pub methods: Vec<String>,
    /// A class label to explain instead of the prediction.
    pub target: Option<String>,
    pub backend: Option<Backend>,
    /// `light` or `dark`.
    pub theme: String,
    /// Whether the reader may edit the text.
    pub editable: bool,
    /// Whether to draw the deletion curve.
    pub curve: bool,
}

impl WidgetOptions {
    pub fn from(get: impl Fn(&str) -> Option<String>) -> Self {
        let flag = |name: &str| get(name).is_some_and(|v| v != "false" && v != "0");
        let mut src = get("src").unwrap_or_default();
        if !src.is_empty() && !src.ends_with('/') {
            src.push('/');
        }
        // As an absolute address: widgets that spell the same site differently share its download.
        if !src.is_empty()
            && let Some(base) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.base_uri().ok().flatten())
            && let Ok(url) = web_sys::Url::new_with_base(&src, &base)
        {
            src = url.href();
        }
        let methods: Vec<String> = get("methods")
            .unwrap_or_else(|| "integrated_gradients".into())
            .split(',')
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
            .collect();
        Self {
            src,
            text: get("text").unwrap_or_default(),
            methods,
            target: get("target").filter(|t| !t.is_empty()),
            backend: get("backend").and_then(|b| Backend::from_key(&b)),
            theme: if get("theme").as_deref() == Some("dark") { "dark".into() } else { "light".into() },
            editable: flag("editable"),
            curve: flag("curve"),
        }
    }

    /// The `<iframe>` snippet for these options, the site's folder being at `site` (with its `embed.js`,
    /// which sizes the frame to its content).
    pub fn iframe(&self, site: &str) -> String {
        let query = web_sys::UrlSearchParams::new().expect("URLSearchParams exists in every browser");
        query.append("embed", "");
        query.append("text", &self.text);
        query.append("methods", &self.methods.join(","));
        if let Some(target) = &self.target {
            query.append("target", target);
        }
        if self.editable {
            query.append("editable", "true");
        }
        if self.curve {
            query.append("curve", "true");
        }
        let src = format!("{site}?{}", String::from(query.to_string()));
        // The frame's height until it reports its own (embed.js): enough for a few lines per method.
        let height = 240 + 90 * self.methods.len() + if self.curve { 420 } else { 0 };
        format!(
            r#"<iframe src="{}" title="GradLens explanation" width="640" height="{height}" frameborder="0" loading="lazy"></iframe>
<script src="{site}embed.js" async></script>"#,
            encode_double_quoted_attribute(&src)
        )
    }

    /// The custom-element snippet: one script per page, then any number of elements.
    pub fn element(&self, site: &str) -> String {
        let mut attributes = vec![
            format!(r#"src="{site}""#),
            format!(r#"text="{}""#, encode_double_quoted_attribute(&self.text)),
            format!(r#"methods="{}""#, self.methods.join(",")),
        ];
        attributes.extend(self.target.as_ref().map(|t| format!(r#"target="{}""#, encode_double_quoted_attribute(t))));
        attributes.extend(self.editable.then(|| "editable".to_string()));
        attributes.extend(self.curve.then(|| "curve".to_string()));
        format!("<script type=\"module\" src=\"{site}loader.js\"></script>\n<gradlens-explain {}></gradlens-explain>", attributes.join(" "))
    }
}

/// The dark widget's background in widget.css.
const DARK_BACKGROUND: (u8, u8, u8) = (27, 31, 36);

/// Styles of the widget, scoped by its class: an embedding page has none of the site's style sheet.
const STYLE: &str = include_str!("../widget.css");

/// Adds the widget's styles to the document once, as a constructed style sheet: a `<style>` element or a
/// style attribute would be refused by a host whose Content-Security-Policy says `style-src 'self'`.
fn adopt_style() {
    thread_local!(static ADOPTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    if ADOPTED.with(|a| a.replace(true)) {
        return;
    }
    let document = web_sys::window().and_then(|w| w.document()).expect("a document");
    let sheet = web_sys::CssStyleSheet::new().expect("constructed style sheets exist in every browser GradLens runs in");
    if sheet.replace_sync(STYLE).is_err() {
        return;
    }
    let sheets: js_sys::Array = js_sys::Reflect::get(&document, &"adoptedStyleSheets".into()).map(|s| s.unchecked_into()).unwrap_or_default();
    sheets.push(&sheet);
    let _ = js_sys::Reflect::set(&document, &"adoptedStyleSheets".into(), &sheets);
}

/// Inside an `<iframe>`: tells the embedding page the height of the content whenever it changes, so that
/// the snippet's `embed.js` can size the frame to it (no inner scroll bar).
fn report_height(root: &web_sys::Element) {
    let Some(window) = web_sys::window() else { return };
    let Ok(Some(parent)) = window.parent() else { return };
    if parent == window {
        return;
    }
    let on_resize = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
        let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) else { return };
        let message = crate::engine::message("gradlens-height", 0, &[("height", body.scroll_height().into())]);
        let _ = parent.post_message(&message, "*");
    });
    let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) else { return };
    observer.observe(root);
    // Both live as long as the page.
    on_resize.forget();
    std::mem::forget(observer);
}

#[component]
pub fn Widget(options: WidgetOptions) -> impl IntoView {
    let WidgetOptions { src, text, methods, target, backend, theme, editable, curve } = options;
    // The words' colours start from the widget's background (widget.css).
    let base = if theme == "dark" { DARK_BACKGROUND } else { gradlens_render::color::WHITE };
    let text = RwSignal::new(text);
    let model = RwSignal::new_local(None::<Rc<crate::engine::Engine>>);
    let status = RwSignal::new("Loading the model…".to_string());
    let report = RwSignal::new_local(None::<Result<Rc<Explanation>, String>>);
    let runner = Runner::new();
    let running = RwSignal::new(false);
    let methods = StoredValue::new(methods);
    let chosen_backend = RwSignal::new(None::<Backend>);
    // The class explained: the attribute's, or the prediction's; the reader may switch it.
    let target = RwSignal::new(target);
    adopt_style();
    let root = NodeRef::<leptos::html::Div>::new();
    root.on_load(|root| report_height(&root));

    let run = move || {
        let Some(m) = model.get_untracked() else { return };
        let metrics = if curve { vec![Metric::DeletionArea] } else { Vec::new() };
        let request = match request(&m.config, text.get_untracked(), &methods.get_value(), target.get_untracked().as_deref(), metrics) {
            Ok(request) => request,
            Err(e) => {
                report.set(Some(Err(e.message().to_owned())));
                return;
            }
        };
        running.set(true);
        spawn_local(async move {
            let partial = move |so_far: Explanation| report.set(Some(Ok(Rc::new(so_far))));
            let Some(result) = runner.explain(&m, &request, |_| {}, partial).await else { return };
            running.set(false);
            report.set(Some(result.map(Rc::new).map_err(|e| e.message().to_owned())));
        });
    };

    spawn_local(async move {
        let chosen = match backend {
            Some(asked) => asked,
            None => backend::choose(None).await.backend,
        };
        chosen_backend.set(Some(chosen));
        match store::engine(&src, chosen, |_| {}).await {
            Ok(loaded) => {
                model.set(Some(loaded));
                status.set(String::new());
                run();
            }
            Err(e) => status.set(e),
        }
    });

    let body = move || {
        report.with(|r| match r {
            None => ().into_any(),
            Some(Err(e)) => view! { <p class="gl-error" role="alert">{e.clone()}</p> }.into_any(),
            Some(Ok(e)) => {
                let predicted = &e.model.labels[e.predicted];
                let rows = e
                    .attributions
                    .iter()
                    .map(|a| {
                        let class = &e.model.labels[a.target];
                        view! {
                            <div class="method" data-method=a.method.clone() data-explains=class.clone()>
                                <span class="gl-method">{format!("{} · explains {class}", a.title())}</span>
                                <p class="highlighted" dir="auto">{highlighted(e, &a.word_scores, base)}</p>
                                {legend(class)}
                            </div>
                        }
                    })
                    .collect_view();
                let others = class_switches(e, "gl-switch", move |label| {
                    target.set(Some(label));
                    run();
                });
                let chart = curve.then(|| {
                    let svg = Curve::Deletion.chart(&Curve::Deletion.series(e));
                    view! { <figure class="chart" data-chart="deletion" inner_html=svg></figure> }
                });
                view! {
                    <p class="gl-prediction">
                        {format!("{predicted} ({:.1}%)", 100.0 * e.probabilities[e.predicted])}
                        {e.truncated.then_some(" · only the beginning of the text was read")}
                    </p>
                    {e.unknown_warning().map(|w| view! { <p class="gl-warning" role="note">{w}</p> })}
                    {rows}
                    <p class="gl-switches">{others}</p>
                    {chart}
                }
                .into_any()
            }
        })
    };

    view! {
        <div class="gradlens-widget" data-theme=theme aria-busy=move || running.get().to_string() node_ref=root>
            {editable.then(|| view! {
                <form class="gl-form" on:submit=move |ev| { ev.prevent_default(); run(); }>
                    <textarea aria-label="Text to explain (Ctrl+Enter explains)" dir="auto" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))
                        on:keydown=move |ev| if crate::view::explain_keys(&ev) { ev.prevent_default(); run(); }></textarea>
                    <button type="submit" disabled=move || model.with(Option::is_none)>"Explain"</button>
                </form>
            })}
            {move || (!status.get().is_empty()).then(|| view! { <p class="gl-status" role="status">{status.get()}</p> })}
            {body}
            <p class="gl-footer">
                "Explained in your browser by GradLens"
                {move || chosen_backend.get().map(|b| format!(" · {}", b.label()))}
            </p>
        </div>
    }
}
