//! Where the model runs: WebGPU when the browser offers a hardware adapter, otherwise the CPU backend
//! compiled to WebAssembly. The visitor can switch; a failing WebGPU device falls back to the CPU.
//! Only the `webgpu` build carries burn's WebGPU runtime (web/loader.js loads it when the page will use
//! WebGPU); the CPU build reloads the page into it when the visitor asks for WebGPU.

use std::cell::RefCell;

use burn::prelude::*;
#[cfg(feature = "webgpu")]
use burn::tensor::wgpu::WgpuBackend;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::calibration::Calibration;
use crate::loading::js_error;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    WebGpu,
    Cpu,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::WebGpu => "WebGPU",
            Backend::Cpu => "CPU (WebAssembly)",
        }
    }

    /// The value of the `backend` URL parameter and of the picker.
    pub fn key(self) -> &'static str {
        match self {
            Backend::WebGpu => "webgpu",
            Backend::Cpu => "cpu",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        [Backend::WebGpu, Backend::Cpu].into_iter().find(|b| b.key() == key)
    }
}

/// What the browser offers for WebGPU.
#[derive(Clone, Debug, PartialEq)]
pub enum WebGpuSupport {
    /// A GPU adapter, described by the browser.
    Hardware(String),
    /// Only a software emulation (SwiftShader, say): it works, but is far slower than the CPU backend,
    /// so it is never chosen automatically.
    Software(String),
    /// No adapter; the reason.
    Missing(String),
}

/// Asks the browser for a WebGPU adapter. Done before burn's own initialisation, which expects one.
async fn probe_webgpu() -> WebGpuSupport {
    match request_adapter().await {
        Ok(Some((description, fallback))) if fallback => WebGpuSupport::Software(description),
        Ok(Some((description, _))) => WebGpuSupport::Hardware(description),
        Ok(None) => WebGpuSupport::Missing("the browser offers no WebGPU adapter".into()),
        Err(e) => WebGpuSupport::Missing(e),
    }
}

/// The adapter's description and whether it is a software fallback, if the browser has one.
async fn request_adapter() -> Result<Option<(String, bool)>, String> {
    let navigator: JsValue = web_sys::window().ok_or("no window")?.navigator().into();
    let gpu = js_sys::Reflect::get(&navigator, &"gpu".into()).map_err(js_error)?;
    if gpu.is_undefined() {
        return Err("this browser has no WebGPU".into());
    }
    let request: js_sys::Function = js_sys::Reflect::get(&gpu, &"requestAdapter".into()).map_err(js_error)?.dyn_into().map_err(js_error)?;
    let promise: js_sys::Promise = request.call0(&gpu).map_err(js_error)?.dyn_into().map_err(js_error)?;
    let adapter = JsFuture::from(promise).await.map_err(js_error)?;
    if adapter.is_null() || adapter.is_undefined() {
        return Ok(None);
    }
    let field = |object: &JsValue, name: &str| js_sys::Reflect::get(object, &name.into()).unwrap_or(JsValue::UNDEFINED);
    let info = field(&adapter, "info");
    let description = ["vendor", "architecture", "description"]
        .iter()
        .filter_map(|name| field(&info, name).as_string().filter(|s| !s.is_empty()))
        .collect::<Vec<_>>()
        .join(" ");
    let fallback = field(&info, "isFallbackAdapter").as_bool().or_else(|| field(&adapter, "isFallbackAdapter").as_bool());
    Ok(Some((if description.is_empty() { "unnamed adapter".into() } else { description }, fallback.unwrap_or(false))))
}

thread_local! {
    /// burn's WebGPU runtime can be initialised once per page: the device is kept for every later use.
    static WEBGPU_DEVICE: RefCell<Option<Result<Device, String>>> = const { RefCell::new(None) };
}

/// Whether this build carries burn's WebGPU runtime.
pub const HAS_WEBGPU: bool = cfg!(feature = "webgpu");

/// The autodiff device for `backend`.
pub async fn device(backend: Backend) -> Result<Device, String> {
    match backend {
        Backend::Cpu => Ok(Device::flex().autodiff()),
        #[cfg(not(feature = "webgpu"))]
        Backend::WebGpu => Err("this build of the page has no WebGPU runtime (open it with ?backend=webgpu)".into()),
        #[cfg(feature = "webgpu")]
        Backend::WebGpu => {
            if let Some(known) = WEBGPU_DEVICE.with(|d| d.borrow().clone()) {
                return known.map(|d| d.autodiff());
            }
            let made = Device::wgpu_options().graphics_api(WgpuBackend::WebGpu).init_async().await.map_err(|e| e.to_string());
            WEBGPU_DEVICE.with(|d| *d.borrow_mut() = Some(made.clone()));
            made.map(|d| d.autodiff())
        }
    }
}

/// The backend to start on and why.
pub struct Choice {
    pub backend: Backend,
    pub why: String,
    /// What the browser offers.
    pub support: WebGpuSupport,
    /// The adapter whose speed against the CPU has not been measured yet (the page measures it; a
    /// widget starts on `backend`).
    pub to_measure: Option<String>,
}

/// `asked` if given; else, on a WebGPU adapter, the backend measured faster on it (WebGPU until it is
/// measured); else the CPU. A software adapter (SwiftShader, say) is far slower than the CPU backend and
/// never chosen, unless the page's `calibrate` parameter asks to measure it too (a machine without a GPU
/// has only that to test the measurement with).
pub async fn choose(asked: Option<Backend>) -> Choice {
    let support = probe_webgpu().await;
    let measurable = match &support {
        WebGpuSupport::Hardware(gpu) => Some(gpu.clone()),
        WebGpuSupport::Software(gpu) if url_parameter("calibrate").is_some() => Some(gpu.clone()),
        _ => None,
    };
    let (backend, why, to_measure) = match (asked, &measurable, &support) {
        (Some(asked), _, _) => (asked, "as asked".to_string(), None),
        (None, Some(gpu), _) => match Calibration::remembered(gpu) {
            Some(known) => (known.faster(), known.describe(true), None),
            None => (Backend::WebGpu, format!("on {gpu}"), Some(gpu.clone())),
        },
        (None, None, WebGpuSupport::Software(gpu)) => {
            (Backend::Cpu, format!("WebGPU here is a software emulation ({gpu}), slower than the CPU backend"), None)
        }
        (None, None, WebGpuSupport::Missing(why)) => (Backend::Cpu, format!("no WebGPU: {why}"), None),
        (None, None, WebGpuSupport::Hardware(_)) => unreachable!("a hardware adapter is measurable"),
    };
    Choice { backend, why, support, to_measure }
}

/// Opens this page again with `backend` in its address, keeping the other parameters and setting
/// `extra` ones: web/loader.js then starts the build that has that backend.
pub fn reload_with(backend: Backend, extra: &[(&str, &str)]) -> Result<(), String> {
    let location = web_sys::window().ok_or("no window")?.location();
    let params = web_sys::UrlSearchParams::new_with_str(&location.search().map_err(js_error)?).map_err(js_error)?;
    params.set("backend", backend.key());
    for (name, value) in extra {
        params.set(name, value);
    }
    location.set_search(&String::from(params.to_string())).map_err(js_error)
}

/// A parameter of the page's URL (`?backend=cpu`, `?embed&text=...`), if present.
pub fn url_parameter(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()?.get(name)
}
