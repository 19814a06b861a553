//! The files that make a model ([`ModelAssets`]) and their names in a model folder.

use crate::ModelConfig;
use crate::weights::{self, WeightsError};

/// The four files that make a model, as bytes.
#[derive(Clone)]
pub struct ModelAssets {
    /// `config.json`.
    pub config: Vec<u8>,
    /// The model's `tokenizer.json` (Hugging Face tokenizers format).
    pub tokenizer: Vec<u8>,
    /// The word-embedding table, `vocab_size x hidden_size` row-major: little-endian f16, or quantized in
    /// a Burnpack ([`crate::weights`]).
    pub word_embeddings: Vec<u8>,
    /// The graph's weights (Burnpack, f32 or quantized).
    pub weights: Vec<u8>,
    /// Optional: `surrogate.json`, the global surrogate tree that `gradlens surrogate` made for the
    /// model; the page shows it.
    pub surrogate: Option<Vec<u8>>,
}

impl std::fmt::Debug for ModelAssets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelAssets")
            .field("config", &self.config.len())
            .field("tokenizer", &self.tokenizer.len())
            .field("word_embeddings", &self.word_embeddings.len())
            .field("weights", &self.weights.len())
            .field("surrogate", &self.surrogate.as_ref().map(Vec::len))
            .finish()
    }
}

impl ModelAssets {
    /// The four files with their names in a model folder (the table's name says how it is stored).
    pub fn files(&self) -> [(&'static str, &[u8]); 4] {
        let table = if weights::is_burnpack(&self.word_embeddings) { WORD_EMBEDDINGS_PACK_FILE } else { WORD_EMBEDDINGS_FILE };
        [(CONFIG_FILE, &self.config), (TOKENIZER_FILE, &self.tokenizer), (table, &self.word_embeddings), (WEIGHTS_FILE, &self.weights)]
    }

    /// The files as a site serves them: quantized as config.json's `quantization` says (unchanged
    /// without it). The page and the command line explain these same weights.
    pub fn for_site(self) -> Result<Self, WeightsError> {
        let config: ModelConfig = serde_json::from_slice(&self.config).map_err(|e| WeightsError::Unreadable(format!("config.json: {e}")))?;
        let Some(q) = config.quantization else { return Ok(self) };
        let word_embeddings = if weights::is_burnpack(&self.word_embeddings) {
            self.word_embeddings
        } else {
            weights::quantize_table(&self.word_embeddings, config.vocab_size, config.hidden_size, q.table_bits)?
        };
        let weights = weights::quantize_graph(&self.weights, q.graph_bits)?;
        Ok(Self { word_embeddings, weights, ..self })
    }
}

/// File names inside a model folder (`models/<name>/`) and a deployed site's model folder.
pub const CONFIG_FILE: &str = "config.json";
/// The tokenizer, Hugging Face `tokenizer.json` format.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// The word-embedding table as little-endian f16, as a model folder holds it.
pub const WORD_EMBEDDINGS_FILE: &str = "word_embeddings.f16";
/// The table quantized ([`crate::weights`]), as a site ships it.
pub const WORD_EMBEDDINGS_PACK_FILE: &str = "word_embeddings.bpk";
/// The graph's weights (Burnpack).
pub const WEIGHTS_FILE: &str = "classifier.bpk";
/// The optional global surrogate tree (`gradlens surrogate`).
pub const SURROGATE_FILE: &str = "surrogate.json";

#[cfg(not(target_family = "wasm"))]
impl ModelAssets {
    /// Reads a model folder holding the four files.
    pub fn from_dir(dir: impl AsRef<std::path::Path>) -> std::io::Result<Self> {
        let dir = dir.as_ref();
        let read = |path: &std::path::Path| std::fs::read(path).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())));
        Ok(Self {
            config: read(&dir.join(CONFIG_FILE))?,
            tokenizer: read(&dir.join(TOKENIZER_FILE))?,
            word_embeddings: match read(&dir.join(WORD_EMBEDDINGS_PACK_FILE)) {
                Ok(bytes) => bytes,
                Err(_) => read(&dir.join(WORD_EMBEDDINGS_FILE))?,
            },
            weights: read(&dir.join(WEIGHTS_FILE))?,
            surrogate: std::fs::read(dir.join(SURROGATE_FILE)).ok(),
        })
    }

    /// The model a graph of this build was generated from, with the f32 weights that build.rs wrote:
    /// what the onnxruntime / PyTorch references were computed from ([`gradlens_graph::GraphKind::files`]).
    pub fn full_precision(kind: gradlens_graph::GraphKind) -> std::io::Result<Self> {
        let files = kind.files()?;
        Ok(Self {
            config: files.config,
            tokenizer: files.tokenizer,
            word_embeddings: files.word_embeddings,
            weights: files.weights,
            surrogate: files.surrogate,
        })
    }

    /// The model of this build as its site serves it ([`ModelAssets::for_site`]).
    pub fn shipped(kind: gradlens_graph::GraphKind) -> std::io::Result<Self> {
        Self::full_precision(kind)?.for_site().map_err(std::io::Error::other)
    }
}
