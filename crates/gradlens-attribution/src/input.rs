//! One text prepared for attribution, and the forward/backward passes every method is built from.

use burn::prelude::*;
use burn::tensor::activation::softmax;
use gradlens_model::{Classifier, EncodedText, Probes};

use crate::batching::Team;

/// Which class to explain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The class the model predicts for the text.
    #[default]
    Predicted,
    /// A class chosen by its index.
    Class(usize),
}

impl Target {
    /// The class called `label`, or numbered `label` (from 0), among the model's `labels`: how the
    /// command line, the page and the widget name a class.
    pub fn parse(label: &str, labels: &[String]) -> Result<Target, InputError> {
        labels
            .iter()
            .position(|l| l == label)
            .or_else(|| label.parse().ok().filter(|&i: &usize| i < labels.len()))
            .map(Target::Class)
            .ok_or_else(|| InputError::NoSuchLabel { label: label.to_owned(), labels: labels.join(", ") })
    }
}

/// A text ready to be explained: its encoding, embeddings `[1, S, H]` and the model's prediction.
pub struct ExplainedInput<'m> {
    /// The model that explains the text.
    pub model: &'m Classifier,
    /// The text's tokens and their alignment to its words.
    pub encoded: EncodedText,
    /// `[1, S, H]` word embeddings of the text (no autodiff history).
    pub embeddings: Tensor<3>,
    /// `[1, S]` all ones.
    pub mask: Tensor<2>,
    /// The model's class probabilities on the text, in label order.
    pub probabilities: Vec<f32>,
    /// The class explained.
    pub target: usize,
    /// Who runs the batches of this text's methods and metrics: this program alone, or a team of
    /// workers that split them.
    pub team: Team,
}

/// Gradients of the target logit w.r.t. the probes, at the input itself.
pub struct ProbeGradients {
    /// `[L, 1, N, S, S]`: `A (*) dF/dA` at gate = 1.
    pub attention_gate: Tensor<5>,
    /// `[L, 1, S, H]`: dF/d(output of each layer).
    pub hidden_probe: Tensor<4>,
    /// `[L + 1, 1, S, H]` hidden states: the embedding output, then each layer's.
    pub hidden_states: Tensor<4>,
}

impl ProbeGradients {
    /// Encoder layer `l`'s (0-based) output hidden states and the target's gradient w.r.t. them, `[S, H]` each.
    pub fn layer(&self, l: usize) -> (Tensor<2>, Tensor<2>) {
        let [_, _, s, h] = self.hidden_probe.dims();
        (self.hidden_states.clone().narrow(0, l + 1, 1).reshape([s, h]), self.hidden_probe.clone().narrow(0, l, 1).reshape([s, h]))
    }
}

/// Why a text could not be prepared for attribution.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The text could not be encoded.
    #[error(transparent)]
    Text(#[from] gradlens_model::TextError),
    /// The device failed while the prediction was read back.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// The target class index is out of range.
    #[error("class {class} does not exist: the model has {classes} classes ({labels})")]
    NoSuchClass {
        /// The index asked for.
        class: usize,
        /// How many classes the model has.
        classes: usize,
        /// The model's class names, comma-separated.
        labels: String,
    },
    /// No class has the given name or index.
    #[error("no class called '{label}': the model's classes are {labels}")]
    NoSuchLabel {
        /// The name asked for.
        label: String,
        /// The model's class names, comma-separated.
        labels: String,
    },
}

impl<'m> ExplainedInput<'m> {
    /// Encodes `text`, runs the model once and resolves the target class. The model must live on an
    /// autodiff device for the gradient methods.
    pub async fn new(model: &'m Classifier, text: &str, target: Target) -> Result<Self, InputError> {
        let encoded = model.encode(text)?;
        let batch = model.batch(&[&encoded.ids]);
        let embeddings = model.embed(batch.ids.clone()).detach();
        let logits = model.forward(embeddings.clone(), batch.mask.clone(), model.neutral_probes(1, encoded.len())).logits;
        let probabilities = read(softmax(logits.detach(), 1)).await?;
        let labels = &model.config().labels;
        let target = match target {
            Target::Predicted => argmax(&probabilities),
            Target::Class(class) if class < labels.len() => class,
            Target::Class(class) => {
                return Err(InputError::NoSuchClass { class, classes: labels.len(), labels: labels.join(", ") });
            }
        };
        Ok(Self { model, encoded, embeddings, mask: batch.mask, probabilities, target, team: Team::alone() })
    }

    /// Number of tokens `S`, special tokens included.
    pub fn len(&self) -> usize {
        self.encoded.len()
    }

    /// Whether the text has no tokens.
    pub fn is_empty(&self) -> bool {
        self.encoded.is_empty()
    }

    /// The positions of the word tokens (every token but [CLS], [SEP] and the like), in order.
    pub fn word_positions(&self) -> Vec<usize> {
        (0..self.len()).filter(|&i| !self.encoded.is_special(i)).collect()
    }

    /// The device the model runs on.
    pub fn device(&self) -> &Device {
        self.model.device()
    }

    /// `[B, S]` mask for `batch` copies of the text.
    pub fn mask(&self, batch: usize) -> Tensor<2> {
        self.mask.clone().repeat_dim(0, batch)
    }

    /// The target logit at each of the `[B, S, H]` points, without gradients.
    pub fn target_logits(&self, embeddings: Tensor<3>) -> Tensor<1> {
        let [b, s, _] = embeddings.dims();
        let logits = self.model.forward(embeddings.detach(), self.mask(b), self.model.neutral_probes(b, s)).logits;
        self.target_column(logits).detach()
    }

    /// The target-class probability at each of the `[B, S, H]` points with their `[B, S]` masks.
    pub async fn target_probabilities(&self, embeddings: Tensor<3>, mask: Tensor<2>) -> Result<Vec<f32>, DeviceError> {
        let [b, s, _] = embeddings.dims();
        let logits = self.model.forward(embeddings.detach(), mask, self.model.neutral_probes(b, s)).logits;
        read(self.target_column(softmax(logits.detach(), 1))).await
    }

    /// The forward outputs (attentions, hidden states) at the input itself, without gradients.
    pub fn outputs(&self) -> gradlens_model::GraphOutputs {
        let s = self.len();
        self.model.forward(self.embeddings.clone(), self.mask.clone(), self.model.neutral_probes(1, s))
    }

    /// The gradients of each point's target logit w.r.t. its embeddings, `[B, S, H]` for `[B, S, H]`
    /// points: one forward and one backward pass, the probes untracked (cheaper than [`Self::gradients`]).
    pub fn embedding_gradients(&self, embeddings: Tensor<3>) -> Tensor<3> {
        let [b, s, _] = embeddings.dims();
        let embeddings = embeddings.detach().require_grad();
        let out = self.model.forward(embeddings.clone(), self.mask(b), self.model.neutral_probes(b, s));
        let grads = self.target_column(out.logits).sum().backward();
        embeddings.grad(&grads).expect("embeddings take part in the forward pass")
    }

    /// One forward and one backward pass at the input: the gradients of the target logit w.r.t. the
    /// attention gate and the hidden-state probe (burn gives gradients of inputs only; these two inputs
    /// turn d/d(attention) and d/d(hidden state) into input gradients).
    pub fn probe_gradients(&self) -> ProbeGradients {
        let neutral = self.model.neutral_probes(1, self.len());
        let probes = Probes { attention_gate: neutral.attention_gate.require_grad(), hidden_probe: neutral.hidden_probe.require_grad() };
        let out = self.model.forward(self.embeddings.clone(), self.mask.clone(), probes.clone());
        let grads = self.target_column(out.logits).sum().backward();
        ProbeGradients {
            attention_gate: probes.attention_gate.grad(&grads).expect("the gate takes part in the forward pass"),
            hidden_probe: probes.hidden_probe.grad(&grads).expect("the probe takes part in the forward pass"),
            hidden_states: out.hidden_states.detach(),
        }
    }

    fn target_column(&self, logits: Tensor<2>) -> Tensor<1> {
        let [b, _] = logits.dims();
        logits.slice([0..b, self.target..self.target + 1]).reshape([b])
    }
}

/// A tensor could not be read back from its device (a lost WebGPU device, say).
#[derive(Debug, thiserror::Error)]
#[error("the {device} device failed: {reason}")]
pub struct DeviceError {
    /// The device, as its `Debug` form writes it.
    pub device: String,
    /// burn's error message.
    pub reason: String,
}

/// Reads a float tensor back to the host. Asynchronous because WebGPU can only read that way; on the
/// CPU the future is ready at once.
pub async fn read<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, DeviceError> {
    let device = format!("{:?}", t.device());
    let data = t.into_data_async().await.map_err(|e| DeviceError { device, reason: e.to_string() })?;
    Ok(data.convert::<f32>().try_into_vec::<f32>().expect("converted to f32"))
}

/// Reads an integer tensor (indices) back to the host.
pub(crate) async fn read_indices<const D: usize>(t: Tensor<D, Int>) -> Result<Vec<usize>, DeviceError> {
    let device = format!("{:?}", t.device());
    let data = t.into_data_async().await.map_err(|e| DeviceError { device, reason: e.to_string() })?;
    Ok(data.convert::<i64>().try_into_vec::<i64>().expect("converted to i64").into_iter().map(|i| i as usize).collect())
}

pub(crate) fn argmax(values: &[f32]) -> usize {
    values.iter().enumerate().fold(0, |best, (i, v)| if *v > values[best] { i } else { best })
}
