/// The four files that make a model, as bytes.
#[derive(Clone)]
pub struct ModelAssets {
    /// `config.json`.
    pub config: Vec<u8>,
    /// The model's `tokenizer.json` (Hugging Face tokenizers format).
    pub tokenizer: Vec<u8>,
    /// The word-embedding table, `vocab_size x hidden_size` little-endian f16, row-major.
    pub word_embeddings: Vec<u8>,
    /// The graph's weights (Burnpack).
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
    /// The four files with their names in a model folder.
    pub fn files(&self) -> [(&'static str, &[u8]); 4] {
        [
            (CONFIG_FILE, &self.config),
            (TOKENIZER_FILE, &self.tokenizer),
            (WORD_EMBEDDINGS_FILE, &self.word_embeddings),
            (WEIGHTS_FILE, &self.weights),
        ]
    }
}

/// File names inside a model folder (`models/<name>/`) and a deployed site's model folder.
pub const CONFIG_FILE: &str = "config.json";
pub const TOKENIZER_FILE: &str = "tokenizer.json";
pub const WORD_EMBEDDINGS_FILE: &str = "word_embeddings.f16";
pub const WEIGHTS_FILE: &str = "classifier.bpk";
pub const SURROGATE_FILE: &str = "surrogate.json";

#[cfg(not(target_family = "wasm"))]
impl ModelAssets {
    /// Reads a model folder holding the four files.
    pub fn from_dir(dir: impl AsRef<std::path::Path>) -> std::io::Result<Self> {
        let dir = dir.as_ref();
        Self::from_paths(dir, &dir.join(WEIGHTS_FILE))
    }

    /// Reads the model a graph of this build was generated from, with the weights that build.rs wrote.
    /// For native tools and tests run from a checkout.
    pub fn shipped(kind: gradlens_graph::GraphKind) -> std::io::Result<Self> {
        Self::from_paths(std::path::Path::new(kind.build_model_dir()), std::path::Path::new(kind.build_weights_path()))
    }

    /// Writes the four files (and the surrogate, if any) into `dir` (created if needed), under the names
    /// [`ModelAssets::from_dir`] reads.
    pub fn write_dir(&self, dir: impl AsRef<std::path::Path>) -> std::io::Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)?;
        for (name, bytes) in self.files() {
            std::fs::write(dir.join(name), bytes)?;
        }
        if let Some(surrogate) = &self.surrogate {
            std::fs::write(dir.join(SURROGATE_FILE), surrogate)?;
        }
        Ok(())
    }

    fn from_paths(dir: &std::path::Path, weights: &std::path::Path) -> std::io::Result<Self> {
        let read = |path: &std::path::Path| {
            std::fs::read(path).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
        };
        Ok(Self {
            config: read(&dir.join(CONFIG_FILE))?,
            tokenizer: read(&dir.join(TOKENIZER_FILE))?,
            word_embeddings: read(&dir.join(WORD_EMBEDDINGS_FILE))?,
            weights: read(weights)?,
            surrogate: std::fs::read(dir.join(SURROGATE_FILE)).ok(),
        })
    }
}
