//! `gradlens`: explain a classifier's predictions from the command line.

mod bench;
mod cores;
mod eval;
mod quantization;
mod shard;
mod surrogate;
mod terminal;

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use clap::{Parser, Subcommand, ValueEnum};
use gradlens_attribution::metrics::{Metric, PerturbationOptions};
use gradlens_attribution::{Baseline, Hooks, IntegrationRule, Method, MethodOptions, NoHooks, Request, Stage, Stopped, Target};
use gradlens_model::{Classifier, GraphKind, ModelAssets};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser)]
#[command(name = "gradlens", version, about = "Explain a text classifier's predictions")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Explain one text, or every line of a JSONL file.
    Explain(ExplainArgs),
    /// List the attribution methods and their default settings.
    Methods,
    /// Time methods on a set of texts, and the bare forward / forward+backward pass (JSON lines out;
    /// tools/benchmark.py runs it beside PyTorch + Captum and prints the ratios).
    Bench(bench::BenchArgs),
    /// Faithfulness of methods over a labelled dataset: a table of metrics, curves, resumable.
    Eval(eval::EvalArgs),
    /// The table of a whole dataset from the folders of its parts (`eval --shard K/N`).
    EvalMerge(eval::MergeArgs),
    /// A small decision tree over word presence that stands in for the model (MEMO / CREMBO), with its
    /// fidelity on held-out text.
    Surrogate(surrogate::SurrogateArgs),
    /// What the site's quantized weights cost against full precision: accuracy, predictions kept, and
    /// the cosine of the word scores of IG, Gradient x Input and Grad-SAM.
    Quantization(quantization::QuantizationArgs),
}

#[derive(Parser)]
struct ExplainArgs {
    /// The text to explain; `-` or nothing reads standard input.
    text: Option<String>,
    /// Read the text from this file.
    #[arg(long, conflicts_with = "text")]
    file: Option<PathBuf>,
    /// Explain every line of this JSONL file (objects with a "text" field, and an "id"); writes JSONL, each
    /// explanation with its row's "id" (the line number, `line-N`, for a row without one).
    #[arg(long, conflicts_with_all = ["text", "file"])]
    jsonl: Option<PathBuf>,
    /// With --jsonl: only part K of N (from 0), chosen by row id; the parts' outputs together are the
    /// whole file's (in any order: each line carries its id).
    #[arg(long, requires = "jsonl", value_name = "K/N")]
    shard: Option<shard::Shard>,
    /// Methods to run (see `gradlens methods`); repeat or separate with commas.
    #[arg(short, long, value_delimiter = ',', default_values = ["integrated_gradients"])]
    method: Vec<String>,
    /// Class to explain, by name or index; default: the predicted class.
    #[arg(long)]
    target: Option<String>,
    /// Integration steps (integrated_gradients) or anchors per path (dig, udig); refused for other methods.
    #[arg(long)]
    steps: Option<usize>,
    /// Noise samples (smooth_grad), coalitions (lime, kernel_shap), permutations (shapley_sampling) or
    /// background texts (representation); refused for other methods.
    #[arg(long)]
    samples: Option<usize>,
    /// Integration rule (integrated_gradients); refused for other methods.
    #[arg(long, value_enum)]
    rule: Option<IntegrationRule>,
    /// Reference input (integrated_gradients, dig, udig, occlusion, lime, kernel_shap,
    /// shapley_sampling); refused for other methods.
    #[arg(long, value_enum)]
    baseline: Option<Baseline>,
    /// Also compute every faithfulness metric of every method (values and curves go into the JSON).
    #[arg(long)]
    metrics: bool,
    /// Points of the deletion and insertion curves: take the top 0, 1/N, ..., N/N of the tokens instead
    /// of one token at a time (what the page does, with 10; bounds the cost of a long text).
    #[arg(long, requires = "metrics", value_parser = clap::value_parser!(u16).range(1..))]
    curve_intervals: Option<u16>,
    /// The site model (`default`, or the one GRADLENS_MODEL_DIR named at build time), `tiny`, or a model
    /// folder (config.json, tokenizer.json, word_embeddings.f16, classifier.bpk).
    #[arg(long, default_value = gradlens_model::GraphKind::Site.name())]
    model: String,
    #[arg(long, value_enum, default_value_t = Format::Terminal)]
    format: Format,
    /// Write here instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Words coloured by score, in the terminal.
    Terminal,
    /// The explanation object (schema: README).
    Json,
    /// A self-contained HTML page.
    Html,
    /// HTML fragments to paste into a post: one `<figure>` per method, inline styles, no scripts.
    HtmlFragment,
    /// One SVG image of every method's highlights.
    Svg,
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("gradlens: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Methods => {
            for method in Method::all_defaults() {
                println!("{:<28} {}", method.name(), serde_json::to_string(&method)?);
            }
            Ok(())
        }
        Command::Explain(args) => explain_command(args),
        Command::Bench(args) => bench::run(args),
        Command::Eval(args) => eval::run(args),
        Command::EvalMerge(args) => eval::merge(args),
        Command::Surrogate(args) => surrogate::run(args),
        Command::Quantization(args) => quantization::run(args),
    }
}

/// The files of the model called `name` (a graph of this build, as its site ships it) or in the folder `name`.
pub fn model_assets(name: &str) -> Result<ModelAssets> {
    match GraphKind::ALL.into_iter().find(|k| k.name() == name) {
        Some(kind) => ModelAssets::shipped(kind),
        None => ModelAssets::from_dir(name),
    }
    .with_context(|| format!("cannot read model '{name}'"))
}

pub fn load_model(name: &str) -> Result<Classifier> {
    load_assets(name, &model_assets(name)?)
}

pub fn load_assets(name: &str, assets: &ModelAssets) -> Result<Classifier> {
    Classifier::load(assets, &Device::flex().autodiff()).with_context(|| format!("cannot load model '{name}'"))
}

/// The methods asked for, each with the options given; an option a method does not take is an error.
fn methods(args: &ExplainArgs) -> Result<Vec<Method>> {
    let options = MethodOptions { steps: args.steps, samples: args.samples, rule: args.rule, baseline: args.baseline };
    Ok(args.method.iter().map(|name| Method::by_name(name)?.with_options(&options)).collect::<Result<_, _>>()?)
}

fn target(model: &Classifier, arg: &Option<String>) -> Result<Target> {
    Ok(arg.as_deref().map(|label| Target::parse(label, &model.config().labels)).transpose()?.unwrap_or_default())
}

fn read_text(args: &ExplainArgs) -> Result<String> {
    if let Some(path) = &args.file {
        return std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()));
    }
    match args.text.as_deref() {
        Some("-") | None => {
            if std::io::stdin().is_terminal() {
                bail!("give a text, --file or --jsonl, or pipe text in");
            }
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).context("cannot read standard input")?;
            Ok(text)
        }
        Some(text) => Ok(text.to_owned()),
    }
}

fn explain_command(args: ExplainArgs) -> Result<()> {
    let methods = methods(&args)?;
    let model = load_model(&args.model)?;
    let request = Request {
        target: target(&model, &args.target)?,
        metrics: if args.metrics { Metric::all_defaults() } else { Vec::new() },
        perturbation: PerturbationOptions { curve_intervals: args.curve_intervals.map(usize::from), ..PerturbationOptions::default() },
        ..Request::new(String::new(), methods)
    };
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    if let Some(path) = &args.jsonl {
        return explain_jsonl(&model, path, args.shard, &request, &mut out);
    }
    let request = Request { text: read_text(&args)?, ..request };
    let spinner = std::io::stderr().is_terminal().then(ProgressBar::new_spinner);
    let explanation = cores::explain(&model, &request, Spinner(spinner.as_ref()))?;
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    if explanation.truncated {
        eprintln!("gradlens: the text is longer than the model's {} tokens; only its beginning was explained", model.config().max_len);
    }
    if let Some(warning) = explanation.unknown_warning() {
        eprintln!("gradlens: {warning}");
    }
    match args.format {
        Format::Json => writeln!(out, "{}", explanation.to_json())?,
        Format::Html => out.write_all(gradlens_render::html::document(&explanation).as_bytes())?,
        Format::HtmlFragment => {
            for attribution in &explanation.attributions {
                writeln!(out, "{}", gradlens_render::html::fragment(&explanation, attribution))?;
            }
        }
        Format::Svg => writeln!(out, "{}", gradlens_render::highlight::svg(&explanation))?,
        Format::Terminal => {
            let color = args.output.is_none() && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            out.write_all(terminal::render(&explanation, color).as_bytes())?
        }
    }
    Ok(())
}

/// The pipeline's stages on a spinner, when standard error is a terminal.
struct Spinner<'a>(Option<&'a ProgressBar>);

impl Hooks for Spinner<'_> {
    async fn before(&mut self, stage: &Stage) -> Result<(), Stopped> {
        if let Some(s) = self.0 {
            s.set_message(format!("{stage} ..."));
            s.enable_steady_tick(std::time::Duration::from_millis(120));
        }
        Ok(())
    }
}

/// Streams the file: one row in memory at a time, whatever its length (a first pass counts the rows for
/// the progress bar).
fn explain_jsonl(model: &Classifier, path: &PathBuf, shard: Option<shard::Shard>, request: &Request, out: &mut dyn Write) -> Result<()> {
    let open = || -> Result<_> {
        let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(std::io::BufReader::new(file).lines())
    };
    let bar = ProgressBar::new(open()?.count() as u64)
        .with_style(ProgressStyle::with_template("{bar:40} {pos}/{len} rows, {elapsed} (eta {eta})").expect("a valid template"));
    for (n, line) in open()?.enumerate() {
        bar.inc(1);
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        // A bad row is reported and skipped: the rest of the batch still runs.
        let row = match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(row) => row,
            Err(e) => {
                bar.suspend(|| eprintln!("{}:{}: skipped: not JSON: {e}", path.display(), n + 1));
                continue;
            }
        };
        let id = shard::row_id(&row, n);
        if shard.is_some_and(|s| !s.contains(&id)) {
            continue;
        }
        let explained = row["text"].as_str().context("no \"text\" field").and_then(|text| {
            let request = Request { text: text.to_owned(), ..request.clone() };
            Ok(cores::explain(model, &request, NoHooks)?)
        });
        match explained {
            Ok(explanation) => {
                let mut line = serde_json::to_value(&explanation)?;
                line["id"] = id.into();
                writeln!(out, "{line}")?;
            }
            Err(e) => bar.suspend(|| eprintln!("{}:{}: skipped: {e:#}", path.display(), n + 1)),
        }
    }
    bar.finish_and_clear();
    Ok(())
}
