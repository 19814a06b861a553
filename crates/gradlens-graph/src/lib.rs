//! The classifier graphs imported from ONNX by burn-onnx at build time.
//!
//! Each graph takes word embeddings (not token ids), so that gradients with respect to them exist, and
//! exposes the probes the attribution methods need: an all-ones gate multiplying every layer's attention
//! probabilities and an all-zeros probe added to every layer's output (burn gives no gradients of
//! intermediate tensors, only of inputs). Generated code lives here alone so that it is not rebuilt when
//! the rest of the workspace changes.

use burn::prelude::*;
use burn_store::ModuleSnapshot;
use burn_store::burn_pack::Tensor as PackTensor;

#[allow(clippy::all, unused)]
mod site {
    include!(concat!(env!("OUT_DIR"), "/site/classifier.rs"));
}

#[allow(clippy::all, unused)]
mod tiny {
    include!(concat!(env!("OUT_DIR"), "/tiny/classifier.rs"));
}

/// The graph architectures this build ships.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GraphKind {
    /// The model this build serves: `models/default` (all-MiniLM-L6-v2 fine-tuned on Rotten Tomatoes),
    /// or the model folder that `GRADLENS_MODEL_DIR` named at build time.
    Site,
    /// Two layers, hidden size 32: a test fixture.
    Tiny,
}

impl GraphKind {
    pub const ALL: [GraphKind; 2] = [GraphKind::Site, GraphKind::Tiny];

    /// The `name` in the model's config.json.
    pub fn name(self) -> &'static str {
        match self {
            GraphKind::Site => env!("GRADLENS_SITE_MODEL_NAME"),
            GraphKind::Tiny => "tiny",
        }
    }

    /// Where build.rs wrote this graph's Burnpack weights: for native tools and tests only. Shipped
    /// programs get the bytes from elsewhere (a download, an asset folder).
    pub fn build_weights_path(self) -> &'static str {
        match self {
            GraphKind::Site => concat!(env!("OUT_DIR"), "/site/classifier.bpk"),
            GraphKind::Tiny => concat!(env!("OUT_DIR"), "/tiny/classifier.bpk"),
        }
    }

    /// The model folder this graph was generated from (config, tokenizer, embeddings): for native tools
    /// and tests only.
    pub fn build_model_dir(self) -> &'static str {
        match self {
            GraphKind::Site => env!("GRADLENS_SITE_MODEL_DIR"),
            GraphKind::Tiny => concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/tiny"),
        }
    }
}

/// Weights of the tiny graph with its top encoder layer, pooler and classifier re-initialised: the
/// model-randomisation sanity check (Adebayo et al. 2018) needs a model that differs only there.
/// The tiny fixture's weights, built in: for tests where there is no file system (wasm in a browser).
#[cfg(feature = "embedded-tiny")]
pub const TINY_WEIGHTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tiny/classifier.bpk"));

pub const TINY_RANDOMISED_TOP_WEIGHTS_PATH: &str = concat!(env!("OUT_DIR"), "/tiny_randomised_top/randomised_top.bpk");

/// What one forward pass takes. Shapes: `B` batch, `S` tokens, `H` hidden size, `L` layers, `N` heads.
#[derive(Clone, Debug)]
pub struct GraphInputs {
    /// `[B, S, H]` word embeddings (positions and token types are added inside the graph).
    pub embeddings: Tensor<3>,
    /// `[B, S]`, 1.0 for tokens and 0.0 for padding.
    pub attention_mask: Tensor<2>,
    /// `[L, B, N, S, S]`, all ones for the plain model; multiplies the attention probabilities.
    pub attention_gate: Tensor<5>,
    /// `[L, B, S, H]`, all zeros for the plain model; added to each layer's output.
    pub hidden_probe: Tensor<4>,
}

/// What one forward pass returns.
#[derive(Clone, Debug)]
pub struct GraphOutputs {
    /// `[B, C]` class logits.
    pub logits: Tensor<2>,
    /// `[L, B, N, S, S]` attention probabilities (before the gate).
    pub attentions: Tensor<5>,
    /// `[L + 1, B, S, H]`: the embedding output, then every layer's (probed) output.
    pub hidden_states: Tensor<4>,
}

/// Why weights could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum GraphLoadError {
    #[error("the weights do not fit the {kind} graph: {reason}")]
    Mismatch { kind: &'static str, reason: String },
}

/// One imported classifier graph with its weights.
#[derive(Debug)]
pub enum ClassifierGraph {
    Site(site::Model),
    Tiny(tiny::Model),
}

impl ClassifierGraph {
    /// Builds the graph of `kind` on `device` with these weights (a Burnpack's tensors, by name). Every
    /// tensor of the graph must be present with its shape and type: foreign weights are an error, not a
    /// panic.
    pub fn from_tensors(kind: GraphKind, tensors: Vec<PackTensor>, device: &Device) -> Result<Self, GraphLoadError> {
        let name = kind.name();
        macro_rules! load {
            ($module:ident, $variant:ident) => {{
                let mut model = $module::Model::new(device);
                let result = model.apply(tensors, None, None, false);
                if !result.errors.is_empty() || !result.missing.is_empty() || !result.unused.is_empty() {
                    return Err(GraphLoadError::Mismatch { kind: name, reason: result.to_string() });
                }
                ClassifierGraph::$variant(model)
            }};
        }
        Ok(match kind {
            GraphKind::Site => load!(site, Site),
            GraphKind::Tiny => load!(tiny, Tiny),
        })
    }

    pub fn kind(&self) -> GraphKind {
        match self {
            ClassifierGraph::Site(_) => GraphKind::Site,
            ClassifierGraph::Tiny(_) => GraphKind::Tiny,
        }
    }

    pub fn forward(&self, inputs: GraphInputs) -> GraphOutputs {
        let GraphInputs { embeddings, attention_mask, attention_gate, hidden_probe } = inputs;
        let (logits, attentions, hidden_states) = match self {
            ClassifierGraph::Site(m) => m.forward(embeddings, attention_mask, attention_gate, hidden_probe),
            ClassifierGraph::Tiny(m) => m.forward(embeddings, attention_mask, attention_gate, hidden_probe),
        };
        GraphOutputs { logits, attentions, hidden_states }
    }

    /// Freezes the weights, so that autodiff tracks only the inputs.
    pub fn no_grad(self) -> Self {
        match self {
            ClassifierGraph::Site(m) => ClassifierGraph::Site(m.no_grad()),
            ClassifierGraph::Tiny(m) => ClassifierGraph::Tiny(m.no_grad()),
        }
    }
}
