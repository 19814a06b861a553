//! burn's autodiff through the imported graph against central finite differences, independent of PyTorch:
//! for a unit direction `v`, `(F(x + eps v) - F(x - eps v)) / 2 eps` must equal `<dF/dx, v>`. Two
//! directions per input: a fixed pseudo-random one and the gradient's own (where `<g, v> = ||g||`, the
//! largest signal, and any error in the gradient's direction shows).

mod common;

use burn::prelude::*;
use gradlens_model::{Classifier, GraphKind, Probes};

const TEXT: &str = "The plot is thin, but the cast is wonderful.";
/// Step per input (embeddings, attention gate, hidden probe): the gate's gradient is small (attention
/// probabilities are), so its step is larger, to move the logit well above f32 rounding.
const EPS: [f32; 3] = [1e-3, 1e-1, 1e-2];
const RELATIVE_TOLERANCE: f32 = 1e-2;
/// What f32 rounding of the two forward passes leaves in a central difference: about 1e-7 of a logit
/// near 1, twice, divided by `2 eps`.
fn rounding(eps: f32) -> f32 {
    2e-7 / eps
}

/// A fixed pseudo-random unit direction, the same on every run.
fn random_direction(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed;
    unit(
        (0..len)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect(),
    )
}

fn unit(v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / norm).collect()
}

/// `t + scale * v` (or `t` itself), as a new leaf.
fn shifted<const D: usize>(t: &Tensor<D>, v: Option<&[f32]>, scale: f32) -> Tensor<D> {
    let mut values = t.to_data().try_to_vec::<f32>().unwrap();
    if let Some(v) = v {
        values.iter_mut().zip(v).for_each(|(a, b)| *a += scale * b);
    }
    Tensor::from_data(TensorData::new(values, t.dims()), &t.device())
}

struct Point {
    embeddings: Tensor<3>,
    mask: Tensor<2>,
    probes: Probes,
}

fn score(model: &Classifier, point: Point) -> Tensor<1> {
    model.forward(point.embeddings, point.mask, point.probes).logits.slice([0..1, 1..2]).reshape([1])
}

fn scalar(t: Tensor<1>) -> f32 {
    t.into_data().try_to_vec::<f32>().unwrap()[0]
}

#[test]
fn gradients_match_central_differences() {
    let device = Device::flex().autodiff();
    let model = common::load(GraphKind::Tiny, &device);
    let encoded = model.encode(TEXT).unwrap();
    let batch = model.batch(&[&encoded.ids]);
    let embeddings = model.embed(batch.ids.clone()).detach().require_grad();
    let mut probes = model.neutral_probes(1, encoded.len());
    probes.attention_gate = probes.attention_gate.require_grad();
    probes.hidden_probe = probes.hidden_probe.require_grad();
    let point = Point { embeddings: embeddings.clone(), mask: batch.mask.clone(), probes: probes.clone() };
    let grads = score(&model, point).backward();

    let count = |dims: &[usize]| dims.iter().product::<usize>();
    let gradients = [
        embeddings.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap(),
        probes.attention_gate.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap(),
        probes.hidden_probe.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap(),
    ];
    let sizes = [count(&embeddings.dims()), count(&probes.attention_gate.dims()), count(&probes.hidden_probe.dims())];
    for (which, name) in ["embeddings", "attention gate", "hidden probe"].iter().enumerate() {
        // A random direction agreeing with the gradient in sign everywhere: every coordinate is checked
        // with a random weight, and the derivative along it is large enough to check relative to itself
        // (a plain random direction's is near zero: most coordinates barely move the logit).
        let random = random_direction(sizes[which], which as u64 + 1);
        let agreeing = unit(gradients[which].iter().zip(&random).map(|(g, r)| r.abs() * g.signum()).collect());
        let directions = [agreeing, unit(gradients[which].clone())];
        for v in directions {
            let analytic: f32 = gradients[which].iter().zip(&v).map(|(g, d)| g * d).sum();
            let eps = EPS[which];
            let at = |sign: f32| {
                let pick = |w: usize| (w == which).then_some(v.as_slice());
                let neutral = model.neutral_probes(1, encoded.len());
                let point = Point {
                    embeddings: shifted(&embeddings, pick(0), sign * eps),
                    mask: batch.mask.clone(),
                    probes: Probes {
                        attention_gate: shifted(&neutral.attention_gate, pick(1), sign * eps),
                        hidden_probe: shifted(&neutral.hidden_probe, pick(2), sign * eps),
                    },
                };
                scalar(score(&model, point))
            };
            let numeric = (at(1.0) - at(-1.0)) / (2.0 * eps);
            // Relative to the directional derivative itself (not to |g|, which would let a random
            // direction's small derivative be wrong by most of its size), and large enough to tell.
            println!("{name}: finite difference {numeric} vs autodiff {analytic}");
            assert!(analytic.abs() > 10.0 * rounding(eps), "{name}: the derivative along v ({analytic}) is too small to check");
            assert!(
                (numeric - analytic).abs() <= RELATIVE_TOLERANCE * analytic.abs() + rounding(eps),
                "{name}: finite difference {numeric} vs autodiff {analytic}"
            );
        }
    }
}
