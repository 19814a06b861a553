// Faults and limits: a damaged or failed weight download gets a clear message and a retry that works, a
// browser that keeps nothing (no Cache Storage, a full quota, a service worker that does not install)
// still explains and says what it will not keep, a worker that dies ends its request with a message and
// is replaced, and a text longer than the model reads is truncated with a note.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { REVIEW, explain, launch, loadedPage, serveDist } from "./harness.mjs";

let site, browser;

before(async () => {
  site = await serveDist();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  site?.close();
});

for (const [fault, fulfil, message] of [
  ["damaged", (route) => route.fulfill({ status: 200, body: "not a burnpack" }), /damaged/],
  ["failed", (route) => route.fulfill({ status: 503, body: "" }), /could not be downloaded.*503/],
]) {
  test(`a ${fault} weight download says so, and Retry loads the model`, async () => {
    const page = await browser.newPage();
    await page.route("**/model/classifier.bpk.gz", fulfil);
    await page.goto(site.origin + "/");
    await page.getByRole("button", { name: "Retry the download" }).waitFor({ timeout: 120_000 });
    assert.match(await page.getByRole("status").textContent(), message);
    assert.ok(await page.locator("#explain").isDisabled());
    await page.unroute("**/model/classifier.bpk.gz");
    await page.getByRole("button", { name: "Retry the download" }).click();
    await page.getByText("Model loaded", { exact: false }).waitFor({ timeout: 120_000 });
    await explain(page, "A gorgeous, witty, seductive movie.");
    assert.equal(await page.locator('.method[data-method="integrated_gradients"]').count(), 1);
    await page.close();
  });
}

for (const [refusal, prepare, note] of [
  // Some private windows have no Cache Storage at all.
  ["no Cache Storage", async (page) => {
    await page.addInitScript(() => Object.defineProperty(window, "caches", { value: undefined }));
  }, /keeps no copy of the model/],
  ["a full storage quota", async (page) => {
    await page.addInitScript(() => {
      Cache.prototype.put = () => Promise.reject(new DOMException("The quota has been exceeded.", "QuotaExceededError"));
    });
  }, /could not keep a copy of the model \(.*quota has been exceeded/],
  // A host that serves the service worker's script wrong (here as HTML, which browsers refuse to install).
  ["a service worker that does not install", async () => serveDist({ pages: { "/sw.js": "self.oninstall = () => {};" } }),
    /will not work offline here: its service worker did not install/],
]) {
  test(`with ${refusal}, the page explains and says what it will not keep`, async () => {
    const page = await browser.newPage();
    // A host of its own for the case that needs one.
    const own = await prepare(page);
    try {
      await page.goto((own ?? site).origin + "/");
      await page.getByText("Model loaded", { exact: false }).waitFor({ timeout: 120_000 });
      await page.getByRole("status").filter({ hasText: note }).waitFor({ timeout: 10_000 });
      await explain(page, "A gorgeous, witty, seductive movie.");
      assert.equal(await page.locator('.method[data-method="integrated_gradients"]').count(), 1);
    } finally {
      await page.close();
      own?.close();
    }
  });
}

test("a worker that dies ends the request with a message, and the page starts new workers that explain", async () => {
  const page = await browser.newPage();
  // Keep every worker the page starts, so that the test can make one die.
  await page.addInitScript(() => {
    const Original = Worker;
    window.startedWorkers = [];
    window.Worker = class extends Original {
      constructor(...args) {
        super(...args);
        window.startedWorkers.push(this);
      }
    };
  });
  await page.goto(site.origin + "/");
  await page.getByText("Model loaded", { exact: false }).waitFor({ timeout: 120_000 });
  await page.fill("#text", REVIEW);
  await page.click("#explain");
  await page.locator('main[aria-busy="true"]').waitFor();
  const started = await page.evaluate(() => window.startedWorkers.length);
  // A worker dies mid-request: the browser ends it and raises an error event on it, as for a panic in
  // its wasm (a trap) or running out of memory.
  await page.evaluate(() => {
    const worker = window.startedWorkers[0];
    worker.terminate();
    worker.dispatchEvent(new ErrorEvent("error", { message: "RuntimeError: unreachable" }));
  });
  await page.locator('main[aria-busy="false"]').waitFor({ timeout: 10_000 });
  assert.match(await page.getByRole("alert").textContent(), /worker stopped \(RuntimeError: unreachable\).*click Explain again/);
  assert.equal(await page.inputValue("#text"), REVIEW, "the text stays");
  await page.getByText("Model loaded", { exact: false }).waitFor({ timeout: 120_000 });
  await explain(page, "A gorgeous, witty, seductive movie.");
  assert.equal(await page.locator('.method[data-method="integrated_gradients"]').count(), 1);
  assert.ok(await page.evaluate(() => window.startedWorkers.length) > started, "a new team replaced the old");
  await page.close();
});

test("a text longer than the model reads is explained from its beginning, and the page says so", async () => {
  const { page } = await loadedPage(browser, site.origin);
  for (const m of ["Integrated Gradients", "Occlusion"]) await page.getByLabel(m, { exact: true }).uncheck();
  const long = "The first act is lovely. " + "Then it drags on and on without any point at all. ".repeat(30);
  await explain(page, long);
  await page.getByText("longer than the model reads", { exact: false }).waitFor();
  const words = await page.locator('.method[data-method="grad_sam"] .word').allTextContents();
  assert.ok(words.length > 50 && words.length < 128, `only the words that fit were scored: ${words.length}`);
  assert.deepEqual(words.slice(0, 4), ["The", "first", "act", "is"]);
  await page.close();
});

test("the test server serves nothing outside its root, however the path is spelled", async () => {
  // dist/ sits in the repository: "../Cargo.toml" from it is a file that exists.
  for (const path of ["/..%2fCargo.toml", "/model/..%2f..%2fCargo.toml", "/%2e%2e%2fCargo.toml"]) {
    const response = await fetch(site.origin + path);
    assert.equal(response.status, 403, path);
  }
  assert.equal((await fetch(site.origin + "/model/config.json")).status, 200);
});
