//! Copies one of the shipped models into a folder of a site, as the page fetches it:
//! `stage-model <default|tiny> <folder>`. Trunk runs it after each build (Trunk.toml).
use std::process::ExitCode;

use gradlens_model::{GraphKind, ModelAssets};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [name, folder] = args.as_slice() else {
        eprintln!("usage: stage-model <default|tiny> <folder>");
        return ExitCode::FAILURE;
    };
    let Some(kind) = GraphKind::ALL.into_iter().find(|k| k.name() == name) else {
        eprintln!("stage-model: no shipped model is called '{name}' (default, tiny)");
        return ExitCode::FAILURE;
    };
    match ModelAssets::shipped(kind).and_then(|a| a.write_dir(folder)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stage-model: {e}");
            ExitCode::FAILURE
        }
    }
}
