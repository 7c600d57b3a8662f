"""`/docs`: one self-contained HTML page that renders `/openapi.json` in the browser.

No script, style or font comes from elsewhere, so it works with no internet.
"""

from __future__ import annotations

DOCS_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ACD Warehouse read API</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-top: 1px solid #ddd; padding-top: 1rem; }
code, pre { font-family: ui-monospace, monospace; background: #f4f4f6; padding: 0 .25rem; border-radius: 3px; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; } td, th { border-bottom: 1px solid #eee; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #fafafa; } .muted { color: #666; } nav a { margin-right: .75rem; }
</style>
</head>
<body>
<h1>ACD Warehouse read API</h1>
<p id="intro" class="muted">Loading <a href="/openapi.json">/openapi.json</a>…</p>
<p>Send your key as <code>Authorization: Bearer &lt;key&gt;</code>. Filters: <code>col=v</code>
(repeat for several values), <code>col[gte]=</code>, <code>col[lte]=</code>, <code>col[gt]=</code>,
<code>col[lt]=</code>; <code>order=col,-col</code>; <code>limit</code>; <code>cursor</code>
(the previous page's <code>next_cursor</code>); <code>format=json|csv|ndjson</code>.</p>
<nav id="nav"></nav>
<div id="marts"></div>
<script>
function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}
function typeOf(schema) {
  if (!schema || !schema.type) return "json";
  const t = Array.isArray(schema.type) ? schema.type.filter((x) => x !== "null").join("|") : schema.type;
  return schema.format ? t + " (" + schema.format + ")" : t;
}
fetch("/openapi.json").then((r) => r.json()).then((doc) => {
  document.getElementById("intro").textContent = doc.info.description + " Version " + doc.info.version + ".";
  const nav = document.getElementById("nav");
  const root = document.getElementById("marts");
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith("/v1/marts/")) continue;
    const name = path.slice("/v1/marts/".length);
    const op = item.get;
    nav.appendChild(el("a", name, { href: "#" + name }));
    const section = el("section", null, { id: name });
    section.appendChild(el("h2", "GET " + path));
    section.appendChild(el("p", op.description));
    const schema = doc.components.schemas[name];
    const filterable = new Set(op.parameters.map((p) => p.name));
    const table = el("table");
    const head = el("tr");
    for (const h of ["column", "type", "filter / order", "description"]) head.appendChild(el("th", h));
    table.appendChild(head);
    for (const [column, s] of Object.entries(schema.properties)) {
      const row = el("tr");
      row.appendChild(el("td")).appendChild(el("code", column));
      row.appendChild(el("td", typeOf(s)));
      row.appendChild(el("td", filterable.has(column) ? "yes" : "no"));
      row.appendChild(el("td", s.description || ""));
      table.appendChild(row);
    }
    section.appendChild(table);
    root.appendChild(section);
  }
}).catch((e) => { document.getElementById("intro").textContent = "Cannot load /openapi.json: " + e; });
</script>
</body>
</html>
"""
