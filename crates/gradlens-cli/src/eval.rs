//! `gradlens eval`: methods x faithfulness metrics over a labelled JSONL dataset.
//!
//! Each finished text is appended to `rows.jsonl` in the output folder as soon as it is done, so an
//! interrupted run continues where it stopped and loses no finished row; a later run with more methods
//! computes only the new ones. Every row records what its numbers depend on (the model's name and the
//! sha256 of its weights, the perturbation options, each method's settings): a run whose record differs
//! refuses to add to the folder rather than mix results (inseq merges only when info fields match). The summary (mean and 95%
//! interval per method and metric, time per text) and the mean deletion/insertion curves are written as
//! JSON, Markdown and SVG.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use gradlens_attribution::metrics::{Metric, PerturbationOptions, Removal};
use gradlens_attribution::{Attribution, Hooks, Method, Request, Stage, Stopped, Target};
use gradlens_render::chart::{Curve, Series};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::shard::Shard;
use crate::{load_assets, model_assets};

#[derive(Parser)]
pub struct EvalArgs {
    /// Labelled JSONL (objects with "text", and "id" to resume by; default: the test split).
    #[arg(long, default_value = "data/test.jsonl")]
    data: PathBuf,
    /// Methods to evaluate (default: all).
    #[arg(short, long, value_delimiter = ',')]
    method: Vec<String>,
    /// Evaluate only the first N texts.
    #[arg(long)]
    limit: Option<usize>,
    /// Output folder (rows.jsonl, summary.json, summary.md, curves.json, deletion.svg, insertion.svg).
    #[arg(long, default_value = "target/eval")]
    out: PathBuf,
    /// How comprehensiveness, sufficiency and the curves take tokens out (log-odds always replaces).
    #[arg(long, value_enum, default_value_t = Removal::Delete)]
    removal: Removal,
    /// Only tokens with a positive score count as evidence.
    #[arg(long)]
    positive_only: bool,
    /// Let [CLS] and [SEP] be removed too.
    #[arg(long)]
    include_special_tokens: bool,
    #[arg(long, default_value = gradlens_model::GraphKind::Site.name())]
    model: String,
    /// Only part K of N (from 0), chosen by row id: N processes on N machines split the dataset, each
    /// into its own --out, and `gradlens eval-merge` makes the table of the whole.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
}

#[derive(Parser)]
pub struct MergeArgs {
    /// The output folders of the parts (`eval --shard K/N --out ...`).
    #[arg(required = true)]
    parts: Vec<PathBuf>,
    /// Where the whole's rows and summary go.
    #[arg(long)]
    out: PathBuf,
}

/// What a row's numbers depend on besides the text and the method.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct RunInfo {
    model: String,
    /// sha256 of the weights and the embedding table as explained (the shipped, quantized ones for a
    /// site model).
    weights_sha256: String,
    perturbation: PerturbationOptions,
}

/// One text's results: per method, its time and metric values.
#[derive(Serialize, Deserialize)]
struct Row {
    id: String,
    /// Absent in rows written before it was recorded: such rows are never mixed with new ones.
    info: Option<RunInfo>,
    methods: BTreeMap<String, MethodRow>,
}

/// Kept small (values and curve heights only; conventions go to summary.json once): a row per text.
#[derive(Serialize, Deserialize)]
struct MethodRow {
    /// The method's settings.
    settings: Option<Method>,
    seconds: f64,
    /// Metric values in the order of `Metric::all_defaults`.
    values: Vec<f32>,
    /// `p_y` after removing (inserting) 0, 1, ..., n tokens.
    deletion: Vec<f32>,
    insertion: Vec<f32>,
}

impl MethodRow {
    fn new(method: &Method, attribution: &Attribution) -> Self {
        let curve = |curve: Curve| -> Vec<f32> {
            let points = attribution.metric(curve.metric()).and_then(|v| v.curve.as_ref());
            points.map(|c| c.iter().map(|p| round4(p.probability)).collect()).unwrap_or_default()
        };
        Self {
            settings: Some(method.clone()),
            seconds: attribution.seconds,
            deletion: curve(Curve::Deletion),
            insertion: curve(Curve::Insertion),
            values: attribution.metrics.iter().map(|v| v.value).collect(),
        }
    }

    fn curve(&self, curve: Curve) -> &[f32] {
        match curve {
            Curve::Deletion => &self.deletion,
            Curve::Insertion => &self.insertion,
        }
    }
}

/// Progress of one text on the bar's message.
struct Bar<'a>(&'a ProgressBar);

impl Hooks for Bar<'_> {
    async fn before(&mut self, stage: &Stage) -> Result<(), Stopped> {
        self.0.set_message(stage.to_string());
        Ok(())
    }
}

fn round4(v: f32) -> f32 {
    (v * 1e4).round() / 1e4
}

pub fn run(args: EvalArgs) -> Result<()> {
    let methods: Vec<Method> =
        if args.method.is_empty() { Method::all_defaults() } else { args.method.iter().map(|m| Method::by_name(m)).collect::<Result<_, _>>()? };
    let perturbation = PerturbationOptions {
        removal: args.removal,
        positive_only: args.positive_only,
        include_special_tokens: args.include_special_tokens,
        ..Default::default()
    };
    let metrics = Metric::all_defaults();
    let assets = model_assets(&args.model)?;
    let info = RunInfo {
        model: args.model.clone(),
        weights_sha256: gradlens_model::site::sha256_hex(&[assets.weights.as_slice(), &assets.word_embeddings].concat()),
        perturbation,
    };
    let model = load_assets(&args.model, &assets)?;
    let mut texts = read_dataset(&args.data, args.limit)?;
    if let Some(shard) = args.shard {
        texts.retain(|t| shard.contains(&t.id));
    }
    let method_names: Vec<&str> = methods.iter().map(|m| m.name()).collect();

    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let rows_path = args.out.join("rows.jsonl");
    let mut rows = read_rows(&rows_path)?;
    refuse_to_mix(&rows, &info, &methods, &rows_path)?;
    // Rewrite the file with one complete row per text, so that a line cut off mid-write is not kept.
    let mut file = std::fs::File::create(&rows_path)?;
    for row in &rows {
        writeln!(file, "{}", serde_json::to_string(row)?)?;
    }
    let mut index: HashMap<String, usize> = rows.iter().enumerate().map(|(i, r)| (r.id.clone(), i)).collect();

    // Per text, only the methods it has no result for: adding a method to a finished run computes just that.
    let todo: Vec<(&DataRow, Vec<Method>)> = texts
        .iter()
        .map(|text| {
            let done = index.get(&text.id).map(|&i| &rows[i].methods);
            (text, methods.iter().filter(|m| !done.is_some_and(|d| d.contains_key(m.name()))).cloned().collect::<Vec<_>>())
        })
        .filter(|(_, missing)| !missing.is_empty())
        .collect();
    let bar = ProgressBar::new(texts.len() as u64)
        .with_style(ProgressStyle::with_template("{bar:40} {pos}/{len} texts {elapsed} (eta {eta}) {msg}").expect("a template"));
    bar.set_position((texts.len() - todo.len()) as u64);
    for (DataRow { id, text, .. }, missing) in todo {
        let request = Request { text: text.clone(), target: Target::Predicted, methods: missing, metrics: metrics.clone(), perturbation };
        let explanation = match crate::cores::explain(&model, &request, Bar(&bar)) {
            Ok(explanation) => explanation,
            Err(e) => {
                bar.suspend(|| eprintln!("{id}: skipped: {e}"));
                bar.inc(1);
                continue;
            }
        };
        let i = *index.entry(id.clone()).or_insert_with(|| {
            rows.push(Row { id: id.clone(), info: Some(info.clone()), methods: BTreeMap::new() });
            rows.len() - 1
        });
        for (method, attribution) in request.methods.iter().zip(&explanation.attributions) {
            rows[i].methods.insert(method.name().to_owned(), MethodRow::new(method, attribution));
        }
        // The whole row again: on reading, a text's later line replaces its earlier one.
        writeln!(file, "{}", serde_json::to_string(&rows[i])?)?;
        file.flush()?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    // The table compares methods on the same texts: those of this dataset (and limit) with every method.
    let wanted: HashSet<&str> = texts.iter().map(|t| t.id.as_str()).collect();
    let complete: Vec<&Row> =
        rows.iter().filter(|r| wanted.contains(r.id.as_str()) && method_names.iter().all(|m| r.methods.contains_key(*m))).collect();
    summarise(&args.out, &Origin { data: args.data.clone(), model: args.model.clone() }, &method_names, &metrics, &perturbation, &complete)
}

/// Where a table's rows come from, as summary.json records it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
struct Origin {
    data: PathBuf,
    model: String,
}

/// `gradlens eval-merge`: the rows of several parts in one folder, with the summary a single run over
/// all of them writes. Refuses parts made from another dataset, model, options or method settings, and
/// parts that overlap.
pub fn merge(args: MergeArgs) -> Result<()> {
    let mut origin: Option<Origin> = None;
    let mut rows: Vec<Row> = Vec::new();
    let mut found_in: HashMap<String, &PathBuf> = HashMap::new();
    for part in &args.parts {
        let summary = std::fs::read(part.join("summary.json")).with_context(|| format!("{} is not an eval folder", part.display()))?;
        let theirs: Origin = serde_json::from_slice(&summary).with_context(|| format!("{}/summary.json", part.display()))?;
        match &origin {
            Some(first) if *first != theirs => anyhow::bail!(
                "{} evaluated {} with {}; {} evaluated {} with {}: parts of one run only",
                args.parts[0].display(),
                first.data.display(),
                first.model,
                part.display(),
                theirs.data.display(),
                theirs.model
            ),
            _ => origin = Some(theirs),
        }
        for row in read_rows(&part.join("rows.jsonl"))? {
            if let Some(other) = found_in.insert(row.id.clone(), part) {
                anyhow::bail!("text {} is in {} and in {}: the parts overlap", row.id, other.display(), part.display());
            }
            rows.push(row);
        }
    }
    let first = rows.first().context("the parts hold no rows")?;
    let info = first.info.clone().context("the parts do not record their model and options (an older GradLens)")?;
    // Every method of any part, with its settings, in the registry's order.
    let mut settings: HashMap<String, Method> = HashMap::new();
    for (name, done) in rows.iter().flat_map(|r| &r.methods) {
        if let Some(method) = &done.settings {
            settings.entry(name.clone()).or_insert_with(|| method.clone());
        }
    }
    let methods: Vec<Method> = Method::all_defaults().iter().filter_map(|m| settings.get(m.name()).cloned()).collect();
    refuse_to_mix(&rows, &info, &methods, &args.parts[0])?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut file = std::fs::File::create(args.out.join("rows.jsonl"))?;
    for row in &rows {
        writeln!(file, "{}", serde_json::to_string(row)?)?;
    }
    let method_names: Vec<&str> = methods.iter().map(|m| m.name()).collect();
    let complete: Vec<&Row> = rows.iter().filter(|r| method_names.iter().all(|m| r.methods.contains_key(*m))).collect();
    let origin = origin.expect("at least one part");
    summarise(&args.out, &origin, &method_names, &Metric::all_defaults(), &info.perturbation, &complete)
}

/// Stops before anything is computed when the folder holds rows made with another model, other
/// options or other method settings.
fn refuse_to_mix(rows: &[Row], info: &RunInfo, methods: &[Method], path: &std::path::Path) -> Result<()> {
    let elsewhere = "give another --out, or remove the folder to start again";
    for row in rows {
        match &row.info {
            Some(theirs) if theirs == info => {}
            Some(theirs) => anyhow::bail!(
                "{} holds results made with {} (weights sha256 {}, options {}); this run uses {} (weights sha256 {}, options {}): {elsewhere}",
                path.display(),
                theirs.model,
                &theirs.weights_sha256[..12.min(theirs.weights_sha256.len())],
                serde_json::to_string(&theirs.perturbation)?,
                info.model,
                &info.weights_sha256[..12],
                serde_json::to_string(&info.perturbation)?,
            ),
            None => anyhow::bail!("{} holds results that do not record their model and options (an older GradLens): {elsewhere}", path.display()),
        }
        for method in methods {
            if let Some(done) = row.methods.get(method.name()).filter(|d| d.settings.as_ref() != Some(method)) {
                anyhow::bail!(
                    "{} holds {} results made with the settings {}; this run uses {}: {elsewhere}",
                    path.display(),
                    method.name(),
                    serde_json::to_string(&done.settings)?,
                    serde_json::to_string(method)?
                );
            }
        }
    }
    Ok(())
}

/// One row of a dataset file (JSONL with `text`, optional `id` and `label`).
pub(crate) struct DataRow {
    pub id: String,
    pub text: String,
    pub label: Option<usize>,
}

pub(crate) fn read_dataset(path: &PathBuf, limit: Option<usize>) -> Result<Vec<DataRow>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut rows = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let row: serde_json::Value = serde_json::from_str(&line).with_context(|| format!("{}:{}: not JSON", path.display(), n + 1))?;
        let text = row["text"].as_str().with_context(|| format!("{}:{}: no \"text\" field", path.display(), n + 1))?;
        let id = crate::shard::row_id(&row, n);
        let label = row["label"].as_u64().map(|l| l as usize);
        rows.push(DataRow { id, text: text.to_owned(), label });
    }
    rows.truncate(limit.unwrap_or(usize::MAX));
    Ok(rows)
}

/// Finished rows of earlier runs, one per text (a text's later line replaces its earlier one); a last
/// line cut off by an interruption is dropped.
fn read_rows(path: &PathBuf) -> Result<Vec<Row>> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(Vec::new()) };
    let mut rows: Vec<Row> = Vec::new();
    let mut index = HashMap::new();
    for row in text.lines().filter_map(|l| serde_json::from_str::<Row>(l).ok()) {
        match index.get(&row.id) {
            Some(&i) => rows[i] = row,
            None => {
                index.insert(row.id.clone(), rows.len());
                rows.push(row);
            }
        }
    }
    Ok(rows)
}

/// Mean and half-width of the 95% interval (normal approximation).
fn mean_interval(values: &[f32]) -> (f32, f32) {
    let n = values.len() as f32;
    let mean = values.iter().sum::<f32>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / (n - 1.0).max(1.0);
    (mean, 1.96 * (var / n).sqrt())
}

/// A curve's height at `fraction` of its length, by linear interpolation (points are evenly spaced).
fn at(curve: &[f32], fraction: f32) -> f32 {
    match curve.len() {
        0 => f32::NAN,
        1 => curve[0],
        n => {
            let x = fraction * (n - 1) as f32;
            let i = (x.floor() as usize).min(n - 2);
            curve[i] + (curve[i + 1] - curve[i]) * (x - i as f32)
        }
    }
}

/// The table, curves and charts of `rows`, taken in the order of their ids (so that the parts of a
/// sharded run, merged, sum to the same bits as one run).
fn summarise(
    out: &std::path::Path,
    origin: &Origin,
    methods: &[&str],
    metrics: &[Metric],
    options: &PerturbationOptions,
    rows: &[&Row],
) -> Result<()> {
    let mut rows = rows.to_vec();
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    let grid: Vec<f32> = (0..=20).map(|i| i as f32 / 20.0).collect();
    let mut summary = serde_json::Map::new();
    let mut curves = serde_json::Map::new();
    let infos: Vec<_> = metrics.iter().map(Metric::info).collect();
    let mut table = format!(
        "texts: {}\n\n| method | {} | s/text |\n|---|{}---|\n",
        rows.len(),
        infos.iter().map(|i| format!("{} {}", i.name, if i.lower_is_better { "↓" } else { "↑" })).collect::<Vec<_>>().join(" | "),
        "---|".repeat(infos.len())
    );
    let (mut deletion, mut insertion) = (Vec::new(), Vec::new());
    for method in methods {
        let per_method: Vec<&MethodRow> = rows.iter().filter_map(|r| r.methods.get(*method)).collect();
        if per_method.is_empty() {
            continue;
        }
        let seconds = per_method.iter().map(|r| r.seconds).sum::<f64>() / per_method.len() as f64;
        let mut cells = Vec::new();
        let mut entry = serde_json::Map::new();
        for (k, info) in infos.iter().enumerate() {
            let values: Vec<f32> = per_method.iter().map(|r| r.values[k]).collect();
            let (mean, half) = mean_interval(&values);
            cells.push(format!("{mean:.3} ± {half:.3}"));
            entry.insert(info.name.clone(), serde_json::json!({"mean": mean, "ci95": half, "n": values.len()}));
            if let Some((curve, series)) = match info.name.as_str() {
                "deletion_area" => Some((Curve::Deletion, &mut deletion)),
                "insertion_area" => Some((Curve::Insertion, &mut insertion)),
                _ => None,
            } {
                let mean_curve: Vec<(f32, f32)> =
                    grid.iter().map(|&f| (f, per_method.iter().map(|r| at(r.curve(curve), f)).sum::<f32>() / per_method.len() as f32)).collect();
                curves.insert(format!("{method}.{}", info.name), serde_json::json!(mean_curve));
                series.push(Series { name: (*method).to_owned(), points: mean_curve });
            }
        }
        entry.insert("seconds_per_text".into(), serde_json::json!(seconds));
        summary.insert((*method).to_owned(), entry.into());
        table.push_str(&format!("| {method} | {} | {seconds:.3} |\n", cells.join(" | ")));
    }
    std::fs::write(
        out.join("summary.json"),
        serde_json::to_string_pretty(&serde_json::json!({
            "texts": rows.len(),
            "data": origin.data,
            "model": origin.model,
            "metrics": metrics.iter().zip(&infos).map(|(m, i)| serde_json::json!({"metric": m, "info": i})).collect::<Vec<_>>(),
            "options": options,
            "methods": summary,
        }))?,
    )?;
    std::fs::write(out.join("summary.md"), &table)?;
    std::fs::write(out.join("curves.json"), serde_json::to_string(&curves)?)?;
    std::fs::write(out.join("deletion.svg"), Curve::Deletion.chart(&deletion))?;
    std::fs::write(out.join("insertion.svg"), Curve::Insertion.chart(&insertion))?;
    print!("{table}");
    eprintln!("written to {}", out.display());
    Ok(())
}
