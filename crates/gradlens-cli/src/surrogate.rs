//! `gradlens surrogate`: a small decision tree over word presence that stands in for the model
//! globally, fitted to the model's beliefs on the training split by MEMO and CREMBO, with its fidelity
//! on held-out text, compared with a tree fitted to the model's hard labels.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use burn::tensor::activation::softmax;
use clap::Parser;
use gradlens_model::Classifier;
use gradlens_render::tree;
use gradlens_surrogate::{Corpus, Report, TreeReport, argmax_tree, crembo};
use indicatif::{ProgressBar, ProgressStyle};

use crate::eval::read_dataset;
use crate::load_model;

#[derive(Parser)]
pub struct SurrogateArgs {
    /// Texts the tree is fitted on (JSONL with "text").
    #[arg(long, default_value = "data/train.jsonl")]
    train: PathBuf,
    /// Texts CREMBO picks the threshold on.
    #[arg(long, default_value = "data/validation.jsonl")]
    validation: PathBuf,
    /// Held-out texts the fidelity is reported on.
    #[arg(long, default_value = "data/test.jsonl")]
    test: PathBuf,
    /// Use only the first N texts of each file.
    #[arg(long)]
    limit: Option<usize>,
    /// Deepest split of the tree.
    #[arg(long, default_value_t = 4)]
    depth: usize,
    /// Words offered as features: those in the most training texts (at least 3; punctuation is not a word).
    #[arg(long, default_value_t = 1000)]
    words: usize,
    /// Thresholds CREMBO tries between MEMO's and 1.
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Output folder (surrogate.json, tree.svg, argmax_tree.svg).
    #[arg(long, default_value = "target/surrogate")]
    out: PathBuf,
    #[arg(long, default_value = gradlens_model::GraphKind::Site.name())]
    model: String,
}

/// Per text, its distinct lower-cased words (the tokenizer's words) and the model's beliefs.
struct Read {
    words: Vec<BTreeSet<String>>,
    beliefs: Vec<Vec<f32>>,
}

fn read_split(model: &Classifier, path: &PathBuf, limit: Option<usize>, bar: &ProgressBar) -> Result<Read> {
    let texts = read_dataset(path, limit)?;
    let mut read = Read { words: Vec::new(), beliefs: Vec::new() };
    for chunk in texts.chunks(32) {
        let encoded =
            chunk.iter().map(|t| model.encode(&t.text).with_context(|| format!("{}: {}", path.display(), t.id))).collect::<Result<Vec<_>>>()?;
        let ids: Vec<&[u32]> = encoded.iter().map(|e| e.ids.as_slice()).collect();
        let logits = model.forward_batch(&model.batch(&ids)).logits;
        let classes = model.config().labels.len();
        let p: Vec<f32> = softmax(logits, 1).into_data().try_to_vec::<f32>().expect("f32 probabilities");
        read.beliefs.extend(p.chunks(classes).map(<[f32]>::to_vec));
        read.words.extend(encoded.iter().map(|e| e.words.iter().map(|w| w.text.to_lowercase()).collect()));
        bar.inc(chunk.len() as u64);
    }
    Ok(read)
}

pub fn run(args: SurrogateArgs) -> Result<()> {
    let model = load_model(&args.model)?;
    let bar =
        ProgressBar::new_spinner().with_style(ProgressStyle::with_template("{spinner} {pos} texts read by the model {elapsed}").expect("a template"));
    let [train, validation, test] = [&args.train, &args.validation, &args.test].map(|p| read_split(&model, p, args.limit, &bar));
    let (train, validation, test) = (train?, validation?, test?);
    for (read, path) in [(&train, &args.train), (&validation, &args.validation), (&test, &args.test)] {
        if read.beliefs.is_empty() {
            bail!("{} has no texts: the surrogate needs texts to fit, choose and test it on", path.display());
        }
    }
    bar.finish_and_clear();

    // Features: the words in the most training texts.
    let mut document_frequency: HashMap<&str, usize> = HashMap::new();
    for words in &train.words {
        for w in words {
            *document_frequency.entry(w).or_default() += 1;
        }
    }
    let mut features: Vec<(&str, usize)> = document_frequency.into_iter().filter(|&(w, n)| n >= 3 && w.chars().any(char::is_alphanumeric)).collect();
    features.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    features.truncate(args.words);
    let features: Vec<String> = features.into_iter().map(|(w, _)| w.to_owned()).collect();
    let index: HashMap<&str, usize> = features.iter().enumerate().map(|(i, w)| (w.as_str(), i)).collect();
    let corpus = |read: &Read| Corpus {
        rows: read
            .words
            .iter()
            .map(|ws| ws.iter().filter_map(|w| index.get(w.as_str()).copied()).collect::<BTreeSet<_>>().into_iter().collect())
            .collect(),
        beliefs: read.beliefs.clone(),
    };
    let (train, validation, test) = (corpus(&train), corpus(&validation), corpus(&test));

    let labels = model.config().labels.clone();
    let report = Report {
        model: model.config().name.clone(),
        labels: labels.clone(),
        texts: [("train", train.len()), ("validation", validation.len()), ("test", test.len())].map(|(k, n)| (k.to_owned(), n)).into(),
        max_depth: args.depth,
        crembo: TreeReport::of_crembo(crembo(&train, &validation, features.len(), args.depth, args.steps), &validation, &test),
        argmax_tree: TreeReport::of(argmax_tree(&train, features.len(), args.depth), &validation, &test),
        features,
    };
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    std::fs::write(args.out.join("surrogate.json"), serde_json::to_string_pretty(&report)?)?;
    std::fs::write(args.out.join("tree.svg"), tree::svg(&report.crembo.tree, &report.features, &labels))?;
    std::fs::write(args.out.join("argmax_tree.svg"), tree::svg(&report.argmax_tree.tree, &report.features, &labels))?;
    let (c, a) = (&report.crembo, &report.argmax_tree);
    print!("{}", tree::text(&c.tree, &report.features, &labels));
    println!(
        "CREMBO: threshold {:.3} (MEMO {:.3}), depth {}, {} leaves; fidelity to the model: validation {:.3}, test {:.3}",
        c.threshold.unwrap_or_default(),
        c.memo_threshold.unwrap_or_default(),
        c.depth,
        c.leaves,
        c.validation_fidelity,
        c.test_fidelity
    );
    println!(
        "tree fitted to the model's argmax labels: depth {}, {} leaves; fidelity: validation {:.3}, test {:.3}",
        a.depth, a.leaves, a.validation_fidelity, a.test_fidelity
    );
    eprintln!("written to {}", args.out.display());
    Ok(())
}
