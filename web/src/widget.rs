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

use crate::backend::{self, Backend};
use crate::runner::{Runner, request};
use crate::store;
use crate::view::{highlighted, legend};

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

    /// The `<iframe>` snippet for these options, the page being at `page_url`.
    pub fn iframe(&self, page_url: &str) -> String {
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
        let src = format!("{page_url}?{}", String::from(query.to_string()));
        let height = 180 + 70 * self.methods.len() + if self.curve { 320 } else { 0 };
        format!(
            r#"<iframe src="{}" title="GradLens explanation" width="640" height="{height}" style="border:1px solid #d5dae1;border-radius:6px" loading="lazy"></iframe>"#,
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

/// Styles of the widget, scoped by its class: an embedding page has none of the site's style sheet.
const STYLE: &str = include_str!("../widget.css");

#[component]
pub fn Widget(options: WidgetOptions) -> impl IntoView {
    let WidgetOptions { src, text, methods, target, backend, theme, editable, curve } = options;
    let text = RwSignal::new(text);
    let model = RwSignal::new_local(None::<Rc<crate::engine::Engine>>);
    let status = RwSignal::new("Loading the model…".to_string());
    let report = RwSignal::new_local(None::<Result<Rc<Explanation>, String>>);
    let runner = Runner::new();
    let running = RwSignal::new(false);
    let methods = StoredValue::new(methods);
    let chosen_backend = RwSignal::new(None::<Backend>);
    let target = StoredValue::new(target);

    let run = move || {
        let Some(m) = model.get_untracked() else { return };
        let metrics = if curve { vec![Metric::DeletionArea] } else { Vec::new() };
        let request = match request(&m.config, text.get_untracked(), &methods.get_value(), target.get_value().as_deref(), metrics) {
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
                        view! {
                            <div class="method" data-method=a.method.clone()>
                                <span class="gl-method">{a.method.replace('_', " ")}</span>
                                <p class="highlighted">{highlighted(e, &a.word_scores)}</p>
                            </div>
                        }
                    })
                    .collect_view();
                let chart = curve.then(|| {
                    let svg = Curve::Deletion.chart(&Curve::Deletion.series(e));
                    view! { <figure class="chart" data-chart="deletion" inner_html=svg></figure> }
                });
                view! {
                    <p class="gl-prediction">
                        {format!("{predicted} ({:.1}%)", 100.0 * e.probabilities[e.predicted])}
                        {e.truncated.then_some(" · only the beginning of the text was read")}
                    </p>
                    {rows}
                    {legend(&e.model.labels[e.attributions.first().map_or(e.predicted, |a| a.target)])}
                    {chart}
                }
                .into_any()
            }
        })
    };

    view! {
        <div class="gradlens-widget" data-theme=theme aria-busy=move || running.get().to_string()>
            <style>{STYLE}</style>
            {editable.then(|| view! {
                <form class="gl-form" on:submit=move |ev| { ev.prevent_default(); run(); }>
                    <textarea aria-label="Text to explain" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
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
