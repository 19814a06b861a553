// The built site (dist/, from `trunk build --release`) in Debian's headless Chromium: the default model
// loads from the same origin, classifies typed text in the tab, shows markup as text, and makes no
// request after it has loaded. A screenshot is kept in tests/artifacts/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile, mkdir } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";

const DIST = new URL("../../dist/", import.meta.url).pathname;
const ARTIFACTS = new URL("../artifacts/", import.meta.url).pathname;
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css", ".json": "application/json" };

let server, browser, origin;

before(async () => {
  // A plain static file server on loopback, like any static host.
  server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^\/+/, "") || "index.html";
    try {
      const body = await readFile(join(DIST, path));
      res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

async function loadedPage() {
  const page = await browser.newPage();
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(origin + "/");
  await page.getByText("Model loaded", { exact: false }).waitFor({ timeout: 120_000 });
  return { page, requests };
}

test("classifies typed text in the tab, with no request after load", async () => {
  const { page, requests } = await loadedPage();
  assert.ok(requests.every((url) => url.startsWith(origin)), `only same-origin requests: ${requests}`);
  assert.ok(requests.some((url) => url.endsWith("/model/classifier.bpk")));
  const afterLoad = requests.length;

  await page.fill("#text", "A gorgeous, witty, seductive movie.");
  await page.click("#classify");
  const positive = page.locator('.bar[data-label="positive"]');
  await positive.waitFor();
  const percent = parseFloat(await positive.locator("span").last().textContent());
  assert.ok(percent > 50, `positive review classified positive (${percent}%)`);

  await page.fill("#text", "The plot is thin and the jokes fall flat.");
  await page.click("#classify");
  await page.waitForFunction(() => parseFloat(document.querySelector('.bar[data-label="negative"] span:last-child').textContent) > 50);

  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, "site.png"), fullPage: true });
  assert.equal(requests.length, afterLoad, `requests after load: ${requests.slice(afterLoad)}`);
  await page.close();
});

test("markup in the text stays text, and empty text gets a clear message", async () => {
  const { page } = await loadedPage();
  await page.fill("#text", '<img src=x onerror="window.injected=1"><script>window.injected=2</script>');
  await page.click("#classify");
  await page.locator(".prediction").waitFor();
  assert.equal(await page.locator("main img, main script").count(), 0);
  assert.equal(await page.evaluate(() => window.injected), undefined);

  await page.fill("#text", "   ");
  await page.click("#classify");
  await page.getByRole("alert").getByText("empty").waitFor();
  await page.close();
});
