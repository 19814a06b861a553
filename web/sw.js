// The site's service worker: it keeps the page's own files (html, js, wasm, css) so that a visitor who has
// been here once can explain offline, and a second visit downloads none of them. The model's files are
// kept by the page itself (Cache Storage, checked against manifest.json's sha256), so they pass through.
// tools/stage_service_worker.sh writes BUILD (a hash of the files), FILES (what every visitor needs) and
// OPTIONAL (the WebGPU build, which only some visitors fetch) into the built copy: a new build is a new
// service worker, which replaces the old files' cache.
const BUILD = "__BUILD__";
const FILES = __FILES__;
const OPTIONAL = __OPTIONAL__;
const SHELL = `gradlens-shell-${BUILD}`;

self.addEventListener("install", (event) => {
  // "force-cache": files the browser fetched moments ago for this page come from its HTTP cache.
  const needed = FILES.map((file) => new Request(file, { cache: "force-cache" }));
  // The WebGPU build only if this visitor fetched it ("only-if-cached" never goes to the network); else
  // it is kept when first fetched through this worker.
  const fetched = (cache) => Promise.allSettled(OPTIONAL.map((file) =>
    cache.add(new Request(file, { cache: "only-if-cached", mode: "same-origin" }))));
  event.waitUntil(caches.open(SHELL)
    .then((cache) => cache.addAll(needed).then(() => fetched(cache)))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  const stale = (name) => name.startsWith("gradlens-shell-") && name !== SHELL;
  event.waitUntil(
    caches.keys().then((names) => Promise.all(names.filter(stale).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const scope = new URL(self.registration.scope);
  const ours = event.request.method === "GET" && url.origin === scope.origin && url.pathname.startsWith(scope.pathname);
  if (!ours || url.pathname.startsWith(`${scope.pathname}model/`)) return;
  // The page's files from the kept copy (the page with any query, e.g. ?embed), else from the network,
  // kept for next time.
  event.respondWith(caches.open(SHELL).then(async (cache) => {
    const kept = await cache.match(event.request, { ignoreSearch: true });
    if (kept) return kept;
    const response = await fetch(event.request);
    if (response.ok) await cache.put(event.request, response.clone()).catch(() => {});
    return response;
  }));
});
