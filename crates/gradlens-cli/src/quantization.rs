//! `gradlens quantization`: what the site's quantized weights cost against the full-precision ones:
//! test accuracy, predictions kept, and the cosine between the word scores of Integrated Gradients,
//! Gradient x Input and Grad-SAM under both. `--manifest` records the result in the model's manifest,
//! with the sha256 of the weights it measured, so that a test can tell the figures belong to them.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use clap::Parser;
use gradlens_attribution::{Method, NoHooks, Request, Target, explain};
use gradlens_model::{Classifier, GraphKind, ModelAssets, site::sha256_hex};
use indicatif::{ProgressBar, ProgressStyle};
use pollster::FutureExt as _;
use serde::{Deserialize, Serialize};

use crate::eval::{DataRow, read_dataset};

/// The methods whose explanations the quantization must keep.
pub const COMPARED_METHODS: [&str; 3] = ["integrated_gradients", "gradient_x_input", "grad_sam"];

#[derive(Parser)]
pub struct QuantizationArgs {
    /// Labelled texts (JSONL with `text` and `label`).
    #[arg(long, default_value = "data/test.jsonl")]
    data: PathBuf,
    /// Compare explanations on the first N texts.
    #[arg(long, default_value_t = 200)]
    texts: usize,
    /// Measure accuracy on the first N texts (default: all; at least --texts).
    #[arg(long)]
    accuracy_texts: Option<usize>,
    /// Record the result under "quantization" in this manifest.json.
    #[arg(long)]
    manifest: Option<PathBuf>,
}

/// What `gradlens quantization` measures.
#[derive(Debug, Serialize, Deserialize)]
pub struct QuantizationReport {
    pub scheme: gradlens_model::Quantization,
    /// sha256 of the measured (shipped) graph weights and table.
    pub weights_sha256: String,
    pub table_sha256: String,
    pub accuracy: Accuracy,
    /// Per method: the median and 5th percentile of the per-text cosines.
    pub cosine: std::collections::BTreeMap<String, CosineSummary>,
    /// Per text (in data order): the cosine of each method.
    pub per_text: Vec<std::collections::BTreeMap<String, f32>>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Accuracy {
    pub texts: usize,
    pub full_precision: f64,
    pub shipped: f64,
    /// Share of texts whose predicted class is the same under both.
    pub predictions_kept: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct CosineSummary {
    pub texts: usize,
    pub median: f32,
    pub p5: f32,
    pub min: f32,
}

pub fn run(args: QuantizationArgs) -> Result<()> {
    let full_assets = ModelAssets::full_precision(GraphKind::Site)?;
    let shipped_assets = ModelAssets::shipped(GraphKind::Site)?;
    let scheme = serde_json::from_slice::<gradlens_model::ModelConfig>(&shipped_assets.config)?
        .quantization
        .context("the site model's config.json has no \"quantization\": its weights ship as they are")?;
    let device = Device::flex().autodiff();
    let full = Classifier::load(&full_assets, &device)?;
    let shipped = Classifier::load(&shipped_assets, &device)?;

    if args.texts == 0 {
        bail!("--texts must be at least 1");
    }
    let rows = read_dataset(&args.data, args.accuracy_texts.map(|n| n.max(args.texts)))?;
    let bar = ProgressBar::new((2 * rows.len() + args.texts.min(rows.len())) as u64)
        .with_style(ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} (eta {eta})").expect("a template"));
    let full_predictions = predictions(&full, &rows, &bar)?;
    let shipped_predictions = predictions(&shipped, &rows, &bar)?;
    let accuracy = accuracy(&rows, &full_predictions, &shipped_predictions)?;

    let methods: Vec<Method> = COMPARED_METHODS.iter().map(|m| Method::by_name(m).expect("a registered method")).collect();
    let mut per_text = Vec::new();
    for row in rows.iter().take(args.texts) {
        per_text.push(cosines(&full, &shipped, &row.text, &methods).with_context(|| row.id.clone())?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let cosine = COMPARED_METHODS.iter().map(|m| (m.to_string(), summary(per_text.iter().map(|t| t[*m]).collect()))).collect();
    let report = QuantizationReport {
        scheme,
        weights_sha256: sha256_hex(&shipped_assets.weights),
        table_sha256: sha256_hex(&shipped_assets.word_embeddings),
        accuracy,
        cosine,
        per_text,
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    if let Some(path) = &args.manifest {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut manifest: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
        manifest["quantization"] = serde_json::to_value(&report)?;
        std::fs::write(path, serde_json::to_string_pretty(&manifest)? + "\n")?;
    }
    Ok(())
}

/// The predicted class of every row, in batches.
fn predictions(model: &Classifier, rows: &[DataRow], bar: &ProgressBar) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(32) {
        let encoded = chunk.iter().map(|r| model.encode(&r.text).with_context(|| r.id.clone())).collect::<Result<Vec<_>>>()?;
        let ids: Vec<&[u32]> = encoded.iter().map(|e| e.ids.as_slice()).collect();
        let classes = softmax(model.forward_batch(&model.batch(&ids)).logits, 1).argmax(1);
        out.extend(classes.into_data().iter::<i64>().map(|c| c as usize));
        bar.inc(chunk.len() as u64);
    }
    Ok(out)
}

fn accuracy(rows: &[DataRow], full: &[usize], shipped: &[usize]) -> Result<Accuracy> {
    let labels = rows.iter().map(|r| r.label.with_context(|| format!("{}: no \"label\"", r.id))).collect::<Result<Vec<_>>>()?;
    if labels.is_empty() {
        bail!("no texts to measure accuracy on");
    }
    let share = |hits: usize| hits as f64 / labels.len() as f64;
    Ok(Accuracy {
        texts: labels.len(),
        full_precision: share(full.iter().zip(&labels).filter(|(p, l)| p == l).count()),
        shipped: share(shipped.iter().zip(&labels).filter(|(p, l)| p == l).count()),
        predictions_kept: share(full.iter().zip(shipped).filter(|(a, b)| a == b).count()),
    })
}

/// Per method, the cosine between the word scores under both weights, for the class the full-precision
/// model predicts.
fn cosines(full: &Classifier, shipped: &Classifier, text: &str, methods: &[Method]) -> Result<std::collections::BTreeMap<String, f32>> {
    let request = Request::new(text, methods.to_vec());
    let reference = explain(full, &request, &mut NoHooks).block_on()?;
    let target = Target::Class(reference.attributions[0].target);
    let quantized = explain(shipped, &Request { target, ..request }, &mut NoHooks).block_on()?;
    Ok(reference.attributions.iter().zip(&quantized.attributions).map(|(a, b)| (a.method.clone(), cosine(&a.word_scores, &b.word_scores))).collect())
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b)).max(f32::MIN_POSITIVE)
}

fn summary(mut values: Vec<f32>) -> CosineSummary {
    values.sort_by(f32::total_cmp);
    let at = |q: f32| values[((values.len() - 1) as f32 * q).round() as usize];
    CosineSummary { texts: values.len(), median: at(0.5), p5: at(0.05), min: values[0] }
}
