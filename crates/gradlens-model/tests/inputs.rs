//! Bad text and bad model files give clear errors, never panics; odd text is encoded faithfully.

mod common;

use burn::prelude::*;
use gradlens_model::{Classifier, GraphKind, LoadError, ModelAssets, TextError};

fn tiny_assets() -> ModelAssets {
    ModelAssets::full_precision(GraphKind::Tiny).unwrap()
}

fn load_error(assets: &ModelAssets) -> LoadError {
    match Classifier::load(assets, &Device::flex()) {
        Ok(_) => panic!("a broken model loaded"),
        Err(e) => e,
    }
}

#[test]
fn empty_and_blank_text_are_rejected() {
    let model = common::load(GraphKind::Tiny, &Device::flex());
    for text in ["", "   ", "\n\t ", "\u{200b}"] {
        assert!(matches!(model.encode(text), Err(TextError::Empty)), "{text:?}");
    }
}

#[test]
fn long_text_is_truncated_and_flagged() {
    let model = common::load(GraphKind::Tiny, &Device::flex());
    let max_len = model.config().max_len;
    let long = "a surprisingly tender film ".repeat(100);
    let encoded = model.encode(&long).unwrap();
    assert!(encoded.truncated);
    assert_eq!(encoded.len(), max_len);
    assert_eq!(*encoded.ids.last().unwrap(), model.config().special_tokens.sep);
    let short = model.encode("a surprisingly tender film").unwrap();
    assert!(!short.truncated);
    // The truncated text still runs.
    let logits = model.forward_batch(&model.batch(&[&encoded.ids])).logits;
    assert_eq!(logits.dims(), [1, 2]);
}

#[test]
fn offsets_and_words_align_tokens_with_any_unicode() {
    let model = common::load(GraphKind::Tiny, &Device::flex());
    for text in ["Un film magnifique 🎬 — 映画 is great, naïvely charming!", "שלום עולם and مرحبا", "e\u{301}le\u{300}ve <script>alert(1)</script>"]
    {
        let encoded = model.encode(text).unwrap();
        assert!(encoded.is_special(0) && encoded.is_special(encoded.len() - 1));
        let mut last_word = None;
        for i in 1..encoded.len() - 1 {
            let (start, end) = encoded.offsets[i];
            assert!(start < end && text.is_char_boundary(start) && text.is_char_boundary(end), "{text:?} token {i}");
            let word = encoded.token_words[i].expect("a word token");
            assert!(last_word.is_none_or(|w| word >= w), "word ids go forward");
            let span = &encoded.words[word];
            assert!(span.start <= start && end <= span.end && span.text == text[span.start..span.end], "{text:?} token {i} inside its word");
            last_word = Some(word);
        }
    }
}

#[test]
fn combining_marks_stay_inside_their_words() {
    let model = common::load(GraphKind::Tiny, &Device::flex());
    // Tanween (U+064C) ends both Arabic words, a decomposed acute accent ends "café": the tokenizer strips
    // them from its tokens, and the words (what the page highlights) keep them.
    let text = "كتابٌ جميلٌ, cafe\u{301}!";
    let encoded = model.encode(text).unwrap();
    let words: Vec<&str> = encoded.words.iter().map(|w| w.text.as_str()).collect();
    assert_eq!(words, ["كتابٌ", "جميلٌ", ",", "cafe\u{301}", "!"]);
}

#[test]
fn truncated_weights_are_an_error() {
    let mut assets = tiny_assets();
    assets.weights.truncate(assets.weights.len() / 2);
    let message = load_error(&assets).to_string();
    assert!(message.contains("weight"), "{message}");
}

#[test]
fn garbage_weights_are_an_error() {
    let mut assets = tiny_assets();
    assets.weights = b"not a burnpack file at all".repeat(1000);
    let message = load_error(&assets).to_string();
    assert!(message.contains("weight"), "{message}");
}

#[test]
fn weights_of_another_model_are_an_error() {
    let mut assets = ModelAssets::full_precision(GraphKind::Site).unwrap();
    assets.weights = tiny_assets().weights;
    assert!(matches!(load_error(&assets), LoadError::Graph(_)));
}

#[test]
fn a_wrong_tokenizer_file_is_an_error() {
    let mut assets = tiny_assets();
    assets.tokenizer = br#"{"version": "1.0", "model": "no such thing"}"#.to_vec();
    assert!(matches!(load_error(&assets), LoadError::Tokenizer(TextError::BadTokenizer(_))));
    assets.tokenizer = assets.config.clone();
    assert!(matches!(load_error(&assets), LoadError::Tokenizer(TextError::BadTokenizer(_))));
}

#[test]
fn a_short_embedding_table_is_an_error() {
    let mut assets = tiny_assets();
    assets.word_embeddings.pop();
    assert!(matches!(load_error(&assets), LoadError::WordEmbeddings { .. }));
}

#[test]
fn a_broken_config_is_an_error() {
    let mut assets = tiny_assets();
    assets.config = b"{\"name\": \"tiny\"".to_vec();
    assert!(matches!(load_error(&assets), LoadError::Config(_)));
    let mut config: serde_json::Value = serde_json::from_slice(&tiny_assets().config).unwrap();
    config["name"] = "gpt-17".into();
    assets.config = serde_json::to_vec(&config).unwrap();
    assert!(matches!(load_error(&assets), LoadError::UnknownGraph(_)));
}
