//! Reference values written by the tools scripts (`prepare_model.py golden`: onnxruntime forward outputs
//! and PyTorch gradients; `attribution_reference.py`: Captum and plain PyTorch attributions), for the
//! sentences in `tests/golden/sentences.json`, and the comparisons the tests make against them.

use std::path::PathBuf;

use safetensors::{Dtype, SafeTensors};

pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden")
}

/// The reference sentences, in the order their values are numbered.
pub fn sentences() -> Vec<String> {
    serde_json::from_slice(&std::fs::read(golden_dir().join("sentences.json")).expect("tests/golden/sentences.json"))
        .expect("a JSON list of sentences")
}

/// One golden file (`tests/golden/<file>.safetensors`), read whole.
pub struct Golden(Vec<u8>);

impl Golden {
    pub fn open(file: &str) -> Self {
        let path = golden_dir().join(format!("{file}.safetensors"));
        Golden(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
    }

    /// A golden file built into the test (`include_bytes!`), where there is no file system (a browser).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Golden(bytes.to_vec())
    }

    /// Shape and values of an f32 tensor.
    pub fn f32s(&self, name: &str) -> (Vec<usize>, Vec<f32>) {
        let tensors = SafeTensors::deserialize(&self.0).expect("a safetensors file");
        let view = tensors.tensor(name).unwrap_or_else(|_| panic!("golden tensor {name} missing"));
        assert_eq!(view.dtype(), Dtype::F32, "{name}");
        let values = view.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
        (view.shape().to_vec(), values)
    }

    pub fn i64s(&self, name: &str) -> Vec<i64> {
        let tensors = SafeTensors::deserialize(&self.0).expect("a safetensors file");
        let view = tensors.tensor(name).unwrap_or_else(|_| panic!("golden tensor {name} missing"));
        assert_eq!(view.dtype(), Dtype::I64, "{name}");
        view.data().chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap())).collect()
    }
}

/// Asserts that every element of `got` is within `tolerance * max(1, max |reference|)` of `reference`.
pub fn assert_close(what: &str, got: &[f32], reference: &[f32], tolerance: f32) {
    assert_eq!(got.len(), reference.len(), "{what}: length");
    let scale = reference.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let (index, worst) = got
        .iter()
        .zip(reference)
        .map(|(g, r)| (g - r).abs())
        .enumerate()
        .fold((0, 0.0f32), |best, (i, d)| if d > best.1 || d.is_nan() { (i, d) } else { best });
    assert!(
        worst <= tolerance * scale,
        "{what}: element {index} differs by {worst} (got {}, expected {}, tolerance {})",
        got[index],
        reference[index],
        tolerance * scale
    );
}

/// Cosine similarity of two score vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b)).max(f32::MIN_POSITIVE)
}
