#![allow(dead_code)]

use burn::prelude::*;
use gradlens_golden::Golden;
use gradlens_model::{Classifier, GraphKind, ModelAssets};

pub fn load(kind: GraphKind, device: &Device) -> Classifier {
    Classifier::load(&ModelAssets::full_precision(kind).unwrap(), device).unwrap()
}

/// The onnxruntime / PyTorch reference file of one model.
pub fn forward_golden(kind: GraphKind) -> Golden {
    Golden::open(&format!("{}_forward", kind.name()))
}

/// Asserts that `got` has the reference's shape and is elementwise close to it.
pub fn assert_close<const D: usize>(what: &str, got: Tensor<D>, expected: &(Vec<usize>, Vec<f32>), tolerance: f32) {
    let (shape, reference) = expected;
    assert_eq!(&got.dims().to_vec(), shape, "{what}: shape");
    gradlens_golden::assert_close(what, &got.into_data().try_to_vec::<f32>().unwrap(), reference, tolerance);
}
