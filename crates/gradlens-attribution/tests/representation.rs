//! Representation attribution against a computation by hand on the default model: expected gradients
//! of representation dimensions by central finite differences at the same background points, the
//! class weights by finite differences through the hidden-state probe, and the two scores on small
//! matrices worked out by hand.

use burn::prelude::*;
use gradlens_attribution::methods::RepresentationAttribution;
use gradlens_attribution::methods::representation::{disentanglement, informativeness};
use gradlens_attribution::{AttributionMethod, ExplainedInput, Target};
use gradlens_golden::assert_close;
use gradlens_model::{Classifier, GraphKind, ModelAssets};
use pollster::FutureExt as _;

const TEXT: &str = "A gorgeous, witty movie.";

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

fn model() -> Classifier {
    Classifier::load(&ModelAssets::full_precision(GraphKind::Site).unwrap(), &Device::flex().autodiff()).unwrap()
}

/// The representation (last layer's [CLS] hidden state) at `embeddings` `[1, S, H]`.
fn representation(model: &Classifier, input: &ExplainedInput, embeddings: Tensor<3>) -> Vec<f64> {
    let s = input.len();
    let states = model.forward(embeddings, input.mask.clone(), model.neutral_probes(1, s)).hidden_states;
    let last = states.dims()[0] - 1;
    values(states.narrow(0, last, 1).narrow(2, 0, 1).reshape([model.config().hidden_size])).into_iter().map(f64::from).collect()
}

#[test]
fn dimension_maps_are_expected_gradients_by_finite_differences() {
    let model = model();
    let input = ExplainedInput::new(&model, TEXT, Target::Predicted).block_on().unwrap();
    let method = RepresentationAttribution { samples: 2, ..Default::default() };
    let background = method.background(&input);
    let dims = [3, 200];
    let maps = method.dimension_maps(&input, input.embeddings.clone(), &dims, &background).block_on().unwrap();

    let (s, h) = (input.len(), model.config().hidden_size);
    let mut expected = vec![0.0f32; dims.len() * s];
    for point in &background {
        let ids = Tensor::<2, Int>::from_data(TensorData::new(point.ids.iter().map(|&i| i64::from(i)).collect(), [1, s]), input.device());
        let start = model.embed(ids);
        let difference = input.embeddings.clone() - start.clone();
        let at = start + difference.clone() * point.alpha;
        for i in 0..s {
            // Along token i's part of (x - x') only.
            let mut only_i = vec![0.0f32; s * h];
            only_i[i * h..(i + 1) * h].fill(1.0);
            let direction = difference.clone() * Tensor::<3>::from_data(TensorData::new(only_i, [1, s, h]), input.device());
            let eps = 1e-2;
            let up = representation(&model, &input, at.clone() + direction.clone() * eps);
            let down = representation(&model, &input, at.clone() - direction * eps);
            for (row, &d) in dims.iter().enumerate() {
                expected[row * s + i] += ((up[d] - down[d]) / (2.0 * f64::from(eps)) / background.len() as f64) as f32;
            }
        }
    }
    assert_close("expected gradients of two dimensions", &maps, &expected, 2e-3);
    assert!(expected.iter().any(|v| v.abs() > 0.05), "{expected:?}");
}

#[test]
fn token_scores_compose_the_class_weights_with_the_dimension_maps() {
    let model = model();
    let input = ExplainedInput::new(&model, TEXT, Target::Predicted).block_on().unwrap();
    let method = RepresentationAttribution { samples: 2, dimensions: 4, seed: 7 };
    let out = method.attribute(&input).block_on().unwrap();
    let readings = &out.diagnostics.readings.as_ref().expect("every dimension's reading").parts;
    assert_eq!(readings.len(), 4);

    let s = input.len();
    let mut composed = vec![0.0f32; s];
    for reading in readings {
        composed.iter_mut().zip(&reading.token_scores).for_each(|(c, t)| *c += reading.score * t);
    }
    assert_close("sum_d w_d EG_d", &out.token_scores, &composed, 1e-5);

    // Each weight is dF_c/dh_d at [CLS] of the last layer: by finite differences through the probe.
    let (layers, h) = (model.config().num_layers, model.config().hidden_size);
    for reading in readings {
        let d: usize = reading.label.strip_prefix("dimension ").unwrap().parse().unwrap();
        let logit = |step: f32| {
            let mut probes = model.neutral_probes(1, s);
            let mut nudge = vec![0.0f32; h];
            nudge[d] = step;
            let nudge = Tensor::<4>::from_data(TensorData::new(nudge, [1, 1, 1, h]), input.device());
            probes.hidden_probe = probes.hidden_probe.slice_assign([layers - 1..layers, 0..1, 0..1, 0..h], nudge);
            f64::from(values(model.forward(input.embeddings.clone(), input.mask.clone(), probes).logits)[input.target])
        };
        let numeric = (logit(1e-2) - logit(-1e-2)) / 2e-2;
        assert!((numeric - f64::from(reading.score)).abs() < 2e-3 * numeric.abs().max(1.0), "{}: {numeric} vs {}", reading.label, reading.score);
    }
    // The attributed dimensions are the most active ones.
    let r = representation(&model, &input, input.embeddings.clone());
    let smallest_kept = readings.iter().map(|x| r[x.label[10..].parse::<usize>().unwrap()].abs()).fold(f64::MAX, f64::min);
    assert_eq!(r.iter().filter(|v| v.abs() > smallest_kept).count(), 3);
    // Seeded: the same options give the same result.
    assert_eq!(method.attribute(&input).block_on().unwrap().token_scores, out.token_scores);
}

#[test]
fn informativeness_and_disentanglement_by_hand() {
    // N([0,1,2,3]) = [0,1/3,2/3,1], N([3,2,1,0]) = [1,2/3,1/3,0]: mean |difference| = (1+1/3+1/3+1)/4.
    assert!((informativeness(&[0.0, 1.0, 2.0, 3.0], &[3.0, 2.0, 1.0, 0.0]) - 2.0 / 3.0).abs() < 1e-6);
    assert_eq!(informativeness(&[1.0, 5.0], &[10.0, 50.0]), 0.0, "scale does not count");
    // Two dimensions x two tokens, [[0,1],[1,0]]: each token's column is {0, 1}, variance 1/4.
    assert!((disentanglement(&[0.0, 1.0, 1.0, 0.0], 2) - 0.25).abs() < 1e-6);
    assert_eq!(disentanglement(&[0.0, 1.0, 0.0, 1.0], 2), 0.0, "dimensions that read the tokens alike");
}
