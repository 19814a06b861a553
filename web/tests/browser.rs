//! The model and the attribution code in a real browser (headless Chromium through
//! wasm-bindgen-test-runner), on the CPU backend and on WebGPU: the tiny model's logits must equal
//! onnxruntime's and its Gradient x Input scores Captum's, the same references the native tests use.
#![cfg(target_family = "wasm")]

use burn::prelude::*;
use burn::tensor::wgpu::WgpuBackend;
use gradlens_attribution::methods::{GradientXInput, IntegratedGradients};
use gradlens_attribution::{AttributionMethod, ExplainedInput, Target, read};
use gradlens_golden::{Golden, assert_close};
use gradlens_model::{Classifier, ModelAssets};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// As in the native reference tests.
const FORWARD_TOLERANCE: f32 = 1e-4;
const GRADIENT_TOLERANCE: f32 = 1e-3;

fn tiny_model(device: &Device) -> Classifier {
    let assets = ModelAssets {
        config: include_bytes!("../../models/tiny/config.json").to_vec(),
        tokenizer: include_bytes!("../../models/tiny/tokenizer.json").to_vec(),
        word_embeddings: include_bytes!("../../models/tiny/word_embeddings.f16").to_vec(),
        weights: gradlens_graph::fixture::TINY_WEIGHTS.to_vec(),
        surrogate: None,
    };
    Classifier::load(&assets, device).expect("the tiny model loads from bytes")
}

async fn matches_references(device: Device) {
    let model = tiny_model(&device);
    let sentences: Vec<String> = serde_json::from_slice(include_bytes!("../../tests/golden/sentences.json")).unwrap();
    let forward = Golden::from_bytes(include_bytes!("../../tests/golden/tiny_forward.safetensors"));
    let attributions = Golden::from_bytes(include_bytes!("../../tests/golden/tiny_attributions.safetensors"));
    for (i, text) in sentences.iter().enumerate() {
        let encoded = model.encode(text).unwrap();
        let logits = read(model.forward_batch(&model.batch(&[&encoded.ids])).logits).await.unwrap();
        assert_close(&format!("{i}.logits"), &logits, &forward.f32s(&format!("{i}.logits")).1, FORWARD_TOLERANCE);

        let input = ExplainedInput::new(&model, text, Target::Predicted).await.unwrap();
        let scores = GradientXInput.attribute(&input).await.unwrap().token_scores;
        let name = format!("{i}.gradient_x_input");
        assert_close(&name, &scores, &attributions.f32s(&name).1, GRADIENT_TOLERANCE);
    }
    // A path method end to end, with its own check: completeness.
    let input = ExplainedInput::new(&model, &sentences[0], Target::Predicted).await.unwrap();
    let ig = IntegratedGradients::default().attribute(&input).await.unwrap();
    let gap = ig.diagnostics.completeness.expect("IG reports completeness").relative_gap;
    assert!(gap < 0.05, "IG completeness gap {gap}");
}

#[wasm_bindgen_test]
async fn cpu_backend_matches_references() {
    matches_references(Device::flex().autodiff()).await;
}

#[wasm_bindgen_test]
async fn webgpu_backend_matches_references() {
    let device = Device::wgpu_options()
        .graphics_api(WgpuBackend::WebGpu)
        .init_async()
        .await
        .expect("WebGPU: Chromium must be started with --enable-unsafe-webgpu (see webdriver.json)");
    matches_references(device.autodiff()).await;
}
