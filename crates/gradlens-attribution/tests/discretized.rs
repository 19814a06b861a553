//! DIG and UDIG against tools/dig_reference.py, a direct PyTorch transcription of the published
//! definitions, on the tiny model (small settings, both strategies, with and without midpoints).

use burn::prelude::*;
use gradlens_attribution::methods::{AnchorSearch, AnchorStrategy, DiscretizedIntegratedGradients, Distance};
use gradlens_attribution::{AttributionMethod, ExplainedInput, Target};
use gradlens_golden::{Golden, assert_close, sentences};
use gradlens_model::{Classifier, GraphKind, ModelAssets};
use pollster::FutureExt as _;

fn case(name: &str) -> DiscretizedIntegratedGradients {
    let (search, strategy, factor) = match name {
        "dig_greedy" => (AnchorSearch::NeighboursOfCurrentWord { neighbors: 40 }, AnchorStrategy::Greedy, 1),
        "dig_maxcount" => (AnchorSearch::NeighboursOfCurrentWord { neighbors: 40 }, AnchorStrategy::MaxCount, 0),
        "udig_greedy" => (AnchorSearch::NeighboursOfStraightLine { neighbors: 10, distance: Distance::L2 }, AnchorStrategy::Greedy, 0),
        _ => (AnchorSearch::NeighboursOfStraightLine { neighbors: 10, distance: Distance::L2 }, AnchorStrategy::MaxCount, 1),
    };
    DiscretizedIntegratedGradients { search, strategy, factor, steps: 6, internal_batch_size: 5, ..DiscretizedIntegratedGradients::dig() }
}

#[test]
fn dig_and_udig_match_the_reference_transcription() {
    let model = Classifier::load(&ModelAssets::full_precision(GraphKind::Tiny).unwrap(), &Device::flex().autodiff()).unwrap();
    let golden = Golden::open("tiny_dig");
    for (i, text) in sentences().iter().enumerate() {
        let input = ExplainedInput::new(&model, text, Target::Predicted).block_on().unwrap();
        for name in ["dig_greedy", "dig_maxcount", "udig_greedy", "udig_maxcount"] {
            let method = case(name);
            let out = method.attribute(&input).block_on().unwrap();
            let expected_points = 2usize.pow(method.factor) * (method.steps + 1) + 1;
            assert_eq!(out.conventions["path_points"], expected_points, "{name}");
            assert_close(&format!("{i}.{name}"), &out.token_scores, &golden.f32s(&format!("{i}.{name}")).1, 1e-4);
            assert!(out.diagnostics.completeness.is_some(), "{name} reports completeness");
            // UDIG's path points are not words: it reports how far they are; DIG's anchors are words.
            let error = out.diagnostics.word_approximation_error;
            assert_eq!(error.is_some_and(|e| e > 0.0), name.starts_with("udig"), "{name}: {error:?}");
        }
    }
}
