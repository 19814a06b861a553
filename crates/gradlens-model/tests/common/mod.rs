//! Reference values written by `tools/prepare_model.py golden`: onnxruntime forward outputs and PyTorch
//! gradients of the same exported graphs, for the sentences in `tests/golden/sentences.json`.
#![allow(dead_code)]

use std::path::PathBuf;

use burn::prelude::*;
use gradlens_model::{Classifier, GraphKind, ModelAssets};
use safetensors::{Dtype, SafeTensors};

pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden")
}

pub fn sentences() -> Vec<String> {
    serde_json::from_slice(&std::fs::read(golden_dir().join("sentences.json")).unwrap()).unwrap()
}

pub fn load(kind: GraphKind, device: &Device) -> Classifier {
    Classifier::load(&ModelAssets::shipped(kind).unwrap(), device).unwrap()
}

/// One golden file, read whole.
pub struct Golden(Vec<u8>);

impl Golden {
    pub fn open(kind: GraphKind) -> Self {
        Golden(std::fs::read(golden_dir().join(format!("{}_forward.safetensors", kind.name()))).unwrap())
    }

    pub fn f32s(&self, name: &str) -> (Vec<usize>, Vec<f32>) {
        let tensors = SafeTensors::deserialize(&self.0).unwrap();
        let view = tensors.tensor(name).unwrap_or_else(|_| panic!("golden tensor {name} missing"));
        assert_eq!(view.dtype(), Dtype::F32, "{name}");
        let values = view.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
        (view.shape().to_vec(), values)
    }

    pub fn i64s(&self, name: &str) -> Vec<i64> {
        let tensors = SafeTensors::deserialize(&self.0).unwrap();
        let view = tensors.tensor(name).unwrap_or_else(|_| panic!("golden tensor {name} missing"));
        assert_eq!(view.dtype(), Dtype::I64, "{name}");
        view.data().chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap())).collect()
    }
}

/// Asserts that `got` has the reference's shape and that every element is within
/// `tolerance * max(1, max |reference|)` of it.
pub fn assert_close<const D: usize>(what: &str, got: Tensor<D>, expected: &(Vec<usize>, Vec<f32>), tolerance: f32) {
    let (shape, reference) = expected;
    assert_eq!(&got.dims().to_vec(), shape, "{what}: shape");
    let got = got.into_data().try_to_vec::<f32>().unwrap();
    let scale = reference.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let (index, worst) = got
        .iter()
        .zip(reference)
        .map(|(g, r)| (g - r).abs())
        .enumerate()
        .fold((0, 0.0f32), |best, (i, d)| if d > best.1 { (i, d) } else { best });
    assert!(
        worst <= tolerance * scale,
        "{what}: element {index} differs by {worst} (got {}, expected {}, tolerance {})",
        got[index],
        reference[index],
        tolerance * scale
    );
}
