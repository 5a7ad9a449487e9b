// Ask the real Mermaid whether it accepts diagrams, many per Node process.
//
// Usage:
//   node tools/mermaid-check.mjs [--mermaid 12|11] [--serve]
//
// --mermaid picks the major version: 12 (npm package `mermaid`, the default) or 11 (`mermaid11`);
// the package names themselves are accepted too.
//
// Without --serve, stdin holds one JSON array of diagram texts; stdout gets one JSON array with
// a result per diagram. With --serve, every stdin line is such an array and every answer is one
// stdout line, so a test session pays Node's and Mermaid's start-up (about half a second) once.
//
// A result is {"ok": true, "type": ..., "vertices": {...}, "edges": [...], "tooltips": {...}}
// or {"ok": false, "error": "..."}. For flowcharts, each vertex carries `text`, its label as a
// reader sees it: Mermaid's parsed label with its entity codes (`#35;`, `#quot;`) decoded the way
// a rendered page decodes them, markup stripped to its text. Parsing is all a DOM-less Node can
// do: render-time failures (maxTextSize, id clashes with subgraphs) need a browser.
//
// Mermaid must find a DOM when its module is evaluated, so the jsdom window is installed on
// globalThis before the dynamic import below.

import { createInterface } from "node:readline";
import { JSDOM } from "jsdom";

const args = process.argv.slice(2);
const pkgIndex = args.indexOf("--mermaid");
const PACKAGES = { 12: "mermaid", 11: "mermaid11", mermaid: "mermaid", mermaid11: "mermaid11" };
const wanted = pkgIndex >= 0 ? args[pkgIndex + 1] : "12";
const pkg = PACKAGES[wanted];
const serve = args.includes("--serve");
if (pkg === undefined) {
  process.stderr.write(`mermaid-check: unknown Mermaid version ${wanted}; use 12 or 11\n`);
  process.exit(2);
}

const dom = new JSDOM("<!doctype html><html><body></body></html>", { pretendToBeVisual: true });
globalThis.window = dom.window;
globalThis.document = dom.window.document;

// stdout carries the answers only; Mermaid's own logging goes to stderr.
const out = process.stdout;
for (const level of ["log", "info", "warn", "debug", "trace"]) {
  console[level] = (...items) => process.stderr.write(items.join(" ") + "\n");
}

const mermaid = (await import(pkg)).default;
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
const version = JSON.parse(
  (await import("node:fs")).readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url)),
).version;

// Mermaid replaces `#35;` by `ﬂ°°35¶ß` and `#quot;` by `ﬂ°quot¶ß` before parsing, and turns them
// into `&#35;` / `&quot;` in the SVG it produces; the browser then shows the decoded character.
function shown(text) {
  if (typeof text !== "string") return text;
  const html = text
    .replace(/ﬂ°°(\d+)¶ß/g, "&#$1;")
    .replace(/ﬂ°(\w+)¶ß/g, "&$1;");
  const div = dom.window.document.createElement("div");
  div.innerHTML = html;
  return div.textContent;
}

// Mermaid does not hand the front matter's title to getDiagramFromText; penstock writes it as
// `title: "<a JSON string>"`, which is read here the same way.
function frontMatterTitle(text) {
  const match = /^---\n(?:.*\n)*?title: (".*")\n(?:.*\n)*?---\n/.exec(text);
  if (!match) return undefined;
  try {
    return JSON.parse(match[1]);
  } catch {
    return undefined;
  }
}

async function check(text) {
  if (typeof text !== "string") {
    return { ok: false, error: `expected a string, got ${typeof text}` };
  }
  try {
    await mermaid.parse(text);
  } catch (err) {
    return { ok: false, error: String(err && err.message ? err.message : err) };
  }
  const result = { ok: true, version };
  try {
    const title = frontMatterTitle(text);
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text, title ? { title } : {});
    result.type = diagram.type;
    const db = diagram.db;
    // Drawn with d3's .text(): shown as is, after Mermaid's sanitizer.
    if (typeof db.getDiagramTitle === "function") result.title = db.getDiagramTitle();
    if (typeof db.getVertices === "function") {
      result.vertices = {};
      for (const [id, v] of db.getVertices()) {
        result.vertices[id] = { text: shown(v.text), raw: v.text, shape: v.type ?? null, link: v.link ?? null };
      }
      result.edges = db.getEdges().map((e) => ({
        start: e.start,
        end: e.end,
        type: e.type,
        stroke: e.stroke,
        text: shown(e.text),
      }));
      result.tooltips = {};
      const tips = db.tooltips;
      if (tips instanceof Map) {
        for (const [id, tip] of tips) result.tooltips[id] = shown(tip);
      }
    }
  } catch (err) {
    result.detailsError = String(err && err.message ? err.message : err);
  }
  return result;
}

async function answer(line) {
  let diagrams;
  try {
    diagrams = JSON.parse(line);
  } catch (err) {
    return { error: `stdin is not JSON: ${err.message}` };
  }
  if (!Array.isArray(diagrams)) return { error: "stdin must be a JSON array of diagram texts" };
  const results = [];
  for (const text of diagrams) results.push(await check(text)); // one at a time: one db
  return results;
}

if (serve) {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    out.write(JSON.stringify(await answer(line)) + "\n");
  }
} else {
  let input = "";
  process.stdin.setEncoding("utf8");
  for await (const chunk of process.stdin) input += chunk;
  const results = await answer(input);
  out.write(JSON.stringify(results) + "\n");
  if (!Array.isArray(results)) process.exitCode = 2;
}
