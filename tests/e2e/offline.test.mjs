// A light page: what a first visit costs in bytes, a second visit that downloads no model or wasm bytes,
// an offline reload (page and iframe) that still explains, and a damaged kept copy dropped and fetched
// again. One browser profile for the whole file (the second visit needs what the first one kept), the
// site under a sub-path as on a blog's host.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { DIST, explain, serveDist, transferBytes } from "./harness.mjs";

// A CPU visitor's first visit, gzip as a static host sends it (the model's .gz copies as they are): what a
// blog reader downloads, at most 20 MB.
const FIRST_VISIT_BUDGET = 20e6;

let site, profile, context;

const open = () => chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});

async function visit(path = "/demo/") {
  const page = await context.newPage();
  await page.goto(site.origin + path);
  await page.getByText("Model loaded", { exact: false }).waitFor({ timeout: 180_000 });
  return page;
}

before(async () => {
  site = await serveDist({ roots: { "/demo/": DIST } });
  profile = await mkdtemp(join(tmpdir(), "gradlens-profile-"));
  context = await open();
});

after(async () => {
  await context?.close();
  site?.close();
  await rm(profile, { recursive: true, force: true });
});

test("a first visit stays within the byte budget and leaves the site ready for offline use", async () => {
  const page = await visit();
  // The service worker has kept the page's files once it is active.
  await page.evaluate(() => navigator.serviceWorker.ready);
  const bytes = transferBytes(site.served);
  console.log(`first visit: ${(bytes / 1e6).toFixed(2)} MB (gzip -9), ${site.served.length} files: ` +
    site.served.map((s) => `${s.path} ${s.status}`).join(", "));
  assert.ok(bytes <= FIRST_VISIT_BUDGET, `first visit ${bytes} bytes > ${FIRST_VISIT_BUDGET}`);
  assert.ok(site.served.some((s) => s.path === "/demo/model/classifier.bpk.gz"), "the gzip copy was fetched");
  await page.close();
});

test("a second visit sends no request for the model or the page's files to the host", async () => {
  await context.close();
  context = await open();
  site.served.length = 0;
  const page = await visit();
  await explain(page, "A gorgeous, witty, seductive movie.");
  // Not even a revalidation (304): the page's files come from the service worker, the model's from the
  // browser's kept copy. Only the small manifest is asked for, to notice a new model, the page itself,
  // which Chromium revalidates beside the service worker for navigations (its ServiceWorkerAutoPreload),
  // and the service worker's own script, which the browser checks for an update a second after a
  // navigation (an empty 304).
  const asked = site.served.map((s) => `${s.path} ${s.status}`);
  const expected = (p) => p.startsWith("/demo/model/manifest.json ") || p.startsWith("/demo/ ") || p === "/demo/sw.js 304";
  assert.deepEqual(asked.filter((p) => !expected(p)), [], `requests on the second visit: ${asked}`);
  await page.close();
});

test("offline, the page and the iframe load and explain", async () => {
  await context.setOffline(true);
  try {
    const page = await visit();
    await explain(page, "The plot is thin and the jokes fall flat.");
    const negative = parseFloat(await page.locator('.bar[data-label="negative"] span').last().textContent());
    assert.ok(negative > 50, `a negative review is classified negative (${negative}%)`);
    await page.close();
    const frame = await context.newPage();
    await frame.goto(site.origin + "/demo/?embed&text=Dull%20and%20far%20too%20long.");
    await frame.locator(".gl-prediction").waitFor({ timeout: 180_000 });
    assert.match(await frame.locator(".gl-prediction").textContent(), /^negative/);
    await frame.close();
  } finally {
    await context.setOffline(false);
  }
});

test("a damaged kept copy is dropped and downloaded again", async () => {
  const page = await visit();
  const damaged = await page.evaluate(async () => {
    const cache = await caches.open("gradlens-model");
    const key = (await cache.keys()).map((r) => r.url).find((u) => u.includes("/classifier.bpk?"));
    await cache.put(key, new Response(new Uint8Array([1, 2, 3])));
    return key;
  });
  assert.ok(damaged, "the weights were kept under their sha256");
  site.served.length = 0;
  await page.reload();
  await page.getByText("was damaged: it was downloaded again", { exact: false }).waitFor({ timeout: 180_000 });
  assert.ok(site.served.some((s) => s.path === "/demo/model/classifier.bpk.gz"), "fetched again");
  await explain(page, "A gorgeous, witty, seductive movie.");
  await page.close();
});
