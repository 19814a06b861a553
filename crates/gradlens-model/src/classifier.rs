use burn::prelude::*;
use gradlens_graph::{ClassifierGraph, GraphInputs, GraphKind, GraphLoadError, GraphOutputs};

use crate::weights::{self, WeightsError};
use crate::{EncodedText, ModelAssets, ModelConfig, TextEncoder, TextError};

/// Why a model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// `config.json` does not parse as a [`ModelConfig`].
    #[error("config.json is invalid: {0}")]
    Config(String),
    /// `config.json`'s `name` is not a graph this build has.
    #[error("config.json names model '{0}', but this build ships only the graphs 'default' and 'tiny'")]
    UnknownGraph(String),
    /// `tokenizer.json` could not be loaded.
    #[error(transparent)]
    Tokenizer(#[from] TextError),
    /// The word-embedding table is unreadable or not `vocab_size x hidden_size`.
    #[error("the word-embedding table is unreadable: {0}")]
    WordEmbeddings(WeightsError),
    /// The graph's weights are not a readable Burnpack, or a tensor in it is unusable.
    #[error("the graph's weights are unreadable: {0}")]
    Weights(WeightsError),
    /// The weights do not fit the graph (a tensor is missing or misshapen).
    #[error(transparent)]
    Graph(#[from] GraphLoadError),
}

/// Token ids of one or more texts, padded to a common length.
#[derive(Clone, Debug)]
pub struct Batch {
    /// `[B, S]` token ids (padding: [PAD]).
    pub ids: Tensor<2, Int>,
    /// `[B, S]`, 1.0 for tokens and 0.0 for padding.
    pub mask: Tensor<2>,
}

/// The probe inputs of one forward pass. Neutral probes (gate 1, probe 0) leave the model unchanged;
/// attribution methods mark them `require_grad` to read d(output)/d(attention) and d(output)/d(hidden).
#[derive(Clone, Debug)]
pub struct Probes {
    /// `[L, B, N, S, S]`, multiplies the attention probabilities.
    pub attention_gate: Tensor<5>,
    /// `[L, B, S, H]`, added to each layer's output.
    pub hidden_probe: Tensor<4>,
}

/// A loaded classifier: tokenizer, word-embedding table and graph, on one device.
pub struct Classifier {
    config: ModelConfig,
    encoder: TextEncoder,
    word_embeddings: Tensor<2>,
    graph: ClassifierGraph,
    device: Device,
}

impl Classifier {
    /// Loads a model on `device` (an autodiff device for gradients). Weights are frozen: autodiff
    /// tracks only the inputs that a method marks.
    pub fn load(assets: &ModelAssets, device: &Device) -> Result<Self, LoadError> {
        let config: ModelConfig = serde_json::from_slice(&assets.config).map_err(|e| LoadError::Config(e.to_string()))?;
        let kind = GraphKind::ALL.into_iter().find(|k| k.name() == config.name).ok_or_else(|| LoadError::UnknownGraph(config.name.clone()))?;
        let encoder = TextEncoder::from_bytes(&assets.tokenizer, config.max_len)?;
        let (vocab, hidden) = (config.vocab_size, config.hidden_size);
        let table = weights::table_values(&assets.word_embeddings, vocab, hidden).map_err(LoadError::WordEmbeddings)?;
        let word_embeddings = Tensor::from_data(TensorData::new(table, [vocab, hidden]), device);
        let graph_weights = weights::graph_tensors(assets.weights.clone()).map_err(LoadError::Weights)?;
        let graph = ClassifierGraph::from_tensors(kind, graph_weights, device)?.no_grad();
        Ok(Self { config, encoder, word_embeddings, graph, device: device.clone() })
    }

    /// The model's `config.json`.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The device the model was loaded on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Tokenizes `text` as the model reads it ([`TextEncoder::encode`]).
    pub fn encode(&self, text: &str) -> Result<EncodedText, TextError> {
        self.encoder.encode(text)
    }

    /// Pads token-id sequences into one batch.
    pub fn batch(&self, sequences: &[&[u32]]) -> Batch {
        let width = sequences.iter().map(|s| s.len()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(sequences.len() * width);
        let mut mask = Vec::with_capacity(sequences.len() * width);
        for seq in sequences {
            ids.extend(seq.iter().map(|&id| id as i64));
            ids.extend(std::iter::repeat_n(self.config.special_tokens.pad as i64, width - seq.len()));
            mask.extend(std::iter::repeat_n(1.0f32, seq.len()));
            mask.extend(std::iter::repeat_n(0.0f32, width - seq.len()));
        }
        let shape = [sequences.len(), width];
        Batch {
            ids: Tensor::from_data(TensorData::new(ids, shape), &self.device),
            mask: Tensor::from_data(TensorData::new(mask, shape), &self.device),
        }
    }

    /// `[B, S]` ids -> `[B, S, H]` word embeddings.
    pub fn embed(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        let [batch, seq] = ids.dims();
        self.word_embeddings.clone().select(0, ids.reshape([batch * seq])).reshape([batch, seq, self.config.hidden_size])
    }

    /// The whole `[V, H]` word-embedding table: discretized paths search it for anchor words.
    pub fn word_embeddings(&self) -> &Tensor<2> {
        &self.word_embeddings
    }

    /// The embedding row of one token id, `[H]`: baselines are built from these.
    pub fn token_embedding(&self, id: u32) -> Tensor<1> {
        self.word_embeddings.clone().slice([id as usize..id as usize + 1]).reshape([self.config.hidden_size])
    }

    /// Probes that leave the model unchanged, for a batch of `batch` x `seq` tokens.
    pub fn neutral_probes(&self, batch: usize, seq: usize) -> Probes {
        let c = &self.config;
        Probes {
            attention_gate: Tensor::ones([c.num_layers, batch, c.num_heads, seq, seq], &self.device),
            hidden_probe: Tensor::zeros([c.num_layers, batch, seq, c.hidden_size], &self.device),
        }
    }

    /// The forward pass from embeddings.
    pub fn forward(&self, embeddings: Tensor<3>, mask: Tensor<2>, probes: Probes) -> GraphOutputs {
        self.graph.forward(GraphInputs { embeddings, attention_mask: mask, attention_gate: probes.attention_gate, hidden_probe: probes.hidden_probe })
    }

    /// Forward pass of a batch of token ids with neutral probes.
    pub fn forward_batch(&self, batch: &Batch) -> GraphOutputs {
        let [b, s] = batch.ids.dims();
        self.forward(self.embed(batch.ids.clone()), batch.mask.clone(), self.neutral_probes(b, s))
    }
}
