//! Attribution for text classifiers, written once against burn's tensor API: the same code runs on
//! native CPU, CPU in wasm and WebGPU, on whichever autodiff `Device` the model was loaded.
//!
//! Data flows one way: text -> [`ExplainedInput`] (encoding, embeddings, prediction, target) -> a
//! [`Method`] -> token scores -> [`metrics`] -> [`Explanation`] (the one result type, from
//! `gradlens-explanation`). [`pipeline::explain`] runs that chain for every front end.

mod baseline;
mod batching;
mod input;
mod integration;
pub mod methods;
pub mod metrics;
pub mod pipeline;

pub use baseline::Baseline;
pub use batching::{Swap, Swapped, Team};
pub use gradlens_explanation::{
    Attribution, Completeness, Conventions, CurvePoint, Diagnostics, Explanation, MetricInfo, MetricValue, ModelInfo, Reading, Readings,
    SCHEMA_VERSION, Segment,
};
pub use input::{DeviceError, ExplainedInput, InputError, ProbeGradients, Target, read};
pub use integration::IntegrationRule;
pub use methods::{AttributionMethod, Method, MethodOptions, MethodOutput, OptionError};
pub use pipeline::{Hooks, NoHooks, Request, Stage, Stopped, explain};
