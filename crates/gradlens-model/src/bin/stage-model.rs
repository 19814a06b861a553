//! Writes a model of this build into a folder of a site, as the page fetches it (quantized as its
//! config.json says, gzip copies, manifest.json): `stage-model <folder> [model]`, by default the site
//! model (models/default, or the folder that GRADLENS_MODEL_DIR named at build time). Trunk runs it after
//! each build (Trunk.toml).
use std::process::ExitCode;

use burn::prelude::Device;
use gradlens_model::{Classifier, GraphKind, ModelAssets};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (folder, name) = match args.as_slice() {
        [folder] => (folder, GraphKind::Site.name()),
        [folder, name] => (folder, name.as_str()),
        _ => {
            eprintln!("usage: stage-model <folder> [model]");
            return ExitCode::FAILURE;
        }
    };
    let Some(kind) = GraphKind::ALL.into_iter().find(|k| k.name() == name) else {
        let known: Vec<_> = GraphKind::ALL.iter().map(|k| k.name()).collect();
        eprintln!("stage-model: this build has no model called '{name}' ({})", known.join(", "));
        return ExitCode::FAILURE;
    };
    let assets = match ModelAssets::shipped(kind) {
        Ok(assets) => assets,
        Err(e) => {
            eprintln!("stage-model: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A model that does not load here would not load in the page either: say so at build time.
    if let Err(e) = Classifier::load(&assets, &Device::flex()) {
        eprintln!("stage-model: model '{name}' does not load: {e}");
        return ExitCode::FAILURE;
    }
    if let Err(e) = gradlens_model::site::write_site_folder(&assets, std::path::Path::new(folder)) {
        eprintln!("stage-model: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
