//! The README's Rust example: explain a text with two methods and a faithfulness metric, on the site
//! model this build carries. `cargo test` compiles it; run it with
//! `cargo run -p gradlens-attribution --example explain -- "Some text"`.

use burn::prelude::*;
use gradlens_attribution::metrics::Metric;
use gradlens_attribution::{Method, NoHooks, Request, explain};
use gradlens_model::{Classifier, GraphKind, ModelAssets};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let text = std::env::args().nth(1).unwrap_or_else(|| "A gorgeous, witty, seductive movie.".into());
    let device = Device::flex().autodiff(); // any burn device; autodiff for the gradient methods
    let model = Classifier::load(&ModelAssets::shipped(GraphKind::Site)?, &device)?;
    let methods = vec![Method::by_name("integrated_gradients")?, Method::by_name("grad_sam")?];
    let request = Request { metrics: vec![Metric::DeletionArea], ..Request::new(text, methods) };
    // On the CPU the pipeline's future is ready at once; in a browser it is awaited.
    let explanation = pollster::block_on(explain(&model, &request, &mut NoHooks))?;

    println!("{}", explanation.class_probabilities().join(", "));
    for attribution in &explanation.attributions {
        let words: Vec<String> = explanation.words.iter().zip(&attribution.word_scores).map(|(w, s)| format!("{} {s:+.3}", w.text)).collect();
        let deletion = attribution.metric("deletion_area").map_or(f32::NAN, |m| m.value);
        println!("{}: {} (deletion area {deletion:.3})", attribution.method, words.join(" · "));
    }
    // The one result type, as the page exports it and `gradlens explain --format json` prints it.
    std::fs::write(std::env::temp_dir().join("gradlens-example.json"), explanation.to_json())?;
    Ok(())
}
