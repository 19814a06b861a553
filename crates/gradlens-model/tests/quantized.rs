//! The weights a site ships: quantized as worked out by hand, equal to an independent numpy +
//! onnxruntime run of the same scheme (tools/quantized_reference.py), written to and read back from a
//! site folder with gzip copies and sha256 checks, and damaged files refused with the reason.

mod common;

use burn::prelude::*;
use burn::tensor::{Bytes, DType};
use burn_store::burn_pack::{Reader, Tensor as PackTensor, Writer};
use gradlens_model::site::{SiteManifest, assets_from_files, write_site_folder};
use gradlens_model::weights::{graph_tensors, quantize_graph, table_values};
use gradlens_model::{Classifier, GraphKind, LoadError, ModelAssets};

fn f32_tensor(name: &str, shape: &[usize], values: &[f32], param_id: u64) -> PackTensor {
    let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    PackTensor::new(name.into(), DType::F32, shape.to_vec(), Some(param_id), Bytes::from_bytes_vec(bytes))
}

fn read_f32(tensors: &[PackTensor], name: &str) -> Vec<f32> {
    let tensor = tensors.iter().find(|t| t.name == name).unwrap();
    assert_eq!(tensor.dtype, DType::F32, "{name}");
    tensor.to_bytes().unwrap().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
}

#[test]
fn matrices_are_quantized_per_output_feature_as_worked_out_by_hand() {
    // 3 bits: values in -3..=3. Column 0 peaks at 1.0 (scale 1/3): 0.5 -> 1.5 rounds away from zero to
    // 2 -> 2/3. Column 1 peaks at 4.0 (scale 4/3): -2.0 -> -1.5 -> -2 -> -8/3. Vectors stay as they are.
    let pack = |param_ids: [u64; 2]| {
        let tensors = vec![f32_tensor("w", &[2, 2], &[1.0, -2.0, 0.5, 4.0], param_ids[0]), f32_tensor("b", &[3], &[0.1, -0.2, 0.3], param_ids[1])];
        Writer::new(tensors).into_bytes().unwrap().to_vec()
    };
    let quantized = quantize_graph(&pack([1, 2]), 3).unwrap();
    // Builds give the same weights other random parameter ids: the shipped bytes (and their sha256) must
    // not change with them.
    assert!(quantize_graph(&pack([3, 4]), 3).unwrap() == quantized, "other parameter ids, other bytes");
    let restored = graph_tensors(quantized).unwrap();
    let expected = [1.0, -8.0 / 3.0, 2.0 / 3.0, 4.0];
    for (got, want) in read_f32(&restored, "w").iter().zip(expected) {
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    }
    assert_eq!(read_f32(&restored, "b"), [0.1, -0.2, 0.3]);
}

#[test]
fn the_shipped_weights_match_numpy_and_onnxruntime() {
    if GraphKind::Site.name() != "default" {
        return; // the reference is of the default model
    }
    let golden = gradlens_golden::Golden::open("default_quantized_forward");
    let model = Classifier::load(&ModelAssets::shipped(GraphKind::Site).unwrap(), &Device::flex()).unwrap();
    let full = common::load(GraphKind::Site, &Device::flex());
    let mut moved = 0.0f32;
    for (i, text) in gradlens_golden::sentences().iter().enumerate() {
        let encoded = model.encode(text).unwrap();
        let ids: Vec<i64> = encoded.ids.iter().map(|&id| id as i64).collect();
        assert_eq!(ids, golden.i64s(&format!("{i}.ids")), "{text}");
        let out = model.forward_batch(&model.batch(&[&encoded.ids]));
        let last = out.hidden_states.clone().slice(s![-1..]);
        common::assert_close(&format!("{text}: logits"), out.logits.clone(), &golden.f32s(&format!("{i}.logits")), 1e-4);
        common::assert_close(&format!("{text}: last hidden state"), last, &golden.f32s(&format!("{i}.last_hidden_state")), 1e-4);
        // The quantization is not a no-op: the full-precision logits differ by more than the tolerance.
        let full_logits = full.forward_batch(&full.batch(&[&encoded.ids])).logits;
        moved = moved.max((full_logits - out.logits).abs().max().into_scalar());
    }
    assert!(moved > 1e-3, "the shipped logits equal full precision's ({moved}): nothing was quantized");
}

#[test]
fn a_site_folder_reads_back_with_gzip_and_sha256_checks() {
    let assets = ModelAssets::shipped(GraphKind::Tiny).unwrap();
    let dir = std::env::temp_dir().join(format!("gradlens-site-{}", std::process::id()));
    let manifest = write_site_folder(&assets, &dir).unwrap();
    let written: SiteManifest = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(written, manifest);
    let mut files = Vec::new();
    for file in &manifest.files {
        let transferred = std::fs::read(dir.join(file.transfer_name())).unwrap();
        assert_eq!(transferred.len() as u64, file.transfer_bytes(), "{}", file.name);
        let content = file.content(transferred.clone()).unwrap();
        assert_eq!(content, std::fs::read(dir.join(&file.name)).unwrap(), "{}: the gzip copy holds the file", file.name);
        if file.gzip_bytes.is_some() {
            // A host that already undid the gzip (Content-Encoding) hands over the content itself.
            assert_eq!(file.content(content.clone()).unwrap(), content);
            let mut damaged = transferred;
            let middle = damaged.len() / 2;
            damaged[middle] ^= 0x40;
            let error = file.content(damaged).unwrap_err();
            assert!(error.contains(&file.name), "{error}");
        }
        let mut flipped = content.clone();
        flipped[0] ^= 1;
        assert!(file.content(flipped).unwrap_err().contains("is damaged"), "{}", file.name);
        files.push((file.name.clone(), content));
    }
    let read = assets_from_files(files).unwrap();
    assert_eq!(read.weights, assets.weights);
    assert_eq!(read.word_embeddings, assets.word_embeddings);
    // The command line reads the same folder.
    let from_dir = ModelAssets::from_dir(&dir).unwrap();
    assert_eq!(from_dir.word_embeddings, assets.word_embeddings);
    Classifier::load(&from_dir, &Device::flex()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn damaged_quantized_files_are_refused_with_the_reason() {
    let assets = ModelAssets::shipped(GraphKind::Tiny).unwrap();
    let config: gradlens_model::ModelConfig = serde_json::from_slice(&assets.config).unwrap();
    let (vocab, hidden) = (config.vocab_size, config.hidden_size);
    assert!(gradlens_model::weights::is_burnpack(&assets.word_embeddings), "the tiny fixture ships quantized too");
    assert_eq!(table_values(&assets.word_embeddings, vocab, hidden).unwrap().len(), vocab * hidden);
    assert!(table_values(&assets.word_embeddings, vocab + 1, hidden).unwrap_err().to_string().contains("table"));

    // Values without their scales.
    let tensors = Reader::from_bytes(Bytes::from_bytes_vec(assets.weights.clone())).unwrap().into_tensors().unwrap();
    let without_scales: Vec<_> = tensors.into_iter().filter(|t| !t.name.ends_with("#scale")).collect();
    let broken = ModelAssets { weights: Writer::new(without_scales).into_bytes().unwrap().to_vec(), ..assets.clone() };
    match Classifier::load(&broken, &Device::flex()) {
        Err(LoadError::Weights(e)) => assert!(e.to_string().contains("without scales"), "{e}"),
        other => panic!("{:?}", other.err()),
    }
    // A truncated table.
    let mut truncated = assets.clone();
    truncated.word_embeddings.truncate(truncated.word_embeddings.len() / 2);
    assert!(matches!(Classifier::load(&truncated, &Device::flex()), Err(LoadError::WordEmbeddings(_))));
}

#[test]
fn a_model_folder_without_quantization_ships_its_weights_as_they_are() {
    let full = ModelAssets::full_precision(GraphKind::Tiny).unwrap();
    let mut config: serde_json::Value = serde_json::from_slice(&full.config).unwrap();
    config.as_object_mut().unwrap().remove("quantization");
    let plain = ModelAssets { config: serde_json::to_vec(&config).unwrap(), ..full.clone() };
    let site = plain.clone().for_site().unwrap();
    assert!(site.weights == full.weights && site.word_embeddings == full.word_embeddings, "nothing quantized");
    assert_eq!(site.files()[2].0, "word_embeddings.f16");
    // Through a site folder, as the page reads it.
    let dir = std::env::temp_dir().join(format!("gradlens-plain-site-{}", std::process::id()));
    let manifest = write_site_folder(&site, &dir).unwrap();
    let files = manifest.files.iter().map(|f| (f.name.clone(), f.content(std::fs::read(dir.join(f.transfer_name())).unwrap()).unwrap())).collect();
    let read = assets_from_files(files).unwrap();
    let (a, b) = (Classifier::load(&read, &Device::flex()).unwrap(), Classifier::load(&full, &Device::flex()).unwrap());
    let ids = a.encode("A gorgeous, witty movie.").unwrap().ids;
    let diff: f32 = (a.forward_batch(&a.batch(&[&ids])).logits - b.forward_batch(&b.batch(&[&ids])).logits).abs().max().into_scalar();
    assert_eq!(diff, 0.0, "the same model");
    std::fs::remove_dir_all(&dir).unwrap();
}
