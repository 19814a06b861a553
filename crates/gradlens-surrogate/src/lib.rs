//! A global surrogate of a classifier (CREMBO / MEMO, Armstrong & Gilad-Bachrach, AAAI 2021): a
//! small decision tree over word-presence features, fitted to the model's **beliefs** rather than to
//! its hard labels. At a threshold `d`, text `i` may be given any class in
//! `Y_i(d) = {c : p_ic >= d} ∪ {argmax_c p_ic}` (the argmax keeps the set non-empty above the largest
//! belief), so low thresholds leave the tree free where the model is unsure.
//!
//! - **MEMO** binary-searches the largest `d` for which the greedy depth-limited tree is consistent
//!   with every training `Y_i(d)`.
//! - **CREMBO** scans thresholds from MEMO's `d` up to 1 (where every set is the argmax alone) and
//!   keeps the tree whose predictions agree best with the model's argmax on validation texts.
//!
//! The tree learner is greedy (CART-like) with set-valued labels: a leaf predicts the class that the
//! most of its texts' sets contain, and a split is taken only if it lowers the number of texts whose
//! set misses their leaf's class.

use serde::{Deserialize, Serialize};

/// Texts as the sorted indices of the features (words) they contain, with the model's class beliefs.
#[derive(Clone, Debug, Default)]
pub struct Corpus {
    /// Per text, the sorted indices of the features it contains.
    pub rows: Vec<Vec<usize>>,
    /// Per text, the model's class probabilities, in label order.
    pub beliefs: Vec<Vec<f32>>,
}

impl Corpus {
    /// Number of texts.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no texts.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The model's class for each text.
    pub fn argmax(&self) -> Vec<usize> {
        self.beliefs.iter().map(|p| argmax(p)).collect()
    }

    /// `Y_i(d)` for every text, as class membership flags.
    pub fn label_sets(&self, threshold: f32) -> Vec<Vec<bool>> {
        self.beliefs
            .iter()
            .map(|p| {
                let top = argmax(p);
                p.iter().enumerate().map(|(c, &v)| v >= threshold || c == top).collect()
            })
            .collect()
    }
}

fn argmax(values: &[f32]) -> usize {
    values.iter().enumerate().fold(0, |best, (i, &v)| if v > values[best] { i } else { best })
}

/// A decision tree over feature presence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "node", rename_all = "snake_case")]
pub enum Tree {
    /// A leaf: every text that reaches it gets `class`.
    Leaf {
        /// The class predicted.
        class: usize,
        /// Training texts that reach this node.
        samples: usize,
    },
    /// A test on one feature: texts without it go to `absent`, texts with it to `present`.
    Split {
        /// Index of the feature tested.
        feature: usize,
        /// Training texts that reach this node.
        samples: usize,
        /// The subtree for texts without the feature.
        absent: Box<Tree>,
        /// The subtree for texts with the feature.
        present: Box<Tree>,
    },
}

impl Tree {
    /// The greedy tree of depth at most `max_depth` for texts `rows` with label sets `sets`.
    pub fn fit(rows: &[Vec<usize>], sets: &[Vec<bool>], features: usize, max_depth: usize) -> Tree {
        let all: Vec<usize> = (0..rows.len()).collect();
        grow(rows, sets, &all, features, max_depth)
    }

    /// The class for a text with the (sorted) features `row`.
    pub fn predict(&self, row: &[usize]) -> usize {
        match self {
            Tree::Leaf { class, .. } => *class,
            Tree::Split { feature, absent, present, .. } => {
                if row.binary_search(feature).is_ok() {
                    present.predict(row)
                } else {
                    absent.predict(row)
                }
            }
        }
    }

    /// Splits on the longest root-to-leaf path (0 for a single leaf).
    pub fn depth(&self) -> usize {
        match self {
            Tree::Leaf { .. } => 0,
            Tree::Split { absent, present, .. } => 1 + absent.depth().max(present.depth()),
        }
    }

    /// Number of leaves.
    pub fn leaves(&self) -> usize {
        match self {
            Tree::Leaf { .. } => 1,
            Tree::Split { absent, present, .. } => absent.leaves() + present.leaves(),
        }
    }

    /// How many texts' label sets miss the class the tree gives them.
    pub fn violations(&self, rows: &[Vec<usize>], sets: &[Vec<bool>]) -> usize {
        rows.iter().zip(sets).filter(|(row, set)| !set[self.predict(row)]).count()
    }

    /// The share of `corpus` on which the tree gives the model's own class.
    pub fn fidelity(&self, corpus: &Corpus) -> f32 {
        let agree = corpus.rows.iter().zip(corpus.argmax()).filter(|(row, class)| self.predict(row) == *class).count();
        agree as f32 / corpus.len().max(1) as f32
    }
}

/// Per class, how many of the texts `idx` have it in their set; the best class and its count.
fn leaf(sets: &[Vec<bool>], idx: &[usize]) -> (usize, usize) {
    let classes = sets.first().map_or(1, Vec::len);
    let mut counts = vec![0usize; classes];
    for &i in idx {
        for (c, &member) in sets[i].iter().enumerate() {
            counts[c] += usize::from(member);
        }
    }
    counts.iter().enumerate().fold((0, 0), |best, (c, &n)| if n > best.1 { (c, n) } else { best })
}

fn grow(rows: &[Vec<usize>], sets: &[Vec<bool>], idx: &[usize], features: usize, depth: usize) -> Tree {
    let n = idx.len();
    let (class, satisfied) = leaf(sets, idx);
    let errors = n - satisfied;
    if depth == 0 || errors == 0 {
        return Tree::Leaf { class, samples: n };
    }
    // Per feature, how many texts have it and, per class, how many of those have the class in their set.
    let classes = sets[0].len();
    let mut with = vec![0usize; features];
    let mut with_class = vec![0usize; features * classes];
    let mut all_class = vec![0usize; classes];
    for &i in idx {
        for (c, &member) in sets[i].iter().enumerate() {
            all_class[c] += usize::from(member);
        }
        for &f in &rows[i] {
            with[f] += 1;
            for (c, &member) in sets[i].iter().enumerate() {
                with_class[f * classes + c] += usize::from(member);
            }
        }
    }
    let split_errors = |f: usize| {
        let present = &with_class[f * classes..(f + 1) * classes];
        let best_present = present.iter().copied().max().unwrap_or(0);
        let best_absent = (0..classes).map(|c| all_class[c] - present[c]).max().unwrap_or(0);
        (with[f] - best_present) + (n - with[f] - best_absent)
    };
    let best = (0..features).filter(|&f| with[f] > 0 && with[f] < n).map(|f| (split_errors(f), f)).min();
    match best {
        Some((split, feature)) if split < errors => {
            let (present, absent): (Vec<usize>, Vec<usize>) = idx.iter().partition(|&&i| rows[i].binary_search(&feature).is_ok());
            Tree::Split {
                feature,
                samples: n,
                absent: Box::new(grow(rows, sets, &absent, features, depth - 1)),
                present: Box::new(grow(rows, sets, &present, features, depth - 1)),
            }
        }
        _ => Tree::Leaf { class, samples: n },
    }
}

/// MEMO: the largest threshold (to `1e-4`) at which the depth-limited tree is consistent with every
/// training text's label set. At 0 every set holds every class, so some threshold always qualifies.
pub fn memo(train: &Corpus, features: usize, max_depth: usize) -> f32 {
    let consistent = |d: f32| Tree::fit(&train.rows, &train.label_sets(d), features, max_depth).violations(&train.rows, &train.label_sets(d)) == 0;
    let (mut lo, mut hi) = (0.0f32, 1.0f32);
    if consistent(hi) {
        return hi;
    }
    while hi - lo > 1e-4 {
        let mid = 0.5 * (lo + hi);
        if consistent(mid) { lo = mid } else { hi = mid }
    }
    lo
}

/// What CREMBO found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Surrogate {
    /// The tree fitted at `threshold`.
    pub tree: Tree,
    /// The threshold whose tree agreed best with the model on the validation texts.
    pub threshold: f32,
    /// MEMO's threshold, where the scan started.
    pub memo_threshold: f32,
    /// Share of the validation texts on which `tree` gives the model's class.
    pub validation_fidelity: f32,
    /// Every threshold tried, with its tree's validation fidelity.
    pub scan: Vec<(f32, f32)>,
}

/// CREMBO: trees at `steps + 1` thresholds from MEMO's up to 1; the one with the best validation
/// fidelity (the lowest threshold among equals).
pub fn crembo(train: &Corpus, validation: &Corpus, features: usize, max_depth: usize, steps: usize) -> Surrogate {
    let start = memo(train, features, max_depth);
    let mut best: Option<(Tree, f32, f32)> = None;
    let mut scan = Vec::new();
    for k in 0..=steps {
        let d = start + (1.0 - start) * k as f32 / steps.max(1) as f32;
        let tree = Tree::fit(&train.rows, &train.label_sets(d), features, max_depth);
        let fidelity = tree.fidelity(validation);
        scan.push((d, fidelity));
        if best.as_ref().is_none_or(|(_, _, f)| fidelity > *f) {
            best = Some((tree, d, fidelity));
        }
    }
    let (tree, threshold, validation_fidelity) = best.expect("at least one threshold");
    Surrogate { tree, threshold, memo_threshold: start, validation_fidelity, scan }
}

/// The tree fitted to the model's hard labels (every set the argmax alone): what CREMBO is compared with.
pub fn argmax_tree(train: &Corpus, features: usize, max_depth: usize) -> Tree {
    let sets: Vec<Vec<bool>> = train.argmax().iter().map(|&top| (0..train.beliefs[0].len()).map(|c| c == top).collect()).collect();
    Tree::fit(&train.rows, &sets, features, max_depth)
}

/// What `gradlens surrogate` writes (`surrogate.json`) and the page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The model's name in its `config.json`.
    pub model: String,
    /// Class names, in logit order.
    pub labels: Vec<String>,
    /// Texts per split: `train`, `validation`, `test`.
    pub texts: std::collections::BTreeMap<String, usize>,
    /// The depth limit both trees were fitted with.
    pub max_depth: usize,
    /// Feature names, by index.
    pub features: Vec<String>,
    /// The CREMBO tree, fitted to the model's beliefs.
    pub crembo: TreeReport,
    /// The tree fitted to the model's hard labels, for comparison.
    pub argmax_tree: TreeReport,
}

/// One surrogate tree with its size and fidelity to the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TreeReport {
    /// The tree; its features index `Report::features`.
    pub tree: Tree,
    /// The tree's depth ([`Tree::depth`]).
    pub depth: usize,
    /// Number of leaves.
    pub leaves: usize,
    /// Share of the validation texts on which the tree gives the model's class.
    pub validation_fidelity: f32,
    /// Share of the test texts on which the tree gives the model's class.
    pub test_fidelity: f32,
    /// CREMBO only: its threshold, MEMO's, and every threshold tried with its validation fidelity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f32>,
    /// CREMBO only: MEMO's threshold, where the scan started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memo_threshold: Option<f32>,
    /// CREMBO only: every threshold tried, with its tree's validation fidelity.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scan: Vec<(f32, f32)>,
}

impl TreeReport {
    /// `tree`'s numbers on `validation` and `test`.
    pub fn of(tree: Tree, validation: &Corpus, test: &Corpus) -> Self {
        Self {
            depth: tree.depth(),
            leaves: tree.leaves(),
            validation_fidelity: tree.fidelity(validation),
            test_fidelity: tree.fidelity(test),
            tree,
            threshold: None,
            memo_threshold: None,
            scan: Vec::new(),
        }
    }

    /// CREMBO's tree with its numbers on `validation` and `test`, and its thresholds and scan.
    pub fn of_crembo(surrogate: Surrogate, validation: &Corpus, test: &Corpus) -> Self {
        Self {
            threshold: Some(surrogate.threshold),
            memo_threshold: Some(surrogate.memo_threshold),
            scan: surrogate.scan,
            ..Self::of(surrogate.tree, validation, test)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feature 0 decides the class; feature 1 is noise.
    fn corpus(beliefs: &[[f32; 2]], rows: &[&[usize]]) -> Corpus {
        Corpus { rows: rows.iter().map(|r| r.to_vec()).collect(), beliefs: beliefs.iter().map(|b| b.to_vec()).collect() }
    }

    #[test]
    fn a_split_is_taken_where_it_removes_violations() {
        let c = corpus(&[[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.8]], &[&[1], &[], &[0], &[0, 1]]);
        let tree = Tree::fit(&c.rows, &c.label_sets(1.0), 2, 3);
        assert_eq!(
            tree,
            Tree::Split {
                feature: 0,
                samples: 4,
                absent: Box::new(Tree::Leaf { class: 0, samples: 2 }),
                present: Box::new(Tree::Leaf { class: 1, samples: 2 }),
            }
        );
        assert_eq!(tree.fidelity(&c), 1.0);
        assert_eq!(tree.predict(&[0, 1]), 1);
    }

    #[test]
    fn label_sets_hold_every_class_at_or_above_the_threshold_and_the_argmax() {
        let c = corpus(&[[0.55, 0.45], [0.1, 0.9]], &[&[], &[]]);
        assert_eq!(c.label_sets(0.4), vec![vec![true, true], vec![false, true]]);
        assert_eq!(c.label_sets(0.99), vec![vec![true, false], vec![false, true]]);
    }

    #[test]
    fn memo_finds_the_largest_consistent_threshold() {
        // Texts 0-2 share their features; the model calls text 2 positive with belief 0.6. A depth-0 tree
        // (one leaf, class 0) is consistent exactly when text 2's set holds class 0: d <= 0.4. Deeper
        // trees cannot separate identical rows either.
        let c = corpus(&[[0.9, 0.1], [0.8, 0.2], [0.4, 0.6]], &[&[0], &[0], &[0]]);
        for depth in [0, 2] {
            let d = memo(&c, 1, depth);
            assert!((d - 0.4).abs() < 2e-4, "depth {depth}: {d}");
        }
        // With a feature that tells text 2 apart, depth 1 is consistent at every threshold.
        let separable = corpus(&[[0.9, 0.1], [0.8, 0.2], [0.4, 0.6]], &[&[0], &[0], &[0, 1]]);
        assert_eq!(memo(&separable, 2, 1), 1.0);
    }

    #[test]
    fn crembo_keeps_the_threshold_with_the_best_validation_fidelity() {
        let train = corpus(&[[0.9, 0.1], [0.8, 0.2], [0.45, 0.55], [0.2, 0.8]], &[&[], &[], &[0], &[0, 1]]);
        let validation = corpus(&[[0.9, 0.1], [0.3, 0.7]], &[&[], &[0]]);
        let s = crembo(&train, &validation, 2, 1, 4);
        assert_eq!(s.scan.len(), 5);
        assert_eq!(s.validation_fidelity, s.scan.iter().map(|&(_, f)| f).fold(0.0, f32::max));
        assert_eq!(s.validation_fidelity, 1.0);
        assert_eq!(s.tree.predict(&[0]), 1);
        assert!(s.threshold >= s.memo_threshold);
        assert_eq!(argmax_tree(&train, 2, 1).fidelity(&validation), 1.0);
    }
}
