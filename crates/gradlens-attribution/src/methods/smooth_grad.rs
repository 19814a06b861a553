use burn::prelude::*;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{AttributionMethod, Diagnostics, MethodOutput, conventions};
use crate::ExplainedInput;
use crate::input::{DeviceError, read};

/// What SmoothGrad averages over the noisy copies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmoothGradOf {
    /// `sum_d x_{i,d} * mean_k g_k,{i,d}`: signed.
    #[default]
    GradientXInput,
    /// `||mean_k g_k,i||_2`: unsigned.
    Gradient,
}

/// SmoothGrad (Smilkov et al. 2017, "SmoothGrad: removing noise by adding noise", eq. 3): the mean
/// gradient over `samples` copies of the embeddings with Gaussian noise of standard deviation
/// `sigma * (max - min)` of this text's embeddings. Seeded, so a result can be reproduced.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SmoothGrad {
    /// Noisy copies averaged over.
    pub samples: usize,
    /// Noise standard deviation, as a fraction of `max - min` of the text's embeddings.
    pub sigma: f32,
    /// What is read from the mean gradient: gradient x input (signed) or its L2 norm (unsigned).
    pub of: SmoothGradOf,
    /// Seed of the noise.
    pub seed: u64,
    /// Noisy copies per forward/backward pass.
    pub internal_batch_size: usize,
}

impl Default for SmoothGrad {
    fn default() -> Self {
        Self { samples: 20, sigma: 0.15, of: SmoothGradOf::GradientXInput, seed: 0, internal_batch_size: 20 }
    }
}

impl AttributionMethod for SmoothGrad {
    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
        let x = input.embeddings.clone();
        let [_, s, h] = x.dims();
        let values = read(x.clone()).await?;
        let (min, max) = values.iter().fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
        let std = self.sigma * (max - min);
        let normal = Normal::new(0.0f32, std.max(f32::MIN_POSITIVE)).expect("a finite standard deviation");
        let mut rng = rand::rngs::SmallRng::seed_from_u64(self.seed);
        // All the noise first, sample by sample: the same draws whichever batches run here.
        let noise: Vec<Vec<f32>> = (0..self.samples).map(|_| (0..s * h).map(|_| normal.sample(&mut rng)).collect()).collect();
        let gradient_sum = input
            .sum_batches(&noise, self.internal_batch_size, Tensor::<3>::zeros([1, s, h], input.device()), |batch| {
                let c = batch.len();
                let noise = Tensor::<3>::from_data(TensorData::new(batch.concat(), [c, s, h]), input.device());
                input.embedding_gradients(x.clone().repeat_dim(0, c) + noise).sum_dim(0)
            })
            .await?;
        let mean = gradient_sum / self.samples.max(1) as f32;
        let scores = match self.of {
            SmoothGradOf::GradientXInput => (mean * x).sum_dim(2),
            SmoothGradOf::Gradient => mean.powf_scalar(2.0).sum_dim(2).sqrt(),
        };
        Ok(MethodOutput {
            token_scores: read(scores.reshape([s])).await?,
            conventions: conventions(
                input,
                [
                    ("samples", json!(self.samples)),
                    ("sigma", json!(self.sigma)),
                    ("noise_std", json!(std)),
                    ("of", json!(self.of)),
                    ("seed", json!(self.seed)),
                ],
            ),
            diagnostics: Diagnostics::default(),
        })
    }
}
