//! Weights at rest in fewer bits, dequantized once at load.
//!
//! Symmetric uniform quantization with one f32 scale per output feature of each graph matrix (a column of
//! burn's `[in, out]` layout) and per row of the word-embedding table. Values are stored as `i8` but kept
//! within `±(2^(bits-1) - 1)`: the gzip that carries the files to the browser then codes them near their
//! entropy (6-bit values in bytes gzip to about 5.5 bits), so the bit width is a size/fidelity dial
//! without bit-packing. Vectors (biases, LayerNorm parameters) stay f32.
//!
//! Quantized tensors sit in an ordinary Burnpack: the `i8` values under the tensor's own name, its scales
//! beside it under `NAME#scale`, shaped `[rows, 1]` (per row) or `[1, cols]` (per column), so that the
//! scales broadcast over the values as written. Loading turns every such pair back into f32 tensors that
//! burn applies to the graph directly, so the model code never sees quantized tensors: on burn's CPU backend a quantized matmul would dequantize on
//! every call, which costs more time than the 44 MB of f32 weights cost memory.

use burn::tensor::{Bytes, DType};
use burn_store::burn_pack::{MAGIC_NUMBER, Reader, Tensor as PackTensor, Writer};
use serde::{Deserialize, Serialize};

/// Suffix of the tensor that holds a quantized tensor's scales.
const SCALE_SUFFIX: &str = "#scale";
/// The name of the word-embedding table inside its Burnpack.
const TABLE_NAME: &str = "word_embeddings";

/// How a model's weights are stored for the site (`quantization` in config.json). A model folder without
/// it ships its weights as they are (f32 graph, f16 table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quantization {
    /// Bits per value of the graph's matrices (per output feature).
    pub graph_bits: u8,
    /// Bits per value of the word-embedding table (per row).
    pub table_bits: u8,
}

/// Why weights could not be quantized or read back.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// The bytes are not a Burnpack, or a tensor in it cannot be read.
    #[error("not a readable Burnpack file: {0}")]
    Unreadable(String),
    /// A tensor cannot be used: wrong type or shape, or scales without values.
    #[error("tensor {name}: {reason}")]
    Tensor {
        /// The tensor's name in the Burnpack.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A bit width outside 2..=8 was asked for.
    #[error("{0} bits per value is not supported (2 to 8)")]
    Bits(u8),
}

/// Which values share a scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ScaleAxis {
    Row,
    Column,
}

impl ScaleAxis {
    /// The scale that value `i` of a row-major matrix with `cols` columns uses.
    fn scale_of(self, i: usize, cols: usize) -> usize {
        match self {
            ScaleAxis::Row => i / cols,
            ScaleAxis::Column => i % cols,
        }
    }
}

/// True when `bytes` are a Burnpack file (rather than a raw f16 table).
pub fn is_burnpack(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC_NUMBER.to_le_bytes())
}

/// The graph's Burnpack with every f32 matrix quantized to `bits` per output feature. The same weights
/// always give the same bytes (their sha256 names them in caches and manifests), so the random parameter
/// ids of the build's file are left out: loading matches tensors by name.
pub fn quantize_graph(burnpack: &[u8], bits: u8) -> Result<Vec<u8>, WeightsError> {
    let mut out = Vec::new();
    for tensor in read_pack(burnpack.to_vec())? {
        let dims = tensor.shape.to_vec();
        let is_matrix = tensor.dtype == DType::F32 && dims.len() == 2 && dims[0] > 1 && dims[1] > 1;
        if !is_matrix {
            let (name, dtype, shape, _, bytes) = tensor.into_parts().map_err(|e| WeightsError::Unreadable(e.to_string()))?;
            out.push(PackTensor::new(name, dtype, shape, None, bytes));
            continue;
        }
        let values = f32_values(&tensor)?;
        out.extend(quantized_tensors(&tensor.name, &values, [dims[0], dims[1]], ScaleAxis::Column, bits)?);
    }
    write_pack(out, bits)
}

/// The `[vocab, hidden]` f16 table, quantized to `bits` per row, as a Burnpack.
pub fn quantize_table(f16_table: &[u8], vocab: usize, hidden: usize, bits: u8) -> Result<Vec<u8>, WeightsError> {
    let values = f16_table_values(f16_table, vocab, hidden)?;
    write_pack(Vec::from(quantized_tensors(TABLE_NAME, &values, [vocab, hidden], ScaleAxis::Row, bits)?), bits)
}

/// A graph's weights as tensors burn applies to the graph: quantized pairs turned back into f32, every
/// other tensor as it is. Takes the bytes over, so that reading them copies nothing.
pub fn graph_tensors(burnpack: Vec<u8>) -> Result<Vec<PackTensor>, WeightsError> {
    dequantized(read_pack(burnpack)?)
}

/// The word-embedding table's values, row-major `[vocab, hidden]`, from either of its stored forms: a
/// quantized Burnpack or raw little-endian f16.
pub fn table_values(bytes: &[u8], vocab: usize, hidden: usize) -> Result<Vec<f32>, WeightsError> {
    if !is_burnpack(bytes) {
        return f16_table_values(bytes, vocab, hidden);
    }
    let mut tensors = dequantized(read_pack(bytes.to_vec())?)?;
    match tensors.pop() {
        Some(table) if tensors.is_empty() && table.name == TABLE_NAME && table.shape.to_vec() == [vocab, hidden] => f32_values(&table),
        _ => Err(WeightsError::Tensor { name: TABLE_NAME.into(), reason: format!("the file does not hold one {vocab} x {hidden} table") }),
    }
}

/// Every tensor but the scales, each i8 one with scales turned back into f32.
fn dequantized(tensors: Vec<PackTensor>) -> Result<Vec<PackTensor>, WeightsError> {
    let (scales, values): (Vec<_>, Vec<_>) = tensors.into_iter().partition(|t| t.name.ends_with(SCALE_SUFFIX));
    let mut scales: std::collections::HashMap<String, PackTensor> =
        scales.into_iter().map(|t| (t.name.trim_end_matches(SCALE_SUFFIX).to_owned(), t)).collect();
    let mut out = Vec::with_capacity(values.len());
    for tensor in values {
        let error = |reason: String| WeightsError::Tensor { name: tensor.name.clone(), reason };
        match (tensor.dtype, scales.remove(&tensor.name)) {
            (DType::I8, Some(scale)) => {
                let dims = tensor.shape.to_vec();
                let [rows, cols] = dims[..] else { return Err(error(format!("quantized with shape {dims:?}"))) };
                let axis = match scale.shape.to_vec()[..] {
                    [r, 1] if r == rows => ScaleAxis::Row,
                    [1, c] if c == cols => ScaleAxis::Column,
                    ref other => return Err(error(format!("scales of shape {other:?} for {rows} x {cols} values"))),
                };
                let q = tensor.to_bytes().map_err(|e| error(e.to_string()))?;
                if q.len() != rows * cols {
                    return Err(error(format!("{} values for shape {dims:?}", q.len())));
                }
                let values = dequantize(&q, &f32_values(&scale)?, cols, axis);
                let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
                out.push(PackTensor::new(tensor.name, DType::F32, dims, tensor.param_id, Bytes::from_bytes_vec(bytes)));
            }
            (DType::I8, None) => return Err(error("I8 values without scales".into())),
            (dtype, Some(_)) => return Err(error(format!("{dtype:?} values with scales"))),
            (_, None) => out.push(tensor),
        }
    }
    if let Some(name) = scales.into_keys().next() {
        return Err(WeightsError::Tensor { name, reason: "scales without values".into() });
    }
    Ok(out)
}

fn quantized_tensors(name: &str, values: &[f32], [rows, cols]: [usize; 2], axis: ScaleAxis, bits: u8) -> Result<[PackTensor; 2], WeightsError> {
    if !(2..=8).contains(&bits) {
        return Err(WeightsError::Bits(bits));
    }
    let (q, scales) = quantize(values, cols, axis, bits);
    let scale_shape = match axis {
        ScaleAxis::Row => [rows, 1],
        ScaleAxis::Column => [1, cols],
    };
    let q_bytes = q.iter().map(|&v| v as u8).collect();
    let scale_bytes = scales.iter().flat_map(|s| s.to_le_bytes()).collect();
    Ok([
        PackTensor::new(name.to_owned(), DType::I8, [rows, cols], None, Bytes::from_bytes_vec(q_bytes)),
        PackTensor::new(format!("{name}{SCALE_SUFFIX}"), DType::F32, scale_shape, None, Bytes::from_bytes_vec(scale_bytes)),
    ])
}

/// Row-major `values` with `cols` columns -> (values in `±(2^(bits-1) - 1)`, one scale per row or column).
fn quantize(values: &[f32], cols: usize, axis: ScaleAxis, bits: u8) -> (Vec<i8>, Vec<f32>) {
    let group = |i: usize| axis.scale_of(i, cols);
    let groups = match axis {
        ScaleAxis::Row => values.len() / cols,
        ScaleAxis::Column => cols,
    };
    let q_max = ((1i32 << (bits - 1)) - 1) as f32;
    let mut scales = vec![0f32; groups];
    for (i, v) in values.iter().enumerate() {
        scales[group(i)] = scales[group(i)].max(v.abs());
    }
    for s in &mut scales {
        // An all-zero group keeps scale 1: its values quantize to 0 either way.
        *s = if *s > 0.0 { *s / q_max } else { 1.0 };
    }
    let q = values.iter().enumerate().map(|(i, v)| (v / scales[group(i)]).round().clamp(-q_max, q_max) as i8).collect();
    (q, scales)
}

fn dequantize(q: &[u8], scales: &[f32], cols: usize, axis: ScaleAxis) -> Vec<f32> {
    q.iter().enumerate().map(|(i, &v)| v as i8 as f32 * scales[axis.scale_of(i, cols)]).collect()
}

fn read_pack(bytes: Vec<u8>) -> Result<Vec<PackTensor>, WeightsError> {
    Reader::from_bytes(Bytes::from_bytes_vec(bytes)).and_then(Reader::into_tensors).map_err(|e| WeightsError::Unreadable(e.to_string()))
}

fn write_pack(tensors: Vec<PackTensor>, bits: u8) -> Result<Vec<u8>, WeightsError> {
    Writer::new(tensors)
        .with_metadata("gradlens.quantization", &format!("{bits}-bit symmetric, one f32 scale per output feature or row"))
        .into_bytes()
        .map(|b| b.to_vec())
        .map_err(|e| WeightsError::Unreadable(e.to_string()))
}

fn f16_table_values(bytes: &[u8], vocab: usize, hidden: usize) -> Result<Vec<f32>, WeightsError> {
    if bytes.len() != vocab * hidden * 2 {
        return Err(WeightsError::Tensor {
            name: TABLE_NAME.into(),
            reason: format!("{} bytes, expected {} ({vocab} x {hidden} f16)", bytes.len(), vocab * hidden * 2),
        });
    }
    Ok(bytes.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect())
}

fn f32_values(tensor: &PackTensor) -> Result<Vec<f32>, WeightsError> {
    let error = |reason: String| WeightsError::Tensor { name: tensor.name.clone(), reason };
    if tensor.dtype != DType::F32 {
        return Err(error(format!("{:?}, expected f32", tensor.dtype)));
    }
    let bytes = tensor.to_bytes().map_err(|e| error(e.to_string()))?;
    Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}
