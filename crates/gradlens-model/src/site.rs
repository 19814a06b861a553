//! A site's model folder: the model's files, a gzip copy of the large ones (what the page downloads, so
//! that the bytes on the wire do not depend on the host compressing them), and `manifest.json` with the
//! sha256 of every file, which the page checks each download and each cached copy against.

use std::io::Read;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ModelAssets;
use crate::assets::{CONFIG_FILE, SURROGATE_FILE, TOKENIZER_FILE, WEIGHTS_FILE, WORD_EMBEDDINGS_FILE, WORD_EMBEDDINGS_PACK_FILE};

/// The name of a site's [`SiteManifest`] in its model folder.
pub const MANIFEST_FILE: &str = "manifest.json";

/// `manifest.json` of a site's model folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteManifest {
    /// Every model file in the folder (the manifest itself not included).
    pub files: Vec<SiteFile>,
}

/// One file of a site's model folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteFile {
    /// The file's name in the model folder (e.g. `config.json`), without `.gz`.
    pub name: String,
    /// Its size and sha256 (lower-case hex) as the model reads it, after any gzip is undone.
    pub bytes: u64,
    /// Lower-case hex sha256 of the content, after any gzip is undone.
    pub sha256: String,
    /// Size of `NAME.gz`, when the folder has one: the page downloads that instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gzip_bytes: Option<u64>,
}

impl SiteFile {
    /// The file name to download, relative to the model folder.
    pub fn transfer_name(&self) -> String {
        match self.gzip_bytes {
            Some(_) => format!("{}.gz", self.name),
            None => self.name.clone(),
        }
    }

    /// The bytes a download of [`SiteFile::transfer_name`] costs.
    pub fn transfer_bytes(&self) -> u64 {
        self.gzip_bytes.unwrap_or(self.bytes)
    }

    /// The file's content from what was downloaded or cached: gunzipped when it is gzip (a host that
    /// sends `.gz` with `Content-Encoding: gzip` hands the browser the content already), then checked
    /// against the manifest's sha256.
    pub fn content(&self, received: Vec<u8>) -> Result<Vec<u8>, String> {
        let content = if received.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::with_capacity(self.bytes as usize);
            flate2::read::GzDecoder::new(received.as_slice())
                .read_to_end(&mut out)
                .map_err(|e| format!("{}: not a valid gzip file ({e})", self.transfer_name()))?;
            out
        } else {
            received
        };
        let sha256 = sha256_hex(&content);
        if sha256 != self.sha256 {
            return Err(format!("{} is damaged: its sha256 is {sha256}, the manifest says {}", self.name, self.sha256));
        }
        Ok(content)
    }
}

/// The sha256 of `bytes`, as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Writes a site's model folder: the files, a gzip copy of each large one, and `manifest.json`.
#[cfg(not(target_family = "wasm"))]
pub fn write_site_folder(assets: &ModelAssets, dir: &std::path::Path) -> std::io::Result<SiteManifest> {
    use std::io::Write;
    /// Files smaller than this are served as they are: gzip would save less than a request costs.
    const GZIP_FROM_BYTES: usize = 4096;
    std::fs::create_dir_all(dir)?;
    let mut manifest = SiteManifest { files: Vec::new() };
    let surrogate = assets.surrogate.as_deref().map(|s| (SURROGATE_FILE, s));
    for (name, bytes) in assets.files().into_iter().chain(surrogate) {
        std::fs::write(dir.join(name), bytes)?;
        let gzip_bytes = if bytes.len() >= GZIP_FROM_BYTES {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            encoder.write_all(bytes)?;
            let gz = encoder.finish()?;
            std::fs::write(dir.join(format!("{name}.gz")), &gz)?;
            Some(gz.len() as u64)
        } else {
            None
        };
        manifest.files.push(SiteFile { name: name.to_owned(), bytes: bytes.len() as u64, sha256: sha256_hex(bytes), gzip_bytes });
    }
    let json = serde_json::to_string_pretty(&manifest).map_err(std::io::Error::other)?;
    std::fs::write(dir.join(MANIFEST_FILE), json + "\n")?;
    Ok(manifest)
}

/// The model from a site folder's files (name, content), as [`write_site_folder`] wrote them.
pub fn assets_from_files(files: Vec<(String, Vec<u8>)>) -> Result<ModelAssets, String> {
    let (mut config, mut tokenizer, mut word_embeddings, mut weights, mut surrogate) = (None, None, None, None, None);
    for (name, bytes) in files {
        let slot = match name.as_str() {
            CONFIG_FILE => &mut config,
            TOKENIZER_FILE => &mut tokenizer,
            WORD_EMBEDDINGS_FILE | WORD_EMBEDDINGS_PACK_FILE => &mut word_embeddings,
            WEIGHTS_FILE => &mut weights,
            SURROGATE_FILE => &mut surrogate,
            other => return Err(format!("the manifest lists {other}, which is not a model file")),
        };
        *slot = Some(bytes);
    }
    let missing = |name: &str| format!("the manifest does not list {name}");
    Ok(ModelAssets {
        config: config.ok_or_else(|| missing(CONFIG_FILE))?,
        tokenizer: tokenizer.ok_or_else(|| missing(TOKENIZER_FILE))?,
        word_embeddings: word_embeddings.ok_or_else(|| missing("the word-embedding table"))?,
        weights: weights.ok_or_else(|| missing(WEIGHTS_FILE))?,
        surrogate,
    })
}
