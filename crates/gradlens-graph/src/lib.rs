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

#[cfg(feature = "fixtures")]
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
    /// Two layers, hidden size 32: a test fixture (feature `fixtures`).
    #[cfg(feature = "fixtures")]
    Tiny,
}

impl GraphKind {
    #[cfg(feature = "fixtures")]
    pub const ALL: [GraphKind; 2] = [GraphKind::Site, GraphKind::Tiny];
    #[cfg(not(feature = "fixtures"))]
    pub const ALL: [GraphKind; 1] = [GraphKind::Site];

    /// The `name` in the model's config.json.
    pub fn name(self) -> &'static str {
        match self {
            GraphKind::Site => env!("GRADLENS_SITE_MODEL_NAME"),
            #[cfg(feature = "fixtures")]
            GraphKind::Tiny => "tiny",
        }
    }

    /// The files of the model this graph was generated from, in full precision: the site model built
    /// into the program (feature `built-in-site`), or the tiny fixture read from the repository and the
    /// build folder (feature `fixtures`, tests only).
    #[cfg(not(target_family = "wasm"))]
    pub fn files(self) -> std::io::Result<ModelFiles> {
        match self {
            #[cfg(feature = "built-in-site")]
            GraphKind::Site => Ok(built_in_site()),
            #[cfg(not(feature = "built-in-site"))]
            GraphKind::Site => Err(std::io::Error::other("this program was built without its site model (feature built-in-site)")),
            #[cfg(feature = "fixtures")]
            GraphKind::Tiny => fixture::tiny_files(),
        }
    }
}

/// A model folder's files, as bytes.
pub struct ModelFiles {
    pub config: Vec<u8>,
    pub tokenizer: Vec<u8>,
    /// The word-embedding table, f16.
    pub word_embeddings: Vec<u8>,
    /// The graph's weights, f32 Burnpack.
    pub weights: Vec<u8>,
    pub surrogate: Option<Vec<u8>>,
}

/// The site model's files, as this program was built with them.
#[cfg(feature = "built-in-site")]
fn built_in_site() -> ModelFiles {
    // Statics, not consts: the bytes live once in this crate's object code, not in its metadata.
    static CONFIG: &[u8] = include_bytes!(concat!(env!("GRADLENS_SITE_MODEL_DIR"), "/config.json"));
    static TOKENIZER: &[u8] = include_bytes!(concat!(env!("GRADLENS_SITE_MODEL_DIR"), "/tokenizer.json"));
    static WORD_EMBEDDINGS: &[u8] = include_bytes!(concat!(env!("GRADLENS_SITE_MODEL_DIR"), "/word_embeddings.f16"));
    static WEIGHTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/site/classifier.bpk"));
    static SURROGATE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/site/surrogate.json"));
    ModelFiles {
        config: CONFIG.to_vec(),
        tokenizer: TOKENIZER.to_vec(),
        word_embeddings: WORD_EMBEDDINGS.to_vec(),
        weights: WEIGHTS.to_vec(),
        surrogate: (!SURROGATE.is_empty()).then(|| SURROGATE.to_vec()),
    }
}

/// The tiny fixture and its variants: test support.
#[cfg(feature = "fixtures")]
pub mod fixture {
    /// Where build.rs writes the generated code and weights: a shipped program must not read from here.
    pub const BUILD_FOLDER: &str = env!("OUT_DIR");

    /// The tiny fixture's weights, built in: for tests where there is no file system (wasm in a browser).
    #[cfg(feature = "embedded-tiny")]
    pub const TINY_WEIGHTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tiny/classifier.bpk"));

    /// Weights of the tiny graph with its top encoder layer, pooler and classifier re-initialised: the
    /// model-randomisation sanity check (Adebayo et al. 2018) needs a model that differs only there.
    pub const TINY_RANDOMISED_TOP_WEIGHTS_PATH: &str = concat!(env!("OUT_DIR"), "/tiny_randomised_top/randomised_top.bpk");

    #[cfg(not(target_family = "wasm"))]
    pub(crate) fn tiny_files() -> std::io::Result<super::ModelFiles> {
        let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/tiny"));
        let read = |path: &std::path::Path| std::fs::read(path).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())));
        Ok(super::ModelFiles {
            config: read(&dir.join("config.json"))?,
            tokenizer: read(&dir.join("tokenizer.json"))?,
            word_embeddings: read(&dir.join("word_embeddings.f16"))?,
            weights: read(std::path::Path::new(concat!(env!("OUT_DIR"), "/tiny/classifier.bpk")))?,
            surrogate: None,
        })
    }
}

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
    #[cfg(feature = "fixtures")]
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
            #[cfg(feature = "fixtures")]
            GraphKind::Tiny => load!(tiny, Tiny),
        })
    }

    pub fn kind(&self) -> GraphKind {
        match self {
            ClassifierGraph::Site(_) => GraphKind::Site,
            #[cfg(feature = "fixtures")]
            ClassifierGraph::Tiny(_) => GraphKind::Tiny,
        }
    }

    pub fn forward(&self, inputs: GraphInputs) -> GraphOutputs {
        let GraphInputs { embeddings, attention_mask, attention_gate, hidden_probe } = inputs;
        let (logits, attentions, hidden_states) = match self {
            ClassifierGraph::Site(m) => m.forward(embeddings, attention_mask, attention_gate, hidden_probe),
            #[cfg(feature = "fixtures")]
            ClassifierGraph::Tiny(m) => m.forward(embeddings, attention_mask, attention_gate, hidden_probe),
        };
        GraphOutputs { logits, attentions, hidden_states }
    }

    /// Freezes the weights, so that autodiff tracks only the inputs.
    pub fn no_grad(self) -> Self {
        match self {
            ClassifierGraph::Site(m) => ClassifierGraph::Site(m.no_grad()),
            #[cfg(feature = "fixtures")]
            ClassifierGraph::Tiny(m) => ClassifierGraph::Tiny(m.no_grad()),
        }
    }
}
