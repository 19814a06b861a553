//! The result type: word aggregation through the tokenizer's word ids, conventions, and its JSON form.

use pollster::FutureExt as _;
use burn::prelude::*;
use gradlens_attribution::{AttributionMethod, Explanation, Method, SCHEMA_VERSION, Target, explain};
use gradlens_model::{Classifier, GraphKind, ModelAssets};

fn tiny() -> Classifier {
    Classifier::load(&ModelAssets::full_precision(GraphKind::Tiny).unwrap(), &Device::flex().autodiff()).unwrap()
}

#[test]
fn word_scores_sum_the_scores_of_their_tokens() {
    let model = tiny();
    let text = "Unbelievably overwrought, an über-long <i>mess</i> 🎬!";
    let explanation = explain(&model, text, Target::Predicted, &Method::all_defaults()).block_on().unwrap();
    assert_eq!(explanation.attributions.len(), Method::all_defaults().len());
    for word in &explanation.words {
        assert_eq!(&text[word.start..word.end], word.text);
    }
    for attribution in &explanation.attributions {
        assert_eq!(attribution.token_scores.len(), explanation.tokens.len(), "{}", attribution.method);
        for (w, score) in attribution.word_scores.iter().enumerate() {
            let by_hand: f32 = explanation
                .tokens
                .iter()
                .zip(&attribution.token_scores)
                .filter(|(t, _)| t.word == Some(w))
                .map(|(_, s)| s)
                .sum();
            assert!((score - by_hand).abs() < 1e-6, "{}: word {w}", attribution.method);
        }
        assert!(attribution.conventions.contains_key("target"), "{} records its target", attribution.method);
        assert!(attribution.token_scores.iter().all(|s| s.is_finite()), "{}", attribution.method);
    }
    // "Unbelievably" is several subword tokens but one word.
    let first_word_tokens = explanation.tokens.iter().filter(|t| t.word == Some(0)).count();
    assert!(first_word_tokens > 1);
}

#[test]
fn explanations_round_trip_through_json_with_their_schema_version() {
    let model = tiny();
    let methods = [Method::by_name("integrated_gradients").unwrap(), Method::by_name("grad_sam").unwrap()];
    let explanation = explain(&model, "A gorgeous, witty movie.", Target::Class(0), &methods).block_on().unwrap();
    let json = serde_json::to_string(&explanation).unwrap();
    let back: Explanation = serde_json::from_str(&json).unwrap();
    assert_eq!(back, explanation);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["schema_version"], SCHEMA_VERSION);
    assert_eq!(value["attributions"][0]["conventions"]["target"], "negative");
    assert_eq!(value["attributions"][0]["conventions"]["rule"], "gauss_legendre");
    assert!(value["attributions"][0]["completeness"]["relative_gap"].is_number());
    assert!(value["attributions"][1]["completeness"].is_null());
}

#[test]
fn methods_are_named_and_configured_by_serde() {
    let method: Method = serde_json::from_str(r#"{"method": "integrated_gradients", "steps": 16, "rule": "riemann_middle"}"#).unwrap();
    let Method::IntegratedGradients(ig) = &method else { panic!("{method:?}") };
    assert_eq!((ig.steps, ig.internal_batch_size), (16, 25));
    for m in Method::all_defaults() {
        assert_eq!(Method::by_name(m.name()), Some(m.clone()));
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["method"], m.name());
    }
}
