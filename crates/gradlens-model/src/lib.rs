//! A text classifier imported from ONNX, ready for attribution: text -> [`EncodedText`] (tokenizers, with
//! word ids and offsets) -> word embeddings -> the graph with its probes -> logits, attentions and hidden
//! states, on any burn [`Device`](burn::prelude::Device), with or without autodiff.
//!
//! Nothing here reads files: a [`ModelAssets`] holds the bytes, so the browser can fetch them and native
//! programs can read them from disk.

pub mod assets;
mod classifier;
mod config;
pub mod site;
mod text;
pub mod weights;

pub use assets::ModelAssets;
pub use classifier::{Batch, Classifier, LoadError, Probes};
pub use config::{ModelConfig, SpecialTokens};
pub use gradlens_graph::{GraphInputs, GraphKind, GraphOutputs};
pub use text::{EncodedText, TextEncoder, TextError};
pub use weights::{Quantization, WeightsError};
