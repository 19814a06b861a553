//! The pipeline and its result: word aggregation through the tokenizer's words, metrics inside each
//! attribution, the JSON form and its version, the registry of methods and their options.

use burn::prelude::*;
use gradlens_attribution::methods::DiscretizedIntegratedGradients;
use gradlens_attribution::metrics::Metric;
use gradlens_attribution::{
    Explanation, Hooks, Method, MethodOptions, NoHooks, OptionError, Request, SCHEMA_VERSION, Stage, Stopped, Target, explain,
};
use gradlens_model::{Classifier, GraphKind, ModelAssets};
use pollster::FutureExt as _;

fn tiny() -> Classifier {
    Classifier::load(&ModelAssets::full_precision(GraphKind::Tiny).unwrap(), &Device::flex().autodiff()).unwrap()
}

fn method(name: &str) -> Method {
    Method::by_name(name).unwrap()
}

#[test]
fn word_scores_sum_the_scores_of_their_tokens() {
    let model = tiny();
    let text = "Unbelievably overwrought, an über-long <i>mess</i> 🎬!";
    let explanation = explain(&model, &Request::new(text, Method::all_defaults()), &mut NoHooks).block_on().unwrap();
    assert_eq!(explanation.attributions.len(), Method::all_defaults().len());
    for word in &explanation.words {
        assert_eq!(&text[word.start..word.end], word.text);
    }
    for attribution in &explanation.attributions {
        assert_eq!(attribution.token_scores.len(), explanation.tokens.len(), "{}", attribution.method);
        for (w, score) in attribution.word_scores.iter().enumerate() {
            let by_hand: f32 = explanation.tokens.iter().zip(&attribution.token_scores).filter(|(t, _)| t.word == Some(w)).map(|(_, s)| s).sum();
            assert!((score - by_hand).abs() < 1e-6, "{}: word {w}", attribution.method);
        }
        assert!(attribution.token_scores.iter().all(|s| s.is_finite()), "{}", attribution.method);
    }
    // "Unbelievably" is several subword tokens but one word.
    let first_word_tokens = explanation.tokens.iter().filter(|t| t.word == Some(0)).count();
    assert!(first_word_tokens > 1);
}

#[test]
fn a_text_of_unknown_tokens_is_flagged() {
    let model = tiny();
    let unk = model.config().special_tokens.unk;
    for (text, unknown) in [("🎬🎬 🍿 ✨✨", true), ("A gorgeous, witty movie 🎬.", false)] {
        let explanation = explain(&model, &Request::new(text, vec![method("saliency")]), &mut NoHooks).block_on().unwrap();
        let ids = model.encode(text).unwrap().ids;
        assert_eq!(explanation.unknown_tokens, ids.iter().filter(|&&id| id == unk).count(), "{text}");
        assert!(explanation.unknown_tokens > 0, "{text}: the emoji are unknown to the vocabulary");
        assert_eq!(explanation.unknown_warning().is_some(), unknown, "{text}");
    }
}

#[test]
fn metrics_travel_inside_each_attribution_and_round_trip_through_json() {
    let model = tiny();
    let request = Request {
        target: Target::Class(0),
        metrics: vec![Metric::Comprehensiveness { k: 0.2 }, Metric::DeletionArea],
        ..Request::new("A gorgeous, witty movie.", vec![method("integrated_gradients"), method("grad_sam")])
    };
    let explanation = explain(&model, &request, &mut NoHooks).block_on().unwrap();
    for attribution in &explanation.attributions {
        let names: Vec<&str> = attribution.metrics.iter().map(|m| m.metric.as_str()).collect();
        assert_eq!(names, ["comprehensiveness", "deletion_area"], "{}", attribution.method);
        // The deletion curve starts at the unperturbed probability of the predicted class.
        let curve = attribution.metric("deletion_area").unwrap().curve.as_ref().unwrap();
        assert!((curve[0].probability - explanation.probabilities[explanation.predicted]).abs() < 1e-5);
        let word_tokens = explanation.tokens.iter().filter(|t| t.word.is_some()).count();
        assert_eq!(curve.len(), word_tokens + 1, "one point per removed word token, and the start");
    }
    let json = explanation.to_json();
    assert_eq!(Explanation::load(&json).unwrap(), explanation);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["schema_version"], SCHEMA_VERSION);
    assert_eq!(value["attributions"][0]["conventions"]["target"], "negative");
    assert_eq!(value["attributions"][0]["conventions"]["rule"], "gauss_legendre");
    assert!(value["attributions"][0]["diagnostics"]["completeness"]["relative_gap"].is_number());
    let map = value["attributions"][1]["diagnostics"]["token_map"].as_array().expect("Grad-SAM's map");
    assert_eq!(map.len(), explanation.tokens.len().pow(2));
    assert!(value["attributions"][0]["metrics"][1]["curve"].is_array());
}

#[test]
fn load_refuses_a_schema_version_it_does_not_know() {
    let model = tiny();
    let explanation = explain(&model, &Request::new("Fine.", vec![method("saliency")]), &mut NoHooks).block_on().unwrap();
    let mut value = serde_json::to_value(&explanation).unwrap();
    for version in [1, SCHEMA_VERSION + 1] {
        value["schema_version"] = version.into();
        let error = Explanation::load(&value.to_string()).unwrap_err().to_string();
        assert!(error.contains(&format!("schema version {version}")), "{error}");
    }
    assert!(Explanation::load("{\"text\": \"x\"}").unwrap_err().to_string().contains("schema_version"));
}

/// Stops at the stage whose number is `at`, recording the stages it saw.
struct StopAt {
    at: usize,
    seen: Vec<String>,
    partial: Vec<usize>,
}

impl Hooks for StopAt {
    async fn before(&mut self, stage: &Stage) -> Result<(), Stopped> {
        self.seen.push(format!("{}/{} {stage}", stage.done, stage.total));
        if stage.done == self.at { Err(Stopped::Cancelled) } else { Ok(()) }
    }

    fn progressed(&mut self, so_far: &Explanation) {
        self.partial.push(so_far.attributions.len());
    }
}

#[test]
fn the_pipeline_runs_methods_before_metrics_reports_each_stage_and_stops_when_told() {
    let model = tiny();
    let request =
        Request { metrics: vec![Metric::DeletionArea], ..Request::new("A gorgeous, witty movie.", vec![method("saliency"), method("occlusion")]) };
    let mut all = StopAt { at: usize::MAX, seen: Vec::new(), partial: Vec::new() };
    explain(&model, &request, &mut all).block_on().unwrap();
    assert_eq!(all.seen, ["0/5 reading the text", "1/5 Saliency", "2/5 Occlusion", "3/5 faithfulness of Saliency", "4/5 faithfulness of Occlusion"]);
    assert_eq!(all.partial, [0, 1, 2, 2, 2], "the prediction, highlights, then the same attributions with their metrics");

    let mut stopped = StopAt { at: 2, seen: Vec::new(), partial: Vec::new() };
    let result = explain(&model, &request, &mut stopped).block_on();
    assert!(matches!(result, Err(Stopped::Cancelled)), "{result:?}");
    assert_eq!(stopped.seen.len(), 3, "nothing runs after the stop");
}

#[test]
fn every_method_is_named_once_and_its_name_alone_gives_its_defaults() {
    let names: Vec<&str> = Method::all_defaults().iter().map(Method::name).collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "{names:?}");
    for m in Method::all_defaults() {
        assert_eq!(Method::by_name(m.name()).unwrap(), m);
        assert_eq!(serde_json::to_value(&m).unwrap()["method"], m.name());
        // What a request that names only the method gets: the registry's defaults, under the same name.
        let named: Method = serde_json::from_str(&format!(r#"{{"method": "{}"}}"#, m.name())).unwrap();
        assert_eq!(named, m, "{}", m.name());
        assert_eq!(named.name(), m.name());
    }
    let udig: Method = serde_json::from_str(r#"{"method": "udig", "steps": 12}"#).unwrap();
    assert_eq!(udig, Method::Udig(DiscretizedIntegratedGradients { steps: 12, ..DiscretizedIntegratedGradients::udig() }));
    let ig: Method = serde_json::from_str(r#"{"method": "integrated_gradients", "steps": 16, "rule": "riemann_middle"}"#).unwrap();
    let Method::IntegratedGradients(ig) = &ig else { panic!("{ig:?}") };
    assert_eq!((ig.steps, ig.internal_batch_size), (16, 25));
}

#[test]
fn options_apply_to_the_methods_that_take_them_and_are_refused_elsewhere() {
    let steps = MethodOptions { steps: Some(7), ..Default::default() };
    let Method::IntegratedGradients(ig) = method("integrated_gradients").with_options(&steps).unwrap() else { unreachable!() };
    assert_eq!(ig.steps, 7);
    let Method::Udig(udig) = method("udig").with_options(&steps).unwrap() else { unreachable!() };
    assert_eq!(udig.steps, 7);
    let samples = MethodOptions { samples: Some(9), ..Default::default() };
    let Method::ShapleySampling(shapley) = method("shapley_sampling").with_options(&samples).unwrap() else { unreachable!() };
    assert_eq!(shapley.permutations, 9);

    let refused = method("smooth_grad").with_options(&steps).unwrap_err();
    assert!(matches!(refused, OptionError::DoesNotApply { method: "smooth_grad", option: "steps", .. }), "{refused}");
    assert!(refused.to_string().contains("integrated_gradients, dig, udig"), "{refused}");
    let rule = MethodOptions { rule: Some(gradlens_attribution::IntegrationRule::RiemannLeft), ..Default::default() };
    assert!(method("dig").with_options(&rule).is_err(), "DIG's path is not integrated by a rule");
    let baseline = MethodOptions { baseline: Some(gradlens_attribution::Baseline::Zero), ..Default::default() };
    assert!(method("grad_sam").with_options(&baseline).is_err());
    assert_eq!(
        method("integrated_gradients").with_options(&MethodOptions { steps: Some(0), ..Default::default() }),
        Err(OptionError::Zero { option: "steps" })
    );
    assert!(matches!(Method::by_name("ig"), Err(OptionError::UnknownMethod { .. })));
}
