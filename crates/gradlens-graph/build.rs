//! Generates burn code for each shipped classifier graph from its ONNX export (tools/prepare_model.py).
//! Weights are written next to the code as a Burnpack file, but the crate loads them from bytes at
//! run time (the browser fetches them), so no loading constructor is generated.
use burn_onnx::{LoadStrategy, ModelGen};

/// `(ONNX file under models/, output folder under OUT_DIR)`. The last is the tiny model with its top
/// layers re-initialised, for the model-randomisation sanity test: only its weights are used.
const GRAPHS: [(&str, &str); 3] = [
    ("tiny/classifier.onnx", "tiny"),
    ("default/classifier.onnx", "default"),
    ("tiny/randomised_top.onnx", "tiny_randomised_top"),
];

fn main() {
    for (onnx, out) in GRAPHS {
        let onnx = format!("../../models/{onnx}");
        println!("cargo:rerun-if-changed={onnx}");
        ModelGen::new()
            .input(&onnx)
            .out_dir(&format!("{out}/"))
            .load_strategy(LoadStrategy::None)
            .run_from_script();
    }
}
