//! `gradlens bench`: wall-clock timings, printed as JSON lines for tools/benchmark.py to compare with
//! its PyTorch + Captum peer on the same model and texts.

use pollster::FutureExt as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use gradlens_attribution::pipeline::{attribute, unexplained};
use gradlens_attribution::{ExplainedInput, Method, Target};
use serde_json::json;

use crate::load_model;

#[derive(Parser)]
pub struct BenchArgs {
    /// JSONL texts (objects with a "text" field) to explain with each method.
    #[arg(long)]
    texts: Option<PathBuf>,
    /// Methods to time.
    #[arg(short, long, value_delimiter = ',', default_values = ["saliency", "gradient_x_input", "integrated_gradients"])]
    method: Vec<String>,
    /// Forward-pass shapes to time, as BATCHxTOKENS.
    #[arg(long, value_delimiter = ',')]
    forward: Vec<String>,
    /// Timed repetitions (after one untimed warm-up).
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    #[arg(long, default_value = gradlens_model::GraphKind::Site.name())]
    model: String,
}

pub fn run(args: BenchArgs) -> Result<()> {
    let model = load_model(&args.model)?;
    for shape in &args.forward {
        let (b, s) = shape
            .split_once('x')
            .and_then(|(b, s)| Some((b.parse::<usize>().ok()?, s.parse::<usize>().ok()?)))
            .with_context(|| format!("'{shape}' is not BATCHxTOKENS"))?;
        let ids = vec![vec![model.config().special_tokens.unk; s]; b];
        let refs: Vec<&[u32]> = ids.iter().map(Vec::as_slice).collect();
        let batch = model.batch(&refs);
        let forward = || {
            let out = model.forward_batch(&batch);
            out.logits.into_data();
        };
        let forward_backward = || {
            let embeddings = model.embed(batch.ids.clone()).detach().require_grad();
            let out = model.forward(embeddings.clone(), batch.mask.clone(), model.neutral_probes(b, s));
            let grads = out.logits.sum().backward();
            embeddings.grad(&grads).expect("a gradient").into_data();
        };
        println!("{}", json!({"case": format!("forward {shape}"), "seconds": time(args.repeat, forward)}));
        println!("{}", json!({"case": format!("forward+backward {shape}"), "seconds": time(args.repeat, forward_backward)}));
    }
    if let Some(path) = &args.texts {
        let texts: Vec<String> = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| Ok(serde_json::from_str::<serde_json::Value>(l)?["text"].as_str().context("a \"text\" field")?.to_owned()))
            .collect::<Result<_>>()?;
        for name in &args.method {
            let method = Method::by_name(name)?;
            // As `explain` runs it: one thread per core, each its share of the method's batches.
            let seconds = crate::cores::in_team(crate::cores::count(), |_, team| -> Result<f64> {
                let inputs: Vec<ExplainedInput> = texts
                    .iter()
                    .map(|t| Ok(ExplainedInput { team: team.clone(), ..ExplainedInput::new(&model, t, Target::Predicted).block_on()? }))
                    .collect::<Result<_>>()?;
                let run_all = || {
                    for input in &inputs {
                        attribute(input, &unexplained(input), &method).block_on().expect("the CPU does not fail");
                    }
                };
                Ok(time(args.repeat, run_all) / texts.len() as f64)
            })?;
            println!("{}", json!({"case": name, "seconds_per_text": seconds, "texts": texts.len(), "threads": crate::cores::count()}));
        }
    }
    Ok(())
}

/// Median seconds of `repeat` runs after one warm-up.
fn time(repeat: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut runs: Vec<f64> = (0..repeat.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[runs.len() / 2]
}
