// What the browser tests share: dist/ on a plain static file server on loopback (like any static host),
// Debian's Chromium started the way this machine needs, and page helpers.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";

export const DIST = new URL("../../dist/", import.meta.url).pathname;
export const ARTIFACTS = new URL("../artifacts/", import.meta.url).pathname;
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm",
  ".css": "text/css", ".json": "application/json" };

/**
 * Serves folders on 127.0.0.1 like any static host: `roots` maps a path prefix to a folder (default: dist/
 * at the root; "/demo/" puts it under a sub-path), `pages` maps a path to an HTML string. Files are
 * sent with a Last-Modified header and a short max-age, as static hosts do. Resolves to
 * { origin, close, served }: `served` lists { path, body } of every file sent, in order.
 */
export async function serveDist({ roots = { "/": DIST }, pages = {} } = {}) {
  const prefixes = Object.keys(roots).sort((a, b) => b.length - a.length);
  const served = [];
  const server = createServer(async (req, res) => {
    const url = decodeURIComponent(new URL(req.url, "http://x").pathname);
    if (pages[url] !== undefined) {
      res.writeHead(200, { "content-type": "text/html" });
      return res.end(pages[url]);
    }
    const prefix = prefixes.find((p) => url.startsWith(p));
    if (prefix === undefined) return res.writeHead(404).end();
    const rest = url.slice(prefix.length);
    // Only files under the root: "%2e%2e/" decodes to "../" after the URL parser has removed dot segments.
    const root = resolve(roots[prefix]);
    const file = resolve(root, `.${sep}${rest === "" || rest.endsWith("/") ? `${rest}index.html` : rest}`);
    if (!file.startsWith(root + sep)) return res.writeHead(403).end();
    try {
      const body = await readFile(file);
      const info = await stat(file);
      const etag = `"${info.size}-${info.mtimeMs}"`;
      const headers = { etag, "cache-control": "no-cache" };
      if (req.headers["if-none-match"] === etag) {
        served.push({ path: url, status: 304, body: Buffer.alloc(0) });
        return res.writeHead(304, headers).end();
      }
      res.writeHead(200, { ...headers, "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
      served.push({ path: url, status: 200, body });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => server.close(), served };
}

/**
 * The bytes a host that compresses sends for `served` files: gzip -9 of each, except files that are gzip
 * already (the model's .gz copies), which go as they are.
 */
export function transferBytes(served) {
  return served.reduce((sum, { path, body }) => sum + (path.endsWith(".gz") ? body.length : gzipSync(body, { level: 9 }).length), 0);
}

/** Headless Chromium from Debian; with `webgpu`, WebGPU on (SwiftShader on a machine without a GPU). */
export function launch({ webgpu = false } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", ...(webgpu ? ["--enable-unsafe-webgpu"] : [])],
  });
}

/** Records the URL of every request `page` makes over the network (a `blob:` URL, such as the script
 * of the worker that runs the model, never leaves the browser): fetches, EventSource streams and beacons
 * are requests, and a WebSocket (such as a dev server's live reload) counts as one too. */
export function recordRequests(page, requests = [], as = (url) => url) {
  page.on("request", (r) => r.url().startsWith("blob:") || requests.push(as(r.url())));
  page.on("websocket", (socket) => requests.push(as(socket.url())));
  return requests;
}

/** Opens `path` of the site and waits until the model is loaded; records every request. */
export async function loadedPage(browser, origin, path = "/") {
  const page = await browser.newPage();
  const requests = recordRequests(page);
  await page.goto(origin + path);
  await page.getByText("Model loaded", { exact: false }).waitFor({ timeout: 120_000 });
  return { page, requests };
}

/** How many requests the page has finished (with a report or an error). */
export async function finished(page) {
  return Number(await page.locator("main").getAttribute("data-finished"));
}

/** Explains `text` and waits for that request to finish. */
// A review of 116 tokens: the length at which the page used to freeze the tab for tens of seconds.
export const REVIEW = ("The film opens with a long, quiet sequence that promises more than the rest delivers; the cast "
  + "works hard, the photography is often lovely, and the score swells in all the right places, yet the script "
  + "keeps circling the same two ideas until even the actors seem tired of them. ").repeat(2);

export async function explain(page, text, timeout = 120_000) {
  const before = await finished(page);
  await page.fill("#text", text);
  await page.click("#explain");
  await page.locator(`main[data-finished="${before + 1}"][aria-busy="false"]`).waitFor({ timeout });
}
