// Starts GradLens on a page: the site's own page, its iframe, or a blog post's widgets
// (<script type="module" src=".../loader.js"></script>). The site has two builds of the same code: the small
// one runs on the CPU, the one in gpu/ adds burn's WebGPU runtime (several times larger). A visitor
// downloads the second only when the page will run on WebGPU, by the page's own rule (web/src/backend.rs):
// `?backend=` (or a widget's `backend` attribute) when given, else WebGPU on a hardware adapter (unless the
// page measured it slower than the CPU here) and never on a software one.
const here = new URL(".", import.meta.url);

async function webGpuAdapter() {
  try {
    return await navigator.gpu?.requestAdapter();
  } catch {
    return null;
  }
}

// Whether the page has measured this adapter slower than the CPU: web/src/calibration.rs keeps the
// measurement in local storage under the adapter's name, made as web/src/backend.rs makes it.
function measuredSlower(adapter) {
  const info = adapter.info ?? {};
  const name = ["vendor", "architecture", "description"].map((field) => info[field]).filter(Boolean).join(" ") || "unnamed adapter";
  try {
    const kept = JSON.parse(localStorage.getItem("gradlens-backend"));
    return kept?.adapter === name && !(kept.webgpu_ms < kept.cpu_ms);
  } catch {
    return false;
  }
}

async function wantsWebGpu() {
  const asked = new URLSearchParams(location.search).get("backend")
    ?? document.querySelector("gradlens-explain[backend]")?.getAttribute("backend");
  if (asked === "webgpu") return true;
  if (asked === "cpu") return false;
  const adapter = await webGpuAdapter();
  if (!adapter || measuredSlower(adapter)) return false;
  // The page measures a software adapter against the CPU when asked to (web/src/backend.rs).
  if (new URLSearchParams(location.search).has("calibrate")) return true;
  return !(adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false);
}

// The build's compiled module: the page runs it, and hands it to each worker that holds the model (one
// download and one compilation for all; workers fetching it at once can fail on the browser's cache).
async function compile(url) {
  const response = counted(await fetch(url));
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  // Streaming compilation needs the application/wasm type, which not every static host sends.
  if (response.headers.get("content-type")?.startsWith("application/wasm")) return WebAssembly.compileStreaming(response);
  return WebAssembly.compile(await response.arrayBuffer());
}

// The page's loading line (index.html), until the build starts and replaces the page: the program's
// bytes as they arrive (the model's come after, shown by the page itself).
const boot = document.getElementById("gradlens-boot");

function counted(response) {
  if (!boot || !response.ok || !response.body) return response;
  // A compressed response's length is not the length of what it unpacks to.
  const length = response.headers.get("content-encoding") ? NaN : Number(response.headers.get("content-length"));
  const total = length > 0 ? ` of ${(length / 1e6).toFixed(1)}` : "";
  let received = 0;
  const count = new TransformStream({
    transform(chunk, stream) {
      received += chunk.byteLength;
      boot.textContent = `Loading GradLens: its program, ${(received / 1e6).toFixed(1)}${total} MB; then the model.`;
      stream.enqueue(chunk);
    },
  });
  return new Response(response.body.pipeThrough(count), { status: response.status, headers: response.headers });
}

// The build's JavaScript glue, fetched once and kept as a blob: the page imports it, and so does each
// worker, even one started long after the page loaded (which must make no request then).
async function glue(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return URL.createObjectURL(new Blob([await response.text()], { type: "text/javascript" }));
}

// The build that runs: its glue and module for the workers, and its wasm memory (tools/browser_bench.mjs
// reports the tab's memory from it).
async function start(name) {
  if (boot) boot.textContent = "Loading GradLens: its program…";
  const [script, module] = await Promise.all([glue(new URL(`${name}.js`, here)), compile(new URL(`${name}_bg.wasm`, here))]);
  globalThis.gradlens = { glue: script, module };
  const { default: init } = await import(script);
  const exports = await init({ module_or_path: module });
  globalThis.gradlens.memory = exports.memory;
}

if (await wantsWebGpu()) {
  // A build that fails to start here still leaves the CPU one.
  await start("gpu/gradlens-web-gpu").catch((error) => {
    console.warn("GradLens: the WebGPU build did not start, using the CPU build:", error);
    return start("gradlens-web");
  });
} else {
  await start("gradlens-web");
}
