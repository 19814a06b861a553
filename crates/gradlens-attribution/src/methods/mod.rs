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

use gradlens_explanation::{Conventions, Diagnostics};
use serde::Deserializer;

use crate::input::DeviceError;
use crate::{Baseline, ExplainedInput, IntegrationRule};

/// What a method computes for one input: a score per token, its conventions and what it reports about
/// its own result.
#[derive(Clone, Debug)]
pub struct MethodOutput {
    /// One score per token, special tokens included.
    pub token_scores: Vec<f32>,
    /// The settings the scores were computed under.
    pub conventions: Conventions,
    /// What the method reports about its result (completeness, readings, ...).
    pub diagnostics: Diagnostics,
}

/// An attribution method. `attribute` is asynchronous because reading results back from WebGPU is; on
/// the CPU its future is ready as soon as it is polled.
// Front ends run one explanation at a time on one thread (the browser has no other), so the futures
// need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait AttributionMethod {
    /// Scores every token of `input` for its target class.
    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError>;
}

/// The registry: every method, once, with its name, the name readers see, its defaults and the front-end options it takes
/// (`option: field`). It generates [`Method`] (serialisable, tagged by name, so that a request names a
/// method and its settings in one value), [`Method::all_defaults`] in the order front ends list them,
/// the names and the dispatch. Adding a method is one line here.
macro_rules! registry {
    ($( $(#[$attr:meta])* $variant:ident($kind:ty) = $name:literal as $display:literal, $default:expr, { $($option:ident: $field:ident),* }; )*) => {
        /// Every attribution method with its settings, tagged by registry name (`{"method": "dig", "steps": 30, ...}`).
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "method")]
        pub enum Method {
            $( $(#[$attr])* #[serde(rename = $name)] $variant($kind), )*
        }

        impl Method {
            /// Every method with its default options, in the order front ends list them.
            pub fn all_defaults() -> Vec<Method> {
                vec![$(Method::$variant($default)),*]
            }

            /// The registry name (`integrated_gradients`, ...), as in JSON and on the command line.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Method::$variant(_) => $name,)*
                }
            }

            /// The name readers see (`Integrated Gradients`, `Grad-SAM`): page, widget, charts, exports.
            pub fn display_name(&self) -> &'static str {
                match self {
                    $(Method::$variant(_) => $display,)*
                }
            }

            async fn dispatch(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
                match self {
                    $(Method::$variant(m) => m.attribute(input).await,)*
                }
            }

            fn option_fields(&mut self) -> OptionFields<'_> {
                match self {
                    $(#[allow(unused_variables)] Method::$variant(m) => OptionFields { $($option: Some(&mut m.$field),)* ..OptionFields::default() },)*
                }
            }
        }
    };
}

registry! {
    /// Integrated Gradients (Sundararajan et al. 2017).
    IntegratedGradients(IntegratedGradients) = "integrated_gradients" as "Integrated Gradients", IntegratedGradients::default(), { steps: steps, rule: rule, baseline: baseline };
    /// Grad-SAM (Barkan et al. 2021): gradient-weighted self-attention maps.
    GradSam(GradSam) = "grad_sam" as "Grad-SAM", GradSam::default(), {};
    /// Occlusion / leave-one-out: the probability lost when a token is taken out.
    Occlusion(Occlusion) = "occlusion" as "Occlusion", Occlusion::default(), { baseline: baseline };
    /// Saliency (Simonyan et al. 2014): each token's gradient, reduced to one score.
    Saliency(Saliency) = "saliency" as "Saliency", Saliency::default(), {};
    /// Gradient x Input (Shrikumar et al. 2016).
    GradientXInput(GradientXInput) = "gradient_x_input" as "Gradient × Input", GradientXInput, {};
    /// SmoothGrad (Smilkov et al. 2017): gradients averaged over noisy copies.
    SmoothGrad(SmoothGrad) = "smooth_grad" as "SmoothGrad", SmoothGrad::default(), { samples: samples };
    /// GAM for text: positive-gradient x activation of the hidden states, summed over layers.
    Gam(LayerGam) = "gam" as "GAM", LayerGam::default(), {};
    /// The last layer's attention from [CLS], averaged over heads.
    RawAttention(RawAttention) = "raw_attention" as "Raw attention", RawAttention, {};
    /// Attention rollout (Abnar & Zuidema 2020).
    AttentionRollout(AttentionRollout) = "attention_rollout" as "Attention rollout", AttentionRollout, {};
    /// Gradient-weighted attention rollout (Chefer, Gur & Wolf 2021).
    GradientWeightedRollout(GradientWeightedRollout) = "gradient_weighted_rollout" as "Gradient-weighted rollout", GradientWeightedRollout, {};
    /// Discretized Integrated Gradients (Sanyal & Ren 2021): anchors near the current word.
    Dig(DiscretizedIntegratedGradients) = "dig" as "DIG", DiscretizedIntegratedGradients::dig(), { steps: steps, baseline: baseline };
    // Same struct as DIG: its unset fields take UDIG's defaults, not DIG's.
    /// Uniform DIG (Roy & Kundu 2024): anchors near uniform points of the straight path.
    #[serde(deserialize_with = "udig")]
    Udig(DiscretizedIntegratedGradients) = "udig" as "UDIG", DiscretizedIntegratedGradients::udig(), { steps: steps, baseline: baseline };
    /// LIME (Ribeiro, Singh & Guestrin 2016) over word tokens.
    Lime(Lime) = "lime" as "LIME", Lime::default(), { samples: samples, baseline: baseline };
    /// KernelSHAP (Lundberg & Lee 2017) over word tokens.
    KernelShap(KernelShap) = "kernel_shap" as "KernelSHAP", KernelShap::default(), { samples: samples, baseline: baseline };
    /// Shapley value sampling over random permutations of the word tokens.
    ShapleySampling(ShapleySampling) = "shapley_sampling" as "Shapley sampling", ShapleySampling::default(), { samples: permutations, baseline: baseline };
    /// Layer saliency decoded to tokens (after Hou & Castanon 2023), with a coherence score per layer.
    LayerSaliency(LayerSaliency) = "layer_saliency" as "Layer saliency", LayerSaliency::default(), {};
    /// Representation attribution (after Bertolini et al. 2022): expected gradients of the [CLS] representation.
    Representation(RepresentationAttribution) = "representation" as "Representation", RepresentationAttribution::default(), { samples: samples };
}

/// UDIG's settings: the fields given, UDIG's defaults for the rest.
fn udig<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DiscretizedIntegratedGradients, D::Error> {
    use serde::de::Error;
    let given = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
    let mut settings = match serde_json::to_value(DiscretizedIntegratedGradients::udig()) {
        Ok(serde_json::Value::Object(defaults)) => defaults,
        _ => unreachable!("a struct serialises to an object"),
    };
    settings.extend(given);
    serde_json::from_value(serde_json::Value::Object(settings)).map_err(D::Error::custom)
}

impl AttributionMethod for Method {
    async fn attribute(&self, input: &ExplainedInput<'_>) -> Result<MethodOutput, DeviceError> {
        self.dispatch(input).await
    }
}

/// Settings a front end (command line, page) may give any method. Each applies to the methods that
/// have it and is refused for the others, never silently ignored.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MethodOptions {
    /// Integration steps (IG) or anchors per path (DIG, UDIG).
    pub steps: Option<usize>,
    /// Noise samples (SmoothGrad), coalitions (LIME, KernelSHAP), permutations (Shapley sampling) or
    /// background texts (representation).
    pub samples: Option<usize>,
    /// Integration rule (IG).
    pub rule: Option<IntegrationRule>,
    /// Reference input (IG, DIG, UDIG, occlusion, LIME, KernelSHAP, Shapley sampling).
    pub baseline: Option<Baseline>,
}

/// The fields of one method that the options set, where it has them.
#[derive(Default)]
struct OptionFields<'a> {
    steps: Option<&'a mut usize>,
    samples: Option<&'a mut usize>,
    rule: Option<&'a mut IntegrationRule>,
    baseline: Option<&'a mut Baseline>,
}

/// An option that does not fit the method it was given for.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum OptionError {
    /// The method does not have the option.
    #[error("{method} takes no {option} option (it applies to {applies})")]
    DoesNotApply {
        /// The method's registry name.
        method: &'static str,
        /// The option given (`steps`, `samples`, `rule`, `baseline`).
        option: &'static str,
        /// The methods that take the option, comma-separated.
        applies: String,
    },
    /// A count option was set to 0.
    #[error("{option} must be at least 1")]
    Zero {
        /// The option given.
        option: &'static str,
    },
    /// No method has the name.
    #[error("no method called '{name}' (known: {known})")]
    UnknownMethod {
        /// The name asked for.
        name: String,
        /// Every method's registry name, comma-separated.
        known: String,
    },
}

impl Method {
    /// Whether the method takes one forward and one backward pass (at most), whatever its options: the
    /// methods a front end can show first, while the path and perturbation methods run.
    pub fn is_one_pass(&self) -> bool {
        match self {
            Method::Saliency(_)
            | Method::GradientXInput(_)
            | Method::GradSam(_)
            | Method::Gam(_)
            | Method::RawAttention(_)
            | Method::AttentionRollout(_)
            | Method::GradientWeightedRollout(_)
            | Method::LayerSaliency(_) => true,
            Method::IntegratedGradients(_)
            | Method::Occlusion(_)
            | Method::SmoothGrad(_)
            | Method::Dig(_)
            | Method::Udig(_)
            | Method::Lime(_)
            | Method::KernelShap(_)
            | Method::ShapleySampling(_)
            | Method::Representation(_) => false,
        }
    }

    /// The method called `name` with default options.
    pub fn by_name(name: &str) -> Result<Method, OptionError> {
        Self::all_defaults().into_iter().find(|m| m.name() == name).ok_or_else(|| OptionError::UnknownMethod {
            name: name.to_owned(),
            known: Self::all_defaults().iter().map(Method::name).collect::<Vec<_>>().join(", "),
        })
    }

    /// This method with `options` applied; an option it does not take, or a count of zero, is an error.
    pub fn with_options(mut self, options: &MethodOptions) -> Result<Method, OptionError> {
        let name = self.name();
        let fields = self.option_fields();
        let refuse = |option: &'static str| OptionError::DoesNotApply { method: name, option, applies: Self::taking(option) };
        let count = |option: &'static str, value: usize| if value == 0 { Err(OptionError::Zero { option }) } else { Ok(value) };
        match (options.steps, fields.steps) {
            (Some(v), Some(field)) => *field = count("steps", v)?,
            (Some(_), None) => return Err(refuse("steps")),
            _ => {}
        }
        match (options.samples, fields.samples) {
            (Some(v), Some(field)) => *field = count("samples", v)?,
            (Some(_), None) => return Err(refuse("samples")),
            _ => {}
        }
        match (options.rule, fields.rule) {
            (Some(v), Some(field)) => *field = v,
            (Some(_), None) => return Err(refuse("rule")),
            _ => {}
        }
        match (options.baseline, fields.baseline) {
            (Some(v), Some(field)) => *field = v,
            (Some(_), None) => return Err(refuse("baseline")),
            _ => {}
        }
        Ok(self)
    }

    /// The names of the methods that take `option`.
    fn taking(option: &str) -> String {
        let takes = |m: &mut Method| {
            let f = m.option_fields();
            match option {
                "steps" => f.steps.is_some(),
                "samples" => f.samples.is_some(),
                "rule" => f.rule.is_some(),
                _ => f.baseline.is_some(),
            }
        };
        Self::all_defaults().into_iter().filter_map(|mut m| takes(&mut m).then(|| m.name())).collect::<Vec<_>>().join(", ")
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
