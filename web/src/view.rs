//! Rendering an [`Explanation`]: the words of the text coloured by each method's scores, a legend, the
//! metric values and the deletion / insertion curves.

use gradlens_attribution::{Attribution, Explanation, MetricInfo, MetricValue, Segment};
use gradlens_render::chart::{Curve, heatmap};
use gradlens_render::color::{WHITE, normalise, rgb_over, text_on};
use std::rc::Rc;

use leptos::prelude::*;

use crate::export::{download, file_name};
use crate::runner::page_metrics;

/// The text with each word's background coloured by its score (blue supports, red opposes), from `base`
/// (the background it is shown on), the score in the word's tooltip and accessible name.
pub fn highlighted(explanation: &Explanation, word_scores: &[f32], base: (u8, u8, u8)) -> Vec<AnyView> {
    let shades = normalise(word_scores);
    explanation
        .segments(word_scores)
        .map(|segment| match segment {
            Segment::Gap(gap) => gap.to_owned().into_any(),
            Segment::Word { index, text, score } => {
                let bg = rgb_over(shades[index], base);
                let fg = text_on(bg);
                let value = format!("{score:+.4}");
                // Colours as CSSOM properties, not a style attribute: a host's `style-src 'self'` allows them.
                view! {
                    <span class="word" style:background-color=css_rgb(bg) style:color=css_rgb(fg) title=value.clone()
                        data-score=value.clone() tabindex="0" aria-label=format!("{text}: {value}")>{text.to_owned()}</span>
                }
                .into_any()
            }
        })
        .collect()
}

/// The class the colours of `explanation` explain: its attributions' target (the prediction until the
/// first method is in).
pub fn explained_class(explanation: &Explanation) -> usize {
    explanation.attributions.first().map_or(explanation.predicted, |a| a.target)
}

/// "Explain ‹class› instead": a button (of CSS class `class`) for each class the colours do not explain;
/// `explain` gets the class's label.
pub fn class_switches(explanation: &Explanation, class: &'static str, explain: impl Fn(String) + Clone + 'static) -> AnyView {
    let explained = explained_class(explanation);
    let labels = explanation.model.labels.iter().enumerate().filter(|&(i, _)| i != explained).map(|(_, label)| label.clone());
    labels
        .map(|label| {
            let (ask, explain) = (label.clone(), explain.clone());
            view! { <button type="button" class=class data-class=label.clone() on:click=move |_| explain(ask.clone())>{format!("Explain {label} instead")}</button> }
        })
        .collect_view()
        .into_any()
}

/// Ctrl+Enter (Cmd+Enter on a Mac) in a text box: explain, as the button does.
pub fn explain_keys(event: &web_sys::KeyboardEvent) -> bool {
    event.key() == "Enter" && (event.ctrl_key() || event.meta_key())
}

fn css_rgb((r, g, b): (u8, u8, u8)) -> String {
    format!("rgb({r},{g},{b})")
}

/// For methods that read several parts of the model: the words as each part reads them, with the
/// part's score (its meaning is in the conventions).
fn readings(explanation: &Explanation, attribution: &Attribution) -> Option<AnyView> {
    let diagnostics = &attribution.diagnostics;
    let readings = diagnostics.readings.as_ref()?;
    let meaning = readings.score_meaning.clone();
    let rows = readings
        .parts
        .iter()
        .map(|reading| {
            let word_scores = explanation.word_scores(&reading.token_scores);
            view! {
                <li class="reading" data-label=reading.label.clone() data-score=format!("{:.4}", reading.score)>
                    <span class="reading-name" title=meaning.clone()>{format!("{} · {:.3}", reading.label, reading.score)}</span>
                    <span class="highlighted" dir="auto">{highlighted(explanation, &word_scores, WHITE)}</span>
                </li>
            }
        })
        .collect_view();
    // Label-free scores of the encoder on this text (representation attribution).
    let encoder = [("informativeness", diagnostics.informativeness), ("disentanglement", diagnostics.disentanglement)]
        .iter()
        .filter_map(|(name, v)| v.map(|v| format!("{name} {v:.3}")))
        .collect::<Vec<_>>();
    let encoder = (!encoder.is_empty()).then(|| view! { <p class="encoder-scores">{format!("Encoder on this text: {}", encoder.join(" · "))}</p> });
    let summary = format!("Every part ({meaning})");
    Some(view! { {encoder}<details class="readings"><summary>{summary}</summary><ol>{rows}</ol></details> }.into_any())
}

/// The colour scale's two ends in words, for the class a row explains: part of every row, so that a
/// reader never has to look elsewhere to read the colours.
pub fn legend(label: &str) -> AnyView {
    let ends = gradlens_render::color::legend(label).map(|((r, g, b), words)| {
        view! { <span class="swatch" style:background-color=css_rgb((r, g, b))></span>{words} }
    });
    view! { <p class="legend">{ends.into_iter().collect_view()}{format!(" · {}", gradlens_render::color::LEGEND_NOTE)}</p> }.into_any()
}

/// A row's values; each cell carries its column's heading, which a phone shows beside the value (the
/// table stacks there: style.css).
fn metric_cells(values: &[MetricValue], infos: &[MetricInfo]) -> AnyView {
    values
        .iter()
        .map(|v| {
            let title = infos.iter().find(|i| i.name == v.metric).map(|i| i.title.clone()).unwrap_or_default();
            view! { <td data-metric=v.metric.clone() data-title=title>{format!("{:.3}", v.value)}</td> }
        })
        .collect_view()
        .into_any()
}

/// A button that downloads what `make` returns.
fn export_button(label: &'static str, name: String, mime: &'static str, make: impl Fn() -> String + 'static) -> AnyView {
    let save = move |_| {
        if let Err(e) = download(&name, mime, &make()) {
            leptos::logging::error!("export failed: {e}");
        }
    };
    view! { <button type="button" class="export" data-export=label on:click=save>{label}</button> }.into_any()
}

pub fn explanation_view(explanation: &Rc<Explanation>) -> AnyView {
    // Once the metrics are in: the chosen method that did best on this very text.
    let most_faithful = explanation.most_faithful();
    let best = most_faithful.map(|(i, _)| i);
    let rows = explanation
        .attributions
        .iter()
        .enumerate()
        .map(|(i, a)| {
            // Exports are made when asked for: rendering each one at every partial result would keep the
            // page's thread busy while the reader waits.
            let (for_html, for_svg) = (explanation.clone(), explanation.clone());
            let fragment = move || {
                let one = for_html.only(i);
                gradlens_render::html::fragment(&one, &one.attributions[0])
            };
            let picture = move || gradlens_render::highlight::svg(&for_svg.only(i));
            let gap = a.diagnostics.completeness.map(|c| format!(" · completeness gap {:.1}%", 100.0 * c.relative_gap)).unwrap_or_default();
            let class = &explanation.model.labels[a.target];
            let badge = (best == Some(i)).then(|| view! { <span class="badge">"most faithful on this text"</span> });
            view! {
                <div class=if best == Some(i) { "method most-faithful" } else { "method" } data-method=a.method.clone() data-explains=class.clone()>
                    <h3>{a.title()}<span class="explains">{format!(" · explains {class}")}</span>{badge}<small>{format!(" · {:.2} s{gap}", a.seconds)}</small></h3>
                    <p class="highlighted" dir="auto">{highlighted(explanation, &a.word_scores, WHITE)}</p>
                    {legend(class)}
                    {readings(explanation, a)}
                    <p class="exports">
                        "Export: "
                        {export_button("HTML", file_name(&a.method, "html"), "text/html", fragment)}
                        {export_button("SVG", file_name(&a.method, "svg"), "image/svg+xml", picture)}
                    </p>
                </div>
            }
        })
        .collect_view();
    let faithfulness = explanation.attributions.iter().any(|a| !a.metrics.is_empty()).then(|| faithfulness_view(explanation, most_faithful));
    // The S x S map is drawn when the reader opens it (a 128-token text has 16,384 cells).
    let map = explanation.attributions.iter().any(|a| a.diagnostics.token_map.is_some()).then(|| {
        let open = RwSignal::new(false);
        let e = StoredValue::new_local(explanation.clone());
        let svg = move || {
            e.with_value(|e| {
                let map = e.attributions.iter().find_map(|a| a.diagnostics.token_map.as_ref())?;
                let tokens: Vec<String> = e.tokens.iter().map(|t| t.text.clone()).collect();
                Some(heatmap("Grad-SAM", &tokens, &tokens, map))
            })
        };
        view! {
            <details class="attention-map" on:toggle=move |_| open.set(true)>
                <summary>"Grad-SAM map: mean over layers and heads of ReLU(A ⊙ dF/dA); row attends to column"</summary>
                {move || open.get().then(|| view! { <figure class="chart" data-chart="grad-sam" inner_html=svg()></figure> })}
            </details>
        }
    });
    view! {
        <section class="explanation" aria-label="explanation">
            <p class="exports">
                "Export every method: "
                {export_button("JSON", file_name("explanation", "json"), "application/json", {
                    let e = explanation.clone();
                    move || e.to_json()
                })}
                {export_button("SVG", file_name("all", "svg"), "image/svg+xml", {
                    let e = explanation.clone();
                    move || gradlens_render::highlight::svg(&e)
                })}
            </p>
            {rows}
        </section>
        {faithfulness}
        {map}
    }
    .into_any()
}

/// The metric table and the curves, once the metrics are in.
/// `best`: the most faithful attribution on this text and its mean rank ([`Explanation::most_faithful`]).
fn faithfulness_view(explanation: &Explanation, best: Option<(usize, f32)>) -> AnyView {
    let infos: Vec<_> = page_metrics().iter().map(|m| m.info()).collect();
    let heading = |i: &MetricInfo| format!("{} {}", i.title, if i.lower_is_better { "↓" } else { "↑" });
    let header = infos.iter().map(|i| view! { <th scope="col" title=i.description.clone()>{heading(i)}</th> }).collect_view();
    let table_rows = explanation
        .attributions
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let class = (best.map(|(b, _)| b) == Some(i)).then_some("most-faithful");
            view! { <tr class=class><th scope="row">{a.title()}</th>{metric_cells(&a.metrics, &infos)}</tr> }
        })
        .collect_view();
    let verdict = best.map(|(b, rank)| {
        let n = explanation.attributions.len();
        view! {
            <p class="verdict">{format!(
                "On this text, {} did best across these metrics (mean rank {rank:.1}, where 1 is first on every metric and {n} last). \
                 A single text is a small sample: `gradlens eval` ranks methods over a whole dataset.",
                explanation.attributions[b].title()
            )}</p>
        }
    });
    let help = infos.iter().map(|i| view! { <dt>{heading(i)}</dt><dd>{i.meaning.clone()}</dd> }).collect_view();
    let charts = Curve::ALL.map(|curve| (curve, curve.chart(&curve.series(explanation))));
    let figures = charts.clone().map(|(curve, svg)| {
        view! { <figure class="chart" data-chart=curve.key()><div inner_html=svg></div><figcaption>{curve.caption()}</figcaption></figure> }
    });
    let exports = charts.map(|(curve, svg)| {
        let label = if curve == Curve::Deletion { "deletion SVG" } else { "insertion SVG" };
        export_button(label, file_name(curve.key(), "svg"), "image/svg+xml", move || svg.clone())
    });
    view! {
        <section class="faithfulness" aria-label="faithfulness">
            <h2>"Faithfulness"</h2>
            <div class="table-wrap" tabindex="0" role="region" aria-label="metric values">
                <table><thead><tr><th scope="col">"Method"</th>{header}</tr></thead><tbody>{table_rows}</tbody></table>
            </div>
            {verdict}
            <dl class="metric-help">{help}</dl>
            <div class="charts">{figures.into_iter().collect_view()}</div>
            <p class="exports">"Export the curves: "{exports.into_iter().collect_view()}</p>
        </section>
    }
    .into_any()
}

/// The model at a glance: the surrogate tree that `gradlens surrogate` made for it, with how often it
/// gives the model's own answer on held-out texts.
pub fn surrogate_panel(report: &gradlens_surrogate::Report) -> AnyView {
    let (c, a) = (&report.crembo, &report.argmax_tree);
    let svg = gradlens_render::tree::svg(&c.tree, &report.features, &report.labels);
    let about = format!(
        "A decision tree of depth {} over the words of a text, fitted by CREMBO to the model's beliefs on {} training texts \
         (threshold {:.2}, from MEMO's {:.2}), gives the model's own answer on {:.1}% of held-out texts; a tree of the same \
         depth fitted to the model's hard labels, on {:.1}%.",
        c.depth,
        report.texts.get("train").copied().unwrap_or_default(),
        c.threshold.unwrap_or_default(),
        c.memo_threshold.unwrap_or_default(),
        100.0 * c.test_fidelity,
        100.0 * a.test_fidelity
    );
    view! {
        <details class="surrogate" data-test-fidelity=format!("{:.4}", c.test_fidelity)>
            <summary>"The model at a glance: a small tree that mimics it"</summary>
            <p>{about}</p>
            <figure class="chart" data-chart="surrogate" inner_html=svg></figure>
        </details>
    }
    .into_any()
}
