//! Attribution methods. Each is a small configurable struct; [`Method`] names them all so that front
//! ends can pick methods by name, and every method reports the conventions it used.

mod attention;
mod discretized;
mod gradient;
mod integrated_gradients;
mod layer_saliency;
mod occlusion;
pub mod perturbation;
pub mod representation;
mod smooth_grad;

use serde::{Deserialize, Serialize};

pub use attention::{AttentionRollout, GradSam, GradSamReading, GradientWeightedRollout, LayerGam, RawAttention};
pub use discretized::{AnchorSearch, AnchorStrategy, DiscretizedIntegratedGradients, Distance};
pub use gradient::{GradientXInput, Saliency, SaliencyNorm};
pub use integrated_gradients::IntegratedGradients;
pub use layer_saliency::LayerSaliency;
pub use occlusion::{Occlusion, OcclusionMode};
pub use perturbation::{KernelShap, Lime, ShapleySampling};
pub use representation::RepresentationAttribution;
pub use smooth_grad::{SmoothGrad, SmoothGradOf};

use crate::explanation::{Completeness, Conventions, Reading};
use crate::ExplainedInput;
use crate::input::DeviceError;

/// What a method computes for one input: a score per token, its conventions and, for path methods,
/// the completeness check.
#[derive(Clone, Debug)]
pub struct MethodOutput {
    pub token_scores: Vec<f32>,
    pub conventions: Conventions,
    pub completeness: Option<Completeness>,
    /// For methods that read several parts of the model: each part's scores (see [`Reading`]).
    pub readings: Vec<Reading>,
}

/// An attribution method. `attribute` is asynchronous because reading results back from WebGPU is; on
/// the CPU its future is ready as soon as it is polled.
// Front ends run one explanation at a time on one thread (the browser has no other), so the futures
// need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait AttributionMethod {
    /// Registry name, as in [`Method::name`].
    fn name(&self) -> &'static str;
    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError>;
}

/// Every method with its options; serialisable so that a request (CLI flags, page state, embed
/// attributes) names a method and its settings in one value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Method {
    Saliency(Saliency),
    GradientXInput(GradientXInput),
    IntegratedGradients(IntegratedGradients),
    SmoothGrad(SmoothGrad),
    GradSam(GradSam),
    Gam(LayerGam),
    RawAttention(RawAttention),
    AttentionRollout(AttentionRollout),
    GradientWeightedRollout(GradientWeightedRollout),
    Occlusion(Occlusion),
    Dig(DiscretizedIntegratedGradients),
    Udig(DiscretizedIntegratedGradients),
    Lime(Lime),
    KernelShap(KernelShap),
    ShapleySampling(ShapleySampling),
    LayerSaliency(LayerSaliency),
    Representation(RepresentationAttribution),
}

impl Method {
    /// Every method with its default options, in the order front ends list them.
    pub fn all_defaults() -> Vec<Method> {
        vec![
            Method::Saliency(Saliency::default()),
            Method::GradientXInput(GradientXInput),
            Method::IntegratedGradients(IntegratedGradients::default()),
            Method::SmoothGrad(SmoothGrad::default()),
            Method::GradSam(GradSam::default()),
            Method::Gam(LayerGam::default()),
            Method::RawAttention(RawAttention),
            Method::AttentionRollout(AttentionRollout),
            Method::GradientWeightedRollout(GradientWeightedRollout),
            Method::Occlusion(Occlusion::default()),
            Method::Dig(DiscretizedIntegratedGradients::dig()),
            Method::Udig(DiscretizedIntegratedGradients::udig()),
            Method::Lime(Lime::default()),
            Method::KernelShap(KernelShap::default()),
            Method::ShapleySampling(ShapleySampling::default()),
            Method::LayerSaliency(LayerSaliency::default()),
            Method::Representation(RepresentationAttribution::default()),
        ]
    }

    /// The method called `name` with default options.
    pub fn by_name(name: &str) -> Option<Method> {
        Self::all_defaults().into_iter().find(|m| m.name() == name)
    }

}

impl AttributionMethod for Method {
    fn name(&self) -> &'static str {
        match self {
            Method::Saliency(m) => m.name(),
            Method::GradientXInput(m) => m.name(),
            Method::IntegratedGradients(m) => m.name(),
            Method::SmoothGrad(m) => m.name(),
            Method::GradSam(m) => m.name(),
            Method::Gam(m) => m.name(),
            Method::RawAttention(m) => m.name(),
            Method::AttentionRollout(m) => m.name(),
            Method::GradientWeightedRollout(m) => m.name(),
            Method::Occlusion(m) => m.name(),
            Method::Dig(m) | Method::Udig(m) => m.name(),
            Method::Lime(m) => m.name(),
            Method::KernelShap(m) => m.name(),
            Method::ShapleySampling(m) => m.name(),
            Method::LayerSaliency(m) => m.name(),
            Method::Representation(m) => m.name(),
        }
    }

    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
        match self {
            Method::Saliency(m) => m.attribute(input).await,
            Method::GradientXInput(m) => m.attribute(input).await,
            Method::IntegratedGradients(m) => m.attribute(input).await,
            Method::SmoothGrad(m) => m.attribute(input).await,
            Method::GradSam(m) => m.attribute(input).await,
            Method::Gam(m) => m.attribute(input).await,
            Method::RawAttention(m) => m.attribute(input).await,
            Method::AttentionRollout(m) => m.attribute(input).await,
            Method::GradientWeightedRollout(m) => m.attribute(input).await,
            Method::Occlusion(m) => m.attribute(input).await,
            Method::Dig(m) | Method::Udig(m) => m.attribute(input).await,
            Method::Lime(m) => m.attribute(input).await,
            Method::KernelShap(m) => m.attribute(input).await,
            Method::ShapleySampling(m) => m.attribute(input).await,
            Method::LayerSaliency(m) => m.attribute(input).await,
            Method::Representation(m) => m.attribute(input).await,
        }
    }
}

/// Conventions shared by every method, plus the method's own.
pub(crate) fn conventions<const N: usize>(input: &ExplainedInput, own: [(&str, serde_json::Value); N]) -> Conventions {
    let mut c = Conventions::new();
    c.insert("target".into(), input.model.config().labels[input.target].clone().into());
    c.insert("normalisation".into(), "none".into());
    for (k, v) in own {
        c.insert(k.into(), v);
    }
    c
}
