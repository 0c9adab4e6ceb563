// Drives Debian's Chromium (playwright-core) through the API pages of a running stack with
// every request off the stack refused (as offline, or under a strict content policy):
// Swagger UI must render and run a call, GraphiQL must render and run a query.
// Usage: node tests/browser/docs_pages.mjs BASE_URL SCREENSHOT_DIR ASSET_ID TOKEN -> JSON on stdout
import { chromium } from "playwright-core";

const [base, shots, assetId, token] = process.argv.slice(2);
const FLAGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const result = { swagger: {}, graphiql: {}, offSite: [], errors: [] };
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: FLAGS });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.route("**/*", (route) =>
    route.request().url().startsWith(base)
      ? route.continue()
      : (result.offSite.push(route.request().url()), route.abort())
  );
  // A user who put their token in GraphiQL's Headers pane on an earlier visit (GraphiQL keeps
  // it in localStorage): every GraphiQL page sends it with its queries.
  await context.addInitScript((t) => {
    localStorage.setItem("graphiql:headers", JSON.stringify({ Authorization: `Bearer ${t}` }));
  }, token);
  const page = await context.newPage();
  page.on("pageerror", (e) => result.errors.push(`${page.url()}: ${e}`));
  page.on("console", (m) => m.type() === "error" && result.errors.push(`${page.url()}: ${m.text()}`));
  page.on("response", async (r) => {
    if (r.status() >= 500) {
      const body = await r.text().catch(() => "");
      result.errors.push(`${r.request().method()} ${r.url()} -> ${r.status()}: ${body.slice(0, 500)} (sent ${r.request().postData()?.slice(0, 300)})`);
    }
  });

  // Swagger UI: the operations render; GET /registry/health runs from the page.
  const docs = await page.goto(`${base}/registry/docs`);
  result.swagger.csp = docs.headers()["content-security-policy"] || "";
  await page.waitForSelector(".opblock", { timeout: 30000 });
  result.swagger.operations = await page.locator(".opblock").count();
  const health = page.locator(".opblock", { hasText: "/registry/health" }).first();
  await health.locator(".opblock-summary").click();
  await health.getByRole("button", { name: "Try it out" }).click();
  await health.getByRole("button", { name: "Execute" }).click();
  const status = health.locator(".live-responses-table tbody .response-col_status").first();
  await status.waitFor({ timeout: 15000 });
  result.swagger.status = (await status.innerText()).trim();
  result.swagger.body = (await health.locator(".live-responses-table .microlight").first().innerText()).trim();
  await page.screenshot({ path: `${shots}/swagger-ui.png` });

  // GraphiQL: the editor renders; a query runs and its answer shows.
  const gql = await page.goto(`${base}/registry/graphql`);

  result.graphiql.csp = gql.headers()["content-security-policy"] || "";
  await page.waitForSelector(".graphiql-container .graphiql-query-editor .CodeMirror", { timeout: 30000 });
  await page.evaluate((id) => {
    const editor = document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror;
    editor.setValue(`{ searchAssets(filters: {asset_id: "${id}"}) { assetId assetVersion } }`);
  }, assetId);
  // The query goes by POST with the caller's token, as GraphiQL's Headers pane sends it.
  await page.locator(".graphiql-execute-button").click();
  await page.waitForFunction(
    () => (document.querySelector(".result-window")?.textContent || "").includes("searchAssets"),
    null,
    { timeout: 15000 }
  );
  result.graphiql.response = await page.locator(".result-window").innerText();
  await page.screenshot({ path: `${shots}/graphiql.png` });

  // The Component registry's GraphiQL takes its files from its own prefix.
  await page.goto(`${base}/components/gql`);
  await page.waitForSelector(".graphiql-container .graphiql-query-editor .CodeMirror", { timeout: 30000 });
  result.components = { rendered: true };
} catch (error) {
  result.errors.push(String(error));
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result));
