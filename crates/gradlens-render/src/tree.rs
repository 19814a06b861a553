//! A surrogate decision tree as standalone SVG and as text: splits ask whether a word is in the text
//! ("no" to the left, "yes" to the right), leaves give the class and how many training texts reach them.

use gradlens_surrogate::Tree;
use svg::node::element::{Line, Rectangle, Text, Title};
use svg::{Document, Node};

const LEAF_WIDTH: f32 = 110.0;
const LEVEL: f32 = 70.0;
const BOX: (f32, f32) = (100.0, 34.0);

/// `features` names the tree's feature indices, `labels` its classes.
pub fn svg(tree: &Tree, features: &[String], labels: &[String]) -> String {
    let width = LEAF_WIDTH * tree.leaves() as f32 + 20.0;
    let height = LEVEL * tree.depth() as f32 + BOX.1 + 30.0;
    let mut doc = Document::new()
        .set("viewBox", (0, 0, width, height))
        .set("width", width)
        .set("role", "img")
        .set("aria-label", format!("a decision tree of depth {} with {} leaves", tree.depth(), tree.leaves()))
        .set("font-family", "sans-serif")
        .set("font-size", 11)
        .add(Rectangle::new().set("width", width).set("height", height).set("fill", "#fff"));
    let mut next_leaf = 0;
    draw(tree, 0, &mut next_leaf, features, labels, &mut doc);
    doc.to_string()
}

/// Draws `tree` at `depth` and returns its box's centre x; leaves take slots from left to right.
fn draw(tree: &Tree, depth: usize, next_leaf: &mut usize, features: &[String], labels: &[String], doc: &mut Document) -> f32 {
    let y = 10.0 + LEVEL * depth as f32;
    let (x, text, title, fill) = match tree {
        Tree::Leaf { class, samples } => {
            let x = 10.0 + LEAF_WIDTH * (*next_leaf as f32 + 0.5);
            *next_leaf += 1;
            let label = labels.get(*class).cloned().unwrap_or_else(|| class.to_string());
            (x, format!("{label} ({samples})"), format!("{label}: {samples} training texts"), "#eef4fa")
        }
        Tree::Split { feature, samples, absent, present } => {
            let left = draw(absent, depth + 1, next_leaf, features, labels, doc);
            let right = draw(present, depth + 1, next_leaf, features, labels, doc);
            let x = 0.5 * (left + right);
            for (child, answer) in [(left, "no"), (right, "yes")] {
                let child_y = y + LEVEL;
                doc.append(Line::new().set("x1", x).set("y1", y + BOX.1).set("x2", child).set("y2", child_y).set("stroke", "#888"));
                doc.append(
                    Text::new(answer)
                        .set("x", 0.5 * (x + child))
                        .set("y", 0.5 * (y + BOX.1 + child_y))
                        .set("text-anchor", "middle")
                        .set("fill", "#555"),
                );
            }
            let word = features.get(*feature).cloned().unwrap_or_else(|| feature.to_string());
            (x, format!("“{word}”?"), format!("does the text contain “{word}”? ({samples} training texts)"), "#fff")
        }
    };
    doc.append(
        Rectangle::new()
            .set("x", x - BOX.0 / 2.0)
            .set("y", y)
            .set("width", BOX.0)
            .set("height", BOX.1)
            .set("rx", 4)
            .set("fill", fill)
            .set("stroke", "#58616b")
            .add(Title::new(title)),
    );
    doc.append(Text::new(text).set("x", x).set("y", y + BOX.1 / 2.0 + 4.0).set("text-anchor", "middle"));
    x
}

/// The tree as indented text for a terminal: one line per node, "no" branch first.
pub fn text(tree: &Tree, features: &[String], labels: &[String]) -> String {
    fn walk(tree: &Tree, prefix: &str, features: &[String], labels: &[String], out: &mut String) {
        match tree {
            Tree::Leaf { class, samples } => {
                let label = labels.get(*class).cloned().unwrap_or_else(|| class.to_string());
                out.push_str(&format!("{prefix}{label} ({samples} texts)\n"));
            }
            Tree::Split { feature, samples, absent, present } => {
                let word = features.get(*feature).cloned().unwrap_or_else(|| feature.to_string());
                out.push_str(&format!("{prefix}contains “{word}”? ({samples} texts)\n"));
                let inner = " ".repeat(prefix.chars().count());
                walk(absent, &format!("{inner}  no:  "), features, labels, out);
                walk(present, &format!("{inner}  yes: "), features, labels, out);
            }
        }
    }
    let mut out = String::new();
    walk(tree, "", features, labels, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_is_well_formed_svg_with_escaped_words() {
        let tree = Tree::Split {
            feature: 1,
            samples: 10,
            absent: Box::new(Tree::Leaf { class: 0, samples: 6 }),
            present: Box::new(Tree::Leaf { class: 1, samples: 4 }),
        };
        let features = ["dull".to_string(), "<script>".to_string()];
        let labels = ["negative".to_string(), "positive".to_string()];
        let text = svg(&tree, &features, &labels);
        let doc = roxmltree::Document::parse(&text).expect("well-formed");
        assert!(doc.descendants().all(|n| !n.has_tag_name("script")));
        let texts: Vec<&str> = doc.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text().map(str::trim)).collect();
        assert!(texts.contains(&"“<script>”?") && texts.contains(&"negative (6)") && texts.contains(&"positive (4)"), "{texts:?}");
        assert_eq!(texts.iter().filter(|t| **t == "no" || **t == "yes").count(), 2);
        assert_eq!(doc.descendants().filter(|n| n.has_tag_name("rect") && n.attribute("rx").is_some()).count(), 3, "three nodes");
    }

    #[test]
    fn a_tree_as_text_puts_each_answer_under_its_question() {
        let tree = Tree::Split {
            feature: 0,
            samples: 10,
            absent: Box::new(Tree::Leaf { class: 1, samples: 7 }),
            present: Box::new(Tree::Split {
                feature: 1,
                samples: 3,
                absent: Box::new(Tree::Leaf { class: 0, samples: 2 }),
                present: Box::new(Tree::Leaf { class: 1, samples: 1 }),
            }),
        };
        let features = ["dull".to_string(), "funny".to_string()];
        let labels = ["negative".to_string(), "positive".to_string()];
        assert_eq!(
            text(&tree, &features, &labels),
            "contains “dull”? (10 texts)\n  no:  positive (7 texts)\n  yes: contains “funny”? (3 texts)\n         no:  negative (2 texts)\n         yes: positive (1 texts)\n"
        );
    }
}
