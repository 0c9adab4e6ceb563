// Drives Debian's Chromium (playwright-core) through the web console of a running local stack
// as a new user would: sign in, upload a folder and watch it ingest, find it by search and by a
// facet, open it, download one file and the ZIP, add a version and an alias, draw lineage, see a
// private asset hidden from another user, see a 4xx message; the other pages; axe on each.
// Usage: node tests/browser/console.mjs SPEC.json -> JSON on stdout (screenshots in spec.shots)
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

const spec = JSON.parse(readFileSync(process.argv[2], "utf8"));
const { base, s3, shots, folder, bigFolder, zipBundle, assetId, baseAsset, tag, alice, bob, admin } = spec;
const require = createRequire(join(process.cwd(), "console", "package.json"));
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const FLAGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const TIMEOUT = 60_000;
const result = { steps: [], errors: [], offSite: [], axe: {}, downloads: {}, serverErrors: [] };
const step = (name, extra = {}) => result.steps.push({ name, ...extra });

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: FLAGS });
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  await context.route("**/*", (route) => {
    const url = route.request().url();
    return url.startsWith(base) || url.startsWith(s3) ? route.continue() : (result.offSite.push(url), route.abort());
  });
  page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on("pageerror", (e) => result.errors.push(`${page.url()}: ${e}`));
  page.on("response", (r) => r.status() >= 500 && result.serverErrors.push(`${r.request().method()} ${r.url()} ${r.status()}`));

  const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  const axe = async (name) => {
    await page.evaluate(AXE);
    const found = await page.evaluate(async () => {
      const run = await window.axe.run(document, { resultTypes: ["violations"] });
      return run.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help, target: v.nodes[0]?.target }));
    });
    result.axe[name] = found;
  };
  const signIn = async (user, role) => {
    await page.goto(`${base}/console/`);
    await page.getByLabel("User name").fill(user);
    await page.getByLabel("Role").selectOption(role);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByTestId("user").filter({ hasText: user }).waitFor();
  };
  const signOut = async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("User name").waitFor();
  };
  const sha = (buffer) => createHash("sha256").update(buffer).digest("hex");

  // -- sign in, with the keyboard only ------------------------------------------------------
  const signinAnswer = await page.goto(`${base}/console`);
  result.csp = signinAnswer.headers()["content-security-policy"] || "";
  await page.getByLabel("User name").waitFor();
  await axe("sign-in");
  await shot("sign-in");
  await page.getByLabel("User name").focus();
  await page.keyboard.type(alice);
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter"); // the role's select: writer is the default
  await page.keyboard.press("Escape");
  await page.getByRole("button", { name: "Sign in" }).focus();
  await page.keyboard.press("Enter");
  await page.getByTestId("user").filter({ hasText: alice }).waitFor();
  result.tokenInLocalStorage = await page.evaluate(() => Object.keys(localStorage).some((k) => (localStorage.getItem(k) || "").includes("eyJ")));
  result.tokenInSessionStorage = await page.evaluate(() => Object.keys(sessionStorage).some((k) => (sessionStorage.getItem(k) || "").includes("eyJ")));
  // The skip link is the first stop of the keyboard, and takes it to the page's content.
  await page.keyboard.press("Tab");
  result.firstTab = await page.evaluate(() => document.activeElement?.textContent);
  step("signed in");

  // -- upload a folder, described with the form, and watch it ingest -------------------------
  await page.getByRole("link", { name: "Upload", exact: true }).click();
  await page.setInputFiles("#pick-folder", folder);
  await page.getByLabel("Asset id", { exact: true }).fill(assetId);
  await page.getByLabel("Version", { exact: true }).fill("v1");
  await page.getByLabel("Type", { exact: true }).fill("model");
  await page.getByLabel("Sub-type").fill("vision");
  await page.getByLabel("Tags (comma-separated)").fill(`${tag}, console`);
  await page.getByLabel("Description").fill("A detector uploaded from the console");
  await axe("upload");
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  const ingested = page.getByText("Ingested as");
  await ingested.waitFor({ timeout: 120_000 });
  result.phasesSeen = await page.locator(".phases li").allTextContents();
  result.fileBars = await page.locator("progress[aria-label$=' sent']").evaluateAll((bars) => bars.map((b) => b.value));
  await shot("upload");
  step("uploaded");

  // -- a resumable upload in parts: stopped while its second part is on the way, resumed ------
  const partPuts = {};
  let holding = null;
  let heldArrived;
  const partHeld = new Promise((resolve) => (heldArrived = resolve));
  await context.route(`${s3}/**`, async (route) => {
    const request = route.request();
    const number = /[?&]partNumber=(\d+)/.exec(request.url())?.[1];
    if (request.method() === "PUT" && number) {
      partPuts[number] = (partPuts[number] ?? 0) + 1;
      if (number === "2" && partPuts[number] === 1) {
        holding = route; // held until the user stops the upload
        heldArrived();
        return;
      }
    }
    await route.continue();
  });
  await page.getByRole("link", { name: "Upload", exact: true }).click();
  await page.setInputFiles("#pick-folder", bigFolder);
  await page.getByLabel("Asset id", { exact: true }).fill(`${assetId}-big`);
  await page.getByLabel("Version", { exact: true }).fill("v1");
  await page.getByLabel("Tags (comma-separated)").fill(tag);
  await page.getByLabel("Upload in resumable parts").check();
  const firstPart = page.waitForResponse((r) => r.request().method() === "PUT" && /[?&]partNumber=1/.test(r.url()));
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await partHeld;
  await firstPart;
  await page.getByRole("button", { name: "Stop" }).click();
  await page.getByText("Stopped. Choose the same files").waitFor();
  await holding.abort().catch(() => {});
  result.savedUploads = await page.evaluate(() => JSON.parse(localStorage.getItem("assets-console.uploads") || "[]").length);
  await page.setInputFiles("#pick-folder", bigFolder);
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await page.getByText("Resuming the upload of this bundle").waitFor();
  await page.getByText("Ingested as").waitFor({ timeout: 120_000 });
  result.partPuts = partPuts;
  await shot("upload-resumed");
  step("resumed");

  // -- find it by search, then by a facet ----------------------------------------------------
  await page.getByRole("link", { name: "Search" }).click();
  await page.getByLabel("Search names, descriptions and tags").fill("detector uploaded");
  await page.getByLabel("Search names, descriptions and tags").press("Enter");
  await page.getByRole("link", { name: assetId, exact: true }).waitFor();
  result.searchFound = true;
  await page.getByLabel("Search names, descriptions and tags").fill("");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await page.getByRole("checkbox", { name: new RegExp(`^${tag}`) }).check();
  await page.getByRole("link", { name: assetId, exact: true }).waitFor();
  result.facetRows = await page.locator("table.table tbody tr").count();
  result.facetUrl = page.url();
  await axe("search");
  await shot("search");
  step("found");

  // -- a 4xx shown as the API's message --------------------------------------------------------
  await page.getByText("Filter (MongoDB-style)").click();
  await page.getByLabel("A JSON filter of the allowed operators, combined with the search").fill('{"$where": "sleep(1000)"}');
  await page.getByRole("button", { name: "Search", exact: true }).click();
  const alert = page.getByRole("alert").filter({ hasText: "$where" });
  await alert.waitFor();
  result.errorShown = await alert.textContent();
  await shot("error");
  step("4xx shown");

  // -- the asset page; one file and the ZIP downloaded -----------------------------------------
  await page.goto(`${base}/console/#/assets/${encodeURIComponent(assetId)}`);
  await page.getByRole("heading", { name: "Files", exact: true }).waitFor();
  await page.getByRole("button", { name: "Download weights.bin" }).waitFor();
  result.fileRows = await page.locator("#files tbody tr").count();
  result.shaShown = await page.locator("#files code.sha").first().textContent();
  await axe("asset");
  await shot("asset");
  let pending = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download weights.bin" }).click();
  let download = await pending;
  const filePath = join(shots, "..", "weights.download");
  await download.saveAs(filePath);
  result.downloads.file = { name: download.suggestedFilename(), sha256: sha(readFileSync(filePath)) };
  pending = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download ZIP" }).click();
  download = await pending;
  const zipPath = join(shots, "..", "asset.download.zip");
  await download.saveAs(zipPath);
  result.downloads.zip = { name: download.suggestedFilename(), path: zipPath };
  step("downloaded");

  // -- a version, and an alias -----------------------------------------------------------------
  await page.getByLabel("New version").fill("v2");
  await page.getByRole("button", { name: "Add version" }).click();
  await page.getByText("Version v2 added").waitFor();
  await page.locator("#versions tbody tr", { hasText: "v2" }).first().waitFor();
  await page.getByLabel("Alias", { exact: true }).fill("production");
  await page.getByLabel("For version").selectOption("v1");
  await page.getByRole("button", { name: "Set alias" }).click();
  await page.getByText("Alias production now names v1").waitFor();
  await page.locator("#versions tbody tr", { hasText: "production" }).waitFor();
  result.versionRows = await page.locator("#versions tbody tr").allTextContents();
  await page.getByRole("heading", { name: "Versions and aliases" }).scrollIntoViewIfNeeded();
  await page.locator("#versions").screenshot({ path: join(shots, "versions.png") });
  step("versioned");

  // -- lineage drawn: this version derived from another asset ----------------------------------
  await page.getByLabel("Relation").selectOption("derived_from");
  await page.getByLabel("Asset", { exact: true }).fill(baseAsset);
  await page.getByLabel("Its version").fill("v1");
  await page.getByRole("button", { name: "Add edge" }).click();
  const graph = page.getByTestId("lineage-graph");
  await graph.waitFor();
  result.lineageNodes = await graph.locator("g.node").count();
  result.lineageEdges = await page.locator(".edge-list li").allTextContents();
  await page.locator("#lineage").screenshot({ path: join(shots, "lineage.png") });
  step("lineage");

  // -- another user does not see the private asset ----------------------------------------------
  await signOut();
  await signIn(bob, "assets-writer");
  await page.getByLabel("Search names, descriptions and tags").fill(assetId);
  await page.getByLabel("Search names, descriptions and tags").press("Enter");
  await page.getByText("No assets match.").waitFor();
  await page.goto(`${base}/console/#/assets/${encodeURIComponent(assetId)}`);
  const hidden = page.getByRole("alert");
  await hidden.waitFor();
  result.hiddenMessage = await hidden.textContent();
  await shot("hidden");
  step("hidden from bob");

  // -- an admin sees the audit history ------------------------------------------------------------
  await signOut();
  await signIn(admin, "assets-admin");
  await page.goto(`${base}/console/#/assets/${encodeURIComponent(assetId)}`);
  await page.getByRole("heading", { name: "Audit history" }).waitFor();
  await page.locator("#audit tbody tr").first().waitFor();
  result.auditActions = await page.locator("#audit tbody tr td:nth-child(3)").allTextContents();
  await page.locator("#audit").screenshot({ path: join(shots, "audit.png") });
  step("audit");

  // -- a ZIP dragged onto the page: its own asset.json describes it ------------------------------
  await page.getByRole("link", { name: "Upload", exact: true }).click();
  const zipBytes = readFileSync(zipBundle).toString("base64");
  const dataTransfer = await page.evaluateHandle((b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], "bundle.zip", { type: "application/zip" }));
    return transfer;
  }, zipBytes);
  await page.dispatchEvent(".dropzone", "dragover", { dataTransfer });
  await page.dispatchEvent(".dropzone", "drop", { dataTransfer });
  await page.getByRole("heading", { name: "ZIP: bundle.zip" }).waitFor();
  result.zipFormShown = await page.locator("#asset-form").count();
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await page.getByText("Ingested as").waitFor({ timeout: 120_000 });
  result.zipIngested = await page.getByText("Ingested as").textContent();
  step("zip dropped");

  // -- the other services' pages ------------------------------------------------------------------
  for (const [name, link, ready] of [
    ["assetdb", "Assets DB", "#assetdb-filter"],
    ["dbregistry", "DB registry", ".health.good"],
    ["components", "Components", "#components-filter"],
  ]) {
    await page.getByRole("link", { name: link, exact: true }).click();
    await page.locator(ready).first().waitFor();
    await page.locator("table.table tbody tr").first().waitFor();
    result[name] = await page.locator("table.table tbody tr").allTextContents();
    await axe(name);
    await shot(name);
  }
  step("services");
} catch (error) {
  result.failure = String(error && error.stack ? error.stack : error);
  if (page) await page.screenshot({ path: join(shots, "failure.png"), fullPage: true }).catch(() => {});
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result));
