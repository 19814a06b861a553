//! Generates burn code for each shipped classifier graph from its ONNX export (tools/prepare_model.py).
//! Weights are written next to the code as a Burnpack file, but the crate loads them from bytes at
//! run time (the browser fetches them), so no loading constructor is generated.
use burn_onnx::{LoadStrategy, ModelGen};

const MODELS: [&str; 2] = ["tiny", "default"];

fn main() {
    for name in MODELS {
        let onnx = format!("../../models/{name}/classifier.onnx");
        println!("cargo:rerun-if-changed={onnx}");
        ModelGen::new()
            .input(&onnx)
            .out_dir(&format!("{name}/"))
            .load_strategy(LoadStrategy::None)
            .run_from_script();
    }
}
