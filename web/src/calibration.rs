//! Which backend is faster on this device, measured rather than assumed: once per adapter, the page
//! loads the model on both backends, times a forward and backward pass on each, keeps the faster and
//! remembers the measurement in the browser's local storage (the next visit, the page and its widgets use
//! it without measuring).

use gradlens_attribution::{Method, Request};
use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::engine::Engine;
use crate::loading::Progress;
use crate::store;

/// Where the measurement is kept (local storage, this site's origin).
const KEY: &str = "gradlens-backend";

/// Timed passes per backend, after one that warms it up (WebGPU compiles its shaders on the first).
const PASSES: usize = 3;

/// What the page measured on one adapter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The WebGPU adapter, as the browser describes it: a measurement holds for that adapter only.
    pub adapter: String,
    /// Milliseconds of one forward and backward pass (the fastest of [`PASSES`]) on WebGPU.
    pub webgpu_ms: f64,
    /// The same on the CPU backend.
    pub cpu_ms: f64,
}

impl Calibration {
    /// The faster backend.
    pub fn faster(&self) -> Backend {
        if self.webgpu_ms < self.cpu_ms { Backend::WebGpu } else { Backend::Cpu }
    }

    /// What the page says about it.
    pub fn describe(&self, earlier: bool) -> String {
        format!(
            "measured on this device{}: WebGPU ({}) {:.1} ms, CPU {:.1} ms per forward and backward pass",
            if earlier { " earlier" } else { "" },
            self.adapter,
            self.webgpu_ms,
            self.cpu_ms
        )
    }

    /// The measurement kept for `adapter`, if any (an unreadable one counts as none).
    pub fn remembered(adapter: &str) -> Option<Calibration> {
        let kept = storage()?.get_item(KEY).ok()??;
        serde_json::from_str::<Calibration>(&kept).ok().filter(|c| c.adapter == adapter)
    }

    fn remember(&self) {
        // Without local storage (a locked-down browser) the page measures again next time.
        if let Some(storage) = storage() {
            let _ = storage.set_item(KEY, &serde_json::to_string(self).expect("a calibration serialises"));
        }
    }

    /// Loads the model of `site` on both backends, times each, remembers the result and frees the
    /// slower backend's workers.
    pub async fn measure(site: &str, adapter: &str, progress: impl Fn(Progress) + 'static) -> Result<Calibration, String> {
        let cpu = store::engine(site, Backend::Cpu, progress).await?;
        let webgpu = store::engine(site, Backend::WebGpu, |_| {}).await?;
        let calibration = Calibration { adapter: adapter.to_owned(), webgpu_ms: time(&webgpu).await?, cpu_ms: time(&cpu).await? };
        calibration.remember();
        let slower = match calibration.faster() {
            Backend::WebGpu => Backend::Cpu,
            Backend::Cpu => Backend::WebGpu,
        };
        store::forget(site, slower);
        Ok(calibration)
    }
}

/// The fastest of [`PASSES`] saliency explanations (one forward and one backward pass) of the model's
/// first example, after a warm-up.
async fn time(engine: &Engine) -> Result<f64, String> {
    let text = engine.config.examples.first().cloned().unwrap_or_else(|| "A short text to time the model with.".into());
    let request = Request::new(text, vec![Method::by_name("saliency").map_err(|e| e.to_string())?]);
    let mut fastest = f64::INFINITY;
    for pass in 0..=PASSES {
        let started = now();
        engine.run(&request).await.map_err(|e| e.message().to_owned())?;
        if pass > 0 {
            fastest = fastest.min(now() - started);
        }
    }
    Ok(fastest)
}

/// Milliseconds, to a fraction.
fn now() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or_else(js_sys::Date::now, |p| p.now())
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}
