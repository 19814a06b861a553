//! `gradlens`: explain a classifier's predictions from the command line.

mod bench;
mod eval;
mod quantization;
mod surrogate;
mod terminal;

use pollster::FutureExt as _;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use clap::{Parser, Subcommand, ValueEnum};
use gradlens_attribution::methods::IntegratedGradients;
use gradlens_attribution::{AttributionMethod, Baseline, ExplainedInput, Explanation, IntegrationRule, Method, Target};
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
    /// Explain every line of this JSONL file (objects with a "text" field); writes JSONL.
    #[arg(long, conflicts_with_all = ["text", "file"])]
    jsonl: Option<PathBuf>,
    /// Methods to run (see `gradlens methods`); repeat or separate with commas.
    #[arg(short, long, value_delimiter = ',', default_values = ["integrated_gradients"])]
    method: Vec<String>,
    /// Class to explain, by name or index; default: the predicted class.
    #[arg(long)]
    target: Option<String>,
    /// Integration steps of path methods.
    #[arg(long)]
    steps: Option<usize>,
    /// Integration rule of path methods.
    #[arg(long, value_enum)]
    rule: Option<Rule>,
    /// Baseline of path and occlusion methods.
    #[arg(long, value_enum)]
    baseline: Option<BaselineArg>,
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

#[derive(Clone, Copy, ValueEnum)]
enum Rule {
    RiemannLeft,
    RiemannRight,
    RiemannMiddle,
    RiemannTrapezoid,
    GaussLegendre,
}

#[derive(Clone, Copy, ValueEnum)]
enum BaselineArg {
    Pad,
    Mask,
    Zero,
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
        Command::Explain(args) => explain(args),
        Command::Bench(args) => bench::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Surrogate(args) => surrogate::run(args),
        Command::Quantization(args) => quantization::run(args),
    }
}

pub fn load_model(name: &str) -> Result<Classifier> {
    let assets = match GraphKind::ALL.into_iter().find(|k| k.name() == name) {
        Some(kind) => ModelAssets::shipped(kind),
        None => ModelAssets::from_dir(name),
    }
    .with_context(|| format!("cannot read model '{name}'"))?;
    Classifier::load(&assets, &Device::flex().autodiff()).with_context(|| format!("cannot load model '{name}'"))
}

fn methods(args: &ExplainArgs) -> Result<Vec<Method>> {
    args.method
        .iter()
        .map(|name| {
            let mut method = Method::by_name(name).with_context(|| {
                let known: Vec<_> = Method::all_defaults().iter().map(|m| m.name()).collect();
                format!("no method called '{name}' (known: {})", known.join(", "))
            })?;
            let rule = args.rule.map(|r| match r {
                Rule::RiemannLeft => IntegrationRule::RiemannLeft,
                Rule::RiemannRight => IntegrationRule::RiemannRight,
                Rule::RiemannMiddle => IntegrationRule::RiemannMiddle,
                Rule::RiemannTrapezoid => IntegrationRule::RiemannTrapezoid,
                Rule::GaussLegendre => IntegrationRule::GaussLegendre,
            });
            let baseline = args.baseline.map(|b| match b {
                BaselineArg::Pad => Baseline::Pad,
                BaselineArg::Mask => Baseline::Mask,
                BaselineArg::Zero => Baseline::Zero,
            });
            match &mut method {
                Method::IntegratedGradients(IntegratedGradients { steps, rule: r, baseline: b, .. }) => {
                    *steps = args.steps.unwrap_or(*steps);
                    *r = rule.unwrap_or(*r);
                    *b = baseline.unwrap_or(*b);
                }
                Method::Occlusion(o) => o.baseline = baseline.unwrap_or(o.baseline),
                Method::SmoothGrad(s) => s.samples = args.steps.unwrap_or(s.samples),
                _ => {}
            }
            Ok(method)
        })
        .collect()
}

fn target(model: &Classifier, arg: &Option<String>) -> Result<Target> {
    let Some(arg) = arg else { return Ok(Target::Predicted) };
    let labels = &model.config().labels;
    if let Some(i) = labels.iter().position(|l| l == arg) {
        return Ok(Target::Class(i));
    }
    match arg.parse::<usize>() {
        Ok(i) if i < labels.len() => Ok(Target::Class(i)),
        _ => bail!("no class '{arg}': the model's classes are {}", labels.join(", ")),
    }
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

fn explain(args: ExplainArgs) -> Result<()> {
    let methods = methods(&args)?;
    let model = load_model(&args.model)?;
    let target = target(&model, &args.target)?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    if let Some(path) = &args.jsonl {
        return explain_jsonl(&model, path, target, &methods, &mut out);
    }
    let text = read_text(&args)?;
    let explanation = explain_one(&model, &text, target, &methods, true)?;
    if explanation.truncated {
        eprintln!("gradlens: the text is longer than the model's {} tokens; only its beginning was explained", model.config().max_len);
    }
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&explanation)?)?,
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

/// Explains one text, with a spinner per method when `progress` is on and stderr is a terminal.
fn explain_one(model: &Classifier, text: &str, target: Target, methods: &[Method], progress: bool) -> Result<Explanation> {
    let input = ExplainedInput::new(model, text, target).block_on()?;
    let mut explanation = Explanation::of(&input);
    let spinner = (progress && std::io::stderr().is_terminal()).then(ProgressBar::new_spinner);
    for method in methods {
        if let Some(s) = &spinner {
            s.set_message(format!("{} ...", method.name()));
            s.enable_steady_tick(std::time::Duration::from_millis(120));
        }
        explanation.add(&input, method).block_on()?;
    }
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    Ok(explanation)
}

fn explain_jsonl(model: &Classifier, path: &PathBuf, target: Target, methods: &[Method], out: &mut dyn Write) -> Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let lines: Vec<String> = std::io::BufReader::new(file).lines().collect::<Result<_, _>>()?;
    let bar = ProgressBar::new(lines.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} texts, {elapsed} (eta {eta})").expect("a valid template"),
    );
    for (n, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        // A bad row is reported and skipped: the rest of the batch still runs.
        let explained = serde_json::from_str::<serde_json::Value>(line)
            .context("not JSON")
            .and_then(|row| row["text"].as_str().map(str::to_owned).context("no \"text\" field"))
            .and_then(|text| explain_one(model, &text, target, methods, false));
        match explained {
            Ok(explanation) => writeln!(out, "{}", serde_json::to_string(&explanation)?)?,
            Err(e) => bar.suspend(|| eprintln!("{}:{}: skipped: {e:#}", path.display(), n + 1)),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(())
}
