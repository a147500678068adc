/**
 * The explorer page served at `/`: one static HTML file with inline JS, no build step. Ask for a
 * user's merged recall, see which channels recalled each item and at what rank, per-channel
 * timings and warnings; click an item for its similar items, or record it as an event and watch
 * the recent history change the next answer.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>recallkit — recall explorer</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #f6f7fb; }
  body { margin: 0 auto; max-width: 1200px; padding: 16px 24px; }
  h1 { font-size: 20px; margin: 0 0 12px; } h2 { font-size: 15px; margin: 18px 0 6px; }
  form { display: flex; flex-wrap: wrap; gap: 10px 16px; align-items: end; background: #fff; padding: 12px;
         border-radius: 8px; box-shadow: 0 1px 2px #0001; }
  label { display: flex; flex-direction: column; font-size: 12px; color: #556; gap: 3px; }
  input[type=text], input[type=number] { padding: 5px 7px; border: 1px solid #ccd; border-radius: 5px; font: inherit; }
  button { padding: 6px 14px; border: 0; border-radius: 5px; background: #2f5bea; color: #fff; font: inherit; cursor: pointer; }
  button.small { padding: 1px 7px; font-size: 12px; background: #e8ecf8; color: #2f5bea; }
  .grid { display: grid; grid-template-columns: 2fr 1fr; gap: 16px; }
  table { border-collapse: collapse; width: 100%; background: #fff; border-radius: 8px; overflow: hidden; font-size: 13px; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eef; } th { background: #eef1f8; font-weight: 600; }
  .badge { display: inline-block; padding: 1px 6px; border-radius: 9px; font-size: 11px; margin: 1px 2px; color: #fff; white-space: nowrap; }
  .ins { outline: 2px solid #1d2330; }
  .st-ok { color: #198038; } .st-error, .st-timeout { color: #da1e28; font-weight: 600; } .st-skipped, .st-empty { color: #8a8f9c; }
  #warnings li { color: #b15c00; } #summary { font-size: 13px; color: #445; margin: 8px 0; }
  #error { color: #da1e28; font-weight: 600; white-space: pre-wrap; }
  .muted { color: #8a8f9c; font-size: 12px; }
</style>
</head>
<body>
<h1>recallkit — recall explorer</h1>
<form id="form">
  <label>user <input id="user" type="text" value="" size="12" required></label>
  <label>k <input id="k" type="number" value="20" min="1" style="width:70px"></label>
  <label>recent items (comma-separated) <input id="recent" type="text" size="18" placeholder="i1,i2"></label>
  <label>user features (field=value, ...) <input id="features" type="text" size="22" placeholder="gender=F,age=25-34"></label>
  <label>rule: field in values <input id="rule" type="text" size="18" placeholder="city=city1|city2"></label>
  <label><span><input id="excludeSeen" type="checkbox" checked> exclude seen</span></label>
  <button id="go" type="submit">Recall</button>
</form>
<div id="error"></div>
<div id="summary"></div>
<div class="grid">
  <div>
    <h2>Merged items <span class="muted">(outlined badge: the channel whose turn inserted the item)</span></h2>
    <table id="items"><thead><tr><th>#</th><th>item</th><th>recalled by (channel #rank, score)</th><th></th></tr></thead><tbody></tbody></table>
  </div>
  <div>
    <h2>Channels</h2>
    <table id="channels"><thead><tr><th>channel</th><th>status</th><th>ms</th><th>kept / returned</th></tr></thead><tbody></tbody></table>
    <h2>Warnings</h2><ul id="warnings"></ul>
    <h2>Context</h2><div id="context" class="muted"></div>
    <h2>Similar items <span id="simOf" class="muted"></span></h2>
    <table id="similar"><thead><tr><th>item</th><th>score</th></tr></thead><tbody></tbody></table>
  </div>
</div>
<script>
const PALETTE = ["#2f5bea", "#198038", "#8a3ffc", "#d12771", "#b28600", "#007d79", "#fa4d56", "#6f6f6f", "#0072c3", "#a56eff"];
const colors = {};
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const color = (ch) => colors[ch] || (colors[ch] = PALETTE[Object.keys(colors).length % PALETTE.length]);

async function api(method, url, body) {
  const r = await fetch(url, { method, headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
  const j = await r.json();
  if (!r.ok) throw new Error((j.error && j.error.code + ": " + j.error.message) || r.statusText);
  return j;
}

function request() {
  const body = { user: $("user").value.trim(), k: Number($("k").value) };
  const recent = $("recent").value.split(",").map((s) => s.trim()).filter(Boolean);
  if (recent.length) body.recentItems = recent;
  const feats = {};
  for (const kv of $("features").value.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [f, v] = kv.split("=");
    if (f && v) (feats[f] = feats[f] || []).push(v);
  }
  if (Object.keys(feats).length) body.userFeatures = feats;
  const filters = { excludeSeen: $("excludeSeen").checked };
  const rule = $("rule").value.trim();
  if (rule.includes("=")) {
    const [field, values] = rule.split("=");
    filters.rules = [{ field: field.trim(), in: values.split("|").map((s) => s.trim()).filter(Boolean) }];
  }
  body.filters = filters;
  return body;
}

async function recall() {
  $("error").textContent = "";
  try {
    render(await api("POST", "/v1/recall", request()));
  } catch (e) {
    $("error").textContent = e.message;
  }
}

function render(r) {
  $("summary").textContent = r.items.length + " items for " + r.user + " (" + r.path + " path) in " + r.ms + " ms · state v" + r.stateVersion;
  $("items").tBodies[0].innerHTML = r.items.map((it, i) =>
    "<tr data-item=\\"" + esc(it.item) + "\\"><td>" + (i + 1) + "</td><td><a href=\\"#\\" class=\\"sim\\">" + esc(it.item) + "</a></td><td>" +
    it.channels.map((p) => "<span class=\\"badge" + (p.channel === it.insertedBy ? " ins" : "") + "\\" style=\\"background:" + color(p.channel) + "\\" title=\\"score " + p.score + "\\">" +
      esc(p.channel) + " #" + p.rank + "</span>").join("") +
    "</td><td><button class=\\"small ev\\" type=\\"button\\">+ event</button></td></tr>").join("");
  $("channels").tBodies[0].innerHTML = r.channels.map((c) =>
    "<tr><td><span class=\\"badge\\" style=\\"background:" + color(c.name) + "\\">" + esc(c.name) + "</span></td><td class=\\"st-" + c.status + "\\">" + c.status +
    "</td><td>" + c.ms.toFixed(2) + "</td><td>" + c.kept + " / " + c.returned + "</td></tr>").join("");
  $("warnings").innerHTML = r.warnings.length ? r.warnings.map((w) => "<li>" + esc(w) + "</li>").join("") : "<li class=\\"muted\\">none</li>";
  const attrs = Object.entries(r.context.attributes).map(([k, v]) => k + "=" + v.join("|")).join(", ");
  $("context").textContent = "recent: " + (r.context.recentItems.join(", ") || "(none)") + " · attributes: " + (attrs || "(none)") +
    " · store: " + r.context.store;
}

$("items").addEventListener("click", async (e) => {
  const row = e.target.closest("tr[data-item]");
  if (!row) return;
  const item = row.dataset.item;
  e.preventDefault();
  try {
    if (e.target.classList.contains("ev")) {
      await api("POST", "/v1/events", { user: $("user").value.trim(), items: [item], event: "click" });
      await recall();
    } else if (e.target.classList.contains("sim")) {
      const s = await api("GET", "/v1/similar-items/" + encodeURIComponent(item) + "?k=10");
      $("simOf").textContent = "of " + item + " (" + s.model + ")";
      $("similar").tBodies[0].innerHTML = s.items.map((x) => "<tr><td>" + esc(x.item) + "</td><td>" + x.score + "</td></tr>").join("");
    }
  } catch (err) {
    $("error").textContent = err.message;
  }
});
$("form").addEventListener("submit", (e) => { e.preventDefault(); recall(); });
(async () => {
  const ch = await api("GET", "/v1/channels");
  ch.channels.forEach((c) => color(c.name));
  const q = new URLSearchParams(location.search);
  if (q.get("user")) { $("user").value = q.get("user"); recall(); }
})();
</script>
</body>
</html>
`;
