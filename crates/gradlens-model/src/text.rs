use gradlens_explanation::{Token, Word};
use serde::{Deserialize, Serialize};
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};
use unicode_categories::UnicodeCategories;

/// Why a text could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    /// The text has no tokens (it is empty or whitespace only).
    #[error("the text is empty: type a sentence to classify")]
    Empty,
    /// `tokenizer.json` could not be parsed or configured.
    #[error("the tokenizer file is not a valid tokenizer.json: {0}")]
    BadTokenizer(String),
    /// The tokenizer returned an error on the text.
    #[error("the tokenizer failed on this text: {0}")]
    Tokenizer(String),
}

/// A text as the model sees it, with the alignment back to the text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EncodedText {
    /// The text as given.
    pub text: String,
    /// Token ids, [CLS] and [SEP] included.
    pub ids: Vec<u32>,
    /// Token strings (`##` marks a word continuation).
    pub tokens: Vec<String>,
    /// Byte range of each token in `text` (`(0, 0)` for special tokens).
    pub offsets: Vec<(usize, usize)>,
    /// The words (the tokenizer's pre-tokenized pieces), in text order, with their byte spans.
    pub words: Vec<Word>,
    /// Index into `words` of the word each token belongs to; `None` for special tokens.
    pub token_words: Vec<Option<usize>>,
    /// Whether the text was longer than the model's maximum and its end was cut off.
    pub truncated: bool,
}

impl EncodedText {
    /// Number of tokens, special tokens included.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether token `i` is a special token ([CLS], [SEP]), which attributions hold fixed.
    pub fn is_special(&self, i: usize) -> bool {
        self.token_words[i].is_none()
    }

    /// The tokens as the result type lists them.
    pub fn result_tokens(&self) -> Vec<Token> {
        (0..self.len())
            .map(|i| Token { text: self.tokens[i].clone(), start: self.offsets[i].0, end: self.offsets[i].1, word: self.token_words[i] })
            .collect()
    }
}

/// Groups tokens into words by the tokenizer's word ids (exact, from the tokenizer's alignment): a
/// word spans its tokens' byte ranges.
fn words(text: &str, word_ids: &[Option<u32>], offsets: &[(usize, usize)]) -> (Vec<Word>, Vec<Option<usize>>) {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut index: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    let token_words = word_ids
        .iter()
        .zip(offsets)
        .map(|(id, &(start, end))| {
            id.map(|id| {
                let w = *index.entry(id).or_insert_with(|| {
                    spans.push((start, end));
                    spans.len() - 1
                });
                spans[w] = (spans[w].0.min(start), spans[w].1.max(end));
                w
            })
        })
        .collect();
    // A tokenizer that strips accents leaves a word's final combining marks (Arabic tanween, a decomposed
    // accent) out of every token: they belong to the word they follow, not to the gap after it.
    let limits: Vec<usize> = spans.iter().skip(1).map(|s| s.0).chain([text.len()]).collect();
    let words = spans
        .into_iter()
        .zip(limits)
        .map(|((start, end), limit)| {
            let marks: usize = text.get(end..limit).unwrap_or_default().chars().take_while(|c| c.is_mark()).map(char::len_utf8).sum();
            let end = end + marks;
            Word { text: text[start..end].to_owned(), start, end }
        })
        .collect();
    (words, token_words)
}

/// The model's own tokenizer (from its `tokenizer.json`), truncating to the model's maximum length.
#[derive(Clone)]
pub struct TextEncoder {
    tokenizer: Tokenizer,
}

impl TextEncoder {
    /// Loads a `tokenizer.json`, truncating encodings to `max_len` tokens and padding none.
    pub fn from_bytes(tokenizer_json: &[u8], max_len: usize) -> Result<Self, TextError> {
        let mut tokenizer = Tokenizer::from_bytes(tokenizer_json).map_err(|e| TextError::BadTokenizer(e.to_string()))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_len,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|e| TextError::BadTokenizer(e.to_string()))?;
        Ok(Self { tokenizer })
    }

    /// Encodes one text. Text with no tokens (empty, whitespace only) is an error; text past the
    /// maximum length is truncated and flagged.
    pub fn encode(&self, text: &str) -> Result<EncodedText, TextError> {
        let encoding = self.tokenizer.encode(text, true).map_err(|e| TextError::Tokenizer(e.to_string()))?;
        let word_ids = encoding.get_word_ids();
        if word_ids.iter().all(Option::is_none) {
            return Err(TextError::Empty);
        }
        let offsets = encoding.get_offsets().to_vec();
        let (words, token_words) = words(text, word_ids, &offsets);
        Ok(EncodedText {
            text: text.to_owned(),
            ids: encoding.get_ids().to_vec(),
            tokens: encoding.get_tokens().to_vec(),
            offsets,
            words,
            token_words,
            truncated: !encoding.get_overflowing().is_empty(),
        })
    }
}
