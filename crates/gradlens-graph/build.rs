//! Generates burn code for each classifier graph from its ONNX export (tools/prepare_model.py).
//! Weights are written next to the code as a Burnpack file, but the crate loads them from bytes at
//! run time (the browser fetches them), so no loading constructor is generated.
//!
//! The site's model is `models/default` unless `GRADLENS_MODEL_DIR` names another model folder (bring
//! your own model, tools/build_site.sh): its graph is generated in the same place, so that every front
//! end serves it without code changes.
use std::path::{Path, PathBuf};

use burn_onnx::{LoadStrategy, ModelGen};

/// The tiny fixture (tests) and the tiny model with its top layers re-initialised, for the
/// model-randomisation sanity test: only the latter's weights are used.
const FIXTURES: [(&str, &str); 2] = [("tiny/classifier.onnx", "tiny"), ("tiny/randomised_top.onnx", "tiny_randomised_top")];

fn main() {
    // At run time: a build script binary may be reused from a checkout at another path.
    let models = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")).join("../../models");
    println!("cargo:rerun-if-env-changed=GRADLENS_MODEL_DIR");
    let site = match std::env::var_os("GRADLENS_MODEL_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => models.join("default"),
    };
    let site = site.canonicalize().unwrap_or_else(|e| panic!("GRADLENS_MODEL_DIR {}: {e}", site.display()));
    let name = site_model_name(&site);
    println!("cargo:rustc-env=GRADLENS_SITE_MODEL_DIR={}", site.display());
    println!("cargo:rustc-env=GRADLENS_SITE_MODEL_NAME={name}");

    generate(&site.join("classifier.onnx"), "site");
    // The built-in site model's optional surrogate: an empty file stands for none.
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let surrogate = site.join("surrogate.json");
    println!("cargo:rerun-if-changed={}", surrogate.display());
    std::fs::write(out.join("site/surrogate.json"), std::fs::read(&surrogate).unwrap_or_default()).expect("OUT_DIR is writable");
    if std::env::var_os("CARGO_FEATURE_FIXTURES").is_some() {
        for (onnx, out) in FIXTURES {
            generate(&models.join(onnx), out);
        }
    }
}

fn generate(onnx: &Path, out: &str) {
    assert!(onnx.is_file(), "{} is missing: a model folder holds classifier.onnx (see the README)", onnx.display());
    println!("cargo:rerun-if-changed={}", onnx.display());
    ModelGen::new().input(onnx.to_str().expect("a UTF-8 path")).out_dir(&format!("{out}/")).load_strategy(LoadStrategy::None).run_from_script();
}

/// The `name` in the site model's config.json: front ends pick the model by it.
fn site_model_name(dir: &Path) -> String {
    let path = dir.join("config.json");
    println!("cargo:rerun-if-changed={}", path.display());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let config: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = config["name"].as_str().unwrap_or_else(|| panic!("{}: no \"name\"", path.display()));
    assert!(name != "tiny", "{}: \"tiny\" is the test fixture's name; give the model another", path.display());
    name.to_owned()
}
