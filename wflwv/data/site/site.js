// wflwv leaderboard page: filters, sorting, URL state and downloads over the embedded leaderboard.json.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("lb-data").textContent);
  const COLS = DATA.columns;
  const FILTERS = ["board", "model", "filter", "source", "sim"];
  const byId = {};
  DATA.rows.forEach(function (r) { byId[r.row_id] = r; });
  let state = {};

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }
  function isNum(v) { return typeof v === "number" && isFinite(v); }
  function fmt(v, digits) {
    if (v === null || v === undefined || v === "") return "";
    if (typeof v === "boolean") return v ? "yes" : "no";
    if (isNum(v) && digits !== null && digits !== undefined) return v.toFixed(digits).replace(/^-(0\.?0*)$/, "$1");
    return String(v);
  }

  // ---- URL state -------------------------------------------------------------------------
  function readState() {
    const p = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    state = {sort: p.get("sort") || "", dir: p.get("dir") === "desc" ? "desc" : "asc"};
    FILTERS.forEach(function (k) { state[k] = p.get(k) || ""; });
  }
  function writeState() {
    const p = new URLSearchParams();
    FILTERS.concat(["sort", "dir"]).forEach(function (k) {
      if (state[k] && !(k === "dir" && !state.sort)) p.set(k, state[k]);
    });
    const h = p.toString();
    history.replaceState(null, "", h ? "#" + h : window.location.pathname + window.location.search);
  }

  // ---- filtering and sorting -------------------------------------------------------------
  function keep(r) {
    if (state.board && r.board !== state.board) return false;
    if (state.model && r.model !== state.model) return false;
    if (state.filter && r.filter !== state.filter) return false;
    if (state.source && r.source !== state.source) return false;
    if (state.sim === "yes" && !r.simulated) return false;
    if (state.sim === "no" && r.simulated) return false;
    return true;
  }
  function cmp(a, b) {
    const k = state.sort;
    if (!k) return 0;
    const va = a[k], vb = b[k];
    const na = va === null || va === undefined || va === "", nb = vb === null || vb === undefined || vb === "";
    if (na || nb) return na === nb ? 0 : (na ? 1 : -1);  // missing values last in both directions
    let c = (isNum(va) && isNum(vb)) ? va - vb : String(va).localeCompare(String(vb));
    return state.dir === "desc" ? -c : c;
  }
  function visibleRows() {
    const out = [];
    DATA.boards.forEach(function (b) {
      ["online", "offline"].forEach(function (sec) {
        const rows = DATA.rows.filter(function (r) { return r.board === b.id && r.section === sec && keep(r); });
        rows.sort(cmp);
        rows.forEach(function (r) { out.push(r); });
      });
    });
    return out;
  }

  // ---- rendering -------------------------------------------------------------------------
  function headLabel(c) {
    const info = COLS[c] || {label: c};
    const arrow = info.better === "lower" ? " ↓" : (info.better === "higher" ? " ↑" : "");
    return esc(info.label) + (info.unit ? " <span class=\"ci\">" + esc(info.unit) + "</span>" : "") + arrow;
  }
  function cell(r, c) {
    const info = COLS[c] || {};
    const text = ["model", "filter", "source"].indexOf(c) >= 0;
    let html = esc(fmt(r[c], info.digits));
    if (c === "model") {
      if (r.simulated) html += "<span class=\"badge sim\" title=\"simulated detector: reads the ground truth\">SIM</span>";
    } else if (c === "filter") {
      if (r.tuned_on_eval_split) html += "<span class=\"badge insample\" title=\"preset tuned on this split\">in-sample</span>";
      if (r.source === "wflwv" && !r.causal) html += "<span class=\"badge\">offline</span>";
    } else if (c === "source") {
      if (r.second_hand) html += " <span title=\"read second-hand from another table\">†</span>";
      if (r.source === "derived") html += "<span class=\"badge\" title=\"computed from published relative numbers\">not measured</span>";
    } else if (c === "nme_io" || c === "nme_fs" || c === "nmf") {
      const lo = r[c + "_ci_lo"], hi = r[c + "_ci_hi"];
      if (isNum(lo) && isNum(hi)) html += " <span class=\"ci\">[" + lo.toFixed(info.digits) + ", " + hi.toFixed(info.digits) + "]</span>";
    } else if (c === "dnmf_vs_unfiltered" || c === "dnme_io_vs_unfiltered") {
      const lo = r[c + "_lo"], hi = r[c + "_hi"];
      if (isNum(lo) && isNum(hi)) {
        const sig = lo > 0 || hi < 0, cls = hi < 0 ? "sig better" : "sig worse";
        html = (sig ? "<span class=\"" + cls + "\" title=\"95 % interval excludes zero\">" + html + " ✓</span>" : html) +
          " <span class=\"ci\">[" + lo.toFixed(info.digits) + ", " + hi.toFixed(info.digits) + "]</span>";
      }
    }
    return "<td class=\"" + (text ? "text " : "") + "c-" + esc(c) + "\">" + html + "</td>";
  }
  function provenance(r, ncol) {
    const items = [];
    function add(k, v) { if (v !== null && v !== undefined && v !== "") items.push("<dt>" + esc(k) + "</dt><dd>" + v + "</dd>"); }
    if (r.source === "wflwv") {
      add("wflwv commit", r.wflwv_git ? "<code>" + esc(r.wflwv_git) + "</code>" : "not recorded (run outside a git checkout)");
      add("weights SHA-256", r.weights_sha256 ? "<code>" + esc(r.weights_sha256) + "</code>" : "none (no weights file)");
      add("weights verified", r.weights_verified === null || r.weights_verified === undefined ? "not recorded" : (r.weights_verified ? "yes" : "NO"));
      add("index fingerprint", r.index_fingerprint ? "<code>" + esc(r.index_fingerprint) + "</code>" : "");
      add("index content SHA-256", r.index_content_sha ? "<code>" + esc(r.index_content_sha) + "</code>" : "");
      add("command", "<code>" + esc(r.command || "") + "</code>");
      add("filter", "<code>" + esc(r.filter_id) + "</code> " + esc(r.filter_params || ""));
      add("filter preset", esc(r.filter_preset || ""));
      add("protocol", esc([r.protocol, "boxes " + r.box_source, "crop " + r.crop_protocol, "scheme " + r.landmark_scheme,
        r.exclude_unreliable ? "unreliable frames excluded" : "all frames"].join(" · ")));
      add("run", esc(r.run));
      const links = Object.keys(r.links || {}).map(function (k) {
        return "<a href=\"" + esc(r.links[k]) + "\">" + esc(k) + "</a>";
      });
      add("files", links.join(" · "));
    } else {
      add("citation", esc(r.citation || ""));
      add("second-hand", r.second_hand ? "yes: read from another paper's or site's table" : "no");
      add("provenance", esc(r.provenance || ""));
    }
    add("notes", esc(r.notes || ""));
    return "<tr class=\"prov\" data-for=\"" + esc(r.row_id) + "\" hidden><td colspan=\"" + ncol + "\"><dl>" + items.join("") + "</dl></td></tr>";
  }
  function table(b, sec, rows) {
    const cols = b.columns;
    let h = "<table class=\"lb\" data-board=\"" + esc(b.id) + "\" data-section=\"" + sec + "\"><thead><tr>";
    cols.forEach(function (c) {
      const cls = (["model", "filter", "source"].indexOf(c) >= 0 ? "text " : "") +
        (state.sort === c ? "sorted-" + state.dir : "");
      h += "<th data-col=\"" + esc(c) + "\" class=\"" + cls + "\">" + headLabel(c) + "</th>";
    });
    h += "</tr></thead><tbody>";
    rows.forEach(function (r) {
      h += "<tr class=\"row" + (r.source === "derived" ? " derived" : "") + "\" data-row=\"" + esc(r.row_id) + "\">" +
        cols.map(function (c) { return cell(r, c); }).join("") + "</tr>" + provenance(r, cols.length);
    });
    return h + "</tbody></table>";
  }
  function pairedTable(b) {
    const list = DATA.paired.filter(function (p) {
      const a = byId[p.row_a], c = byId[p.row_b];
      return p.board === b.id && a && c && (keep(a) || keep(c));
    });
    if (!list.length) return "";
    const pairs = {};
    list.forEach(function (p) {
      const k = p.row_a + "|" + p.row_b;
      pairs[k] = pairs[k] || {a: byId[p.row_a], b: byId[p.row_b], kind: p.kind};
      pairs[k][p.metric] = p;
    });
    function cellOf(p, d) {
      if (!p) return "<td></td>";
      const s = p.delta.toFixed(d) + (p.excludes_zero ? " ✓" : "");
      return "<td class=\"" + (p.excludes_zero ? (p.ci_hi < 0 ? "sig better" : "sig worse") : "") + "\">" + s + " <span class=\"ci\">[" + p.ci_lo.toFixed(d) + ", " + p.ci_hi.toFixed(d) + "]</span></td>";
    }
    let h = "<details class=\"paired\" data-board=\"" + esc(b.id) + "\"><summary>paired bootstrap over videos: " +
      Object.keys(pairs).length + " comparisons</summary><table><thead><tr><th class=\"text\">A</th><th class=\"text\">B</th>" +
      "<th>ΔNME io (A−B) %</th><th>ΔNMF (A−B)</th><th>videos</th></tr></thead><tbody>";
    Object.keys(pairs).forEach(function (k) {
      const p = pairs[k], any = p.nmf || p.nme_io;
      h += "<tr><td class=\"text\">" + esc(p.a.model + " · " + p.a.filter) + "</td><td class=\"text\">" +
        esc(p.b.model + " · " + p.b.filter) + "</td>" + cellOf(p.nme_io, 3) + cellOf(p.nmf, 2) + "<td>" + any.n_videos + "</td></tr>";
    });
    return h + "</tbody></table></details>";
  }
  function gtFreeTable(b, rows) {
    const cols = b.gt_free_columns;
    const head = "<h3>GT-free: jitter vs lag</h3>";
    if (!cols.length) return head + "<p class=\"empty\">no GT-free stability metrics on this board.</p>";
    const list = rows.filter(function (r) { return r.gt_free_order !== null && r.gt_free_order !== undefined; });
    list.sort(function (a, c) { return a.gt_free_order - c.gt_free_order; });
    let h = head + "<p class=\"note\">Rows follow the Pareto front of jitter (D2) against lag, then the distance to " +
      "the zero-lag reference of the raw detections; jitter alone never ranks a filter (a filter that lags looks steadier).</p>" +
      "<table class=\"gtfree\" data-board=\"" + esc(b.id) + "\"><thead><tr><th>#</th><th class=\"text\">model</th><th class=\"text\">filter</th>";
    cols.forEach(function (c) { h += "<th>" + headLabel(c) + "</th>"; });
    h += "</tr></thead><tbody>";
    list.forEach(function (r) {
      const no = (b.gt_free_numbers || {})[r.row_id];
      h += "<tr><td>" + (no === undefined ? "" : no) + "</td>" + cell(r, "model") + cell(r, "filter") + cols.map(function (c) {
        return c === "pareto_rank" ? "<td>" + (r.pareto_rank === 0 ? "front" : (r.pareto_rank > 0 ? r.pareto_rank : "–")) + "</td>" : cell(r, c);
      }).join("") + "</tr>";
    });
    return h + "</tbody></table>" + (b.plots.gtfree ? "<div class=\"plots\"><figure>" + b.plots.gtfree + "</figure></div>" : "");
  }
  function render() {
    const main = document.getElementById("boards");
    let html = "", n = 0;
    DATA.boards.forEach(function (b) {
      if (state.board && state.board !== b.id) return;
      const all = DATA.rows.filter(function (r) { return r.board === b.id && keep(r); });
      if (!all.length) return;
      html += "<section class=\"board\" id=\"" + esc(b.id) + "\"><h2>" + esc(b.title) + "</h2><div class=\"key\">";
      Object.keys(b.key).forEach(function (k) { html += "<span>" + esc(k) + ": <b>" + esc(b.key[k]) + "</b></span>"; });
      html += "</div>";
      [["online", "online: unfiltered and causal filters"], ["offline", "offline smoothers"]].forEach(function (s) {
        if (b.gt_free_only) return;  // no ground truth: only the GT-free section means anything
        const rows = all.filter(function (r) { return r.section === s[0]; });
        if (!rows.length) return;
        rows.sort(cmp);
        n += rows.length;
        html += "<h3>" + s[1] + "</h3>" + table(b, s[0], rows);
      });
      if (b.gt_free_only) n += all.length;
      html += pairedTable(b);
      html += "<div class=\"plots\">" + (b.plots.scatter ? "<figure>" + b.plots.scatter + "</figure>" : "") +
        (b.plots.ced ? "<figure>" + b.plots.ced + "</figure>" : "") +
        (b.plots.nad ? "<figure>" + b.plots.nad + "</figure>" : "") + "</div>";
      html += gtFreeTable(b, all);
      html += "</section>";
    });
    main.innerHTML = html || "<p class=\"empty\">no rows match these filters.</p>";
    document.getElementById("count").textContent = n + " of " + DATA.rows.length + " rows";
    main.querySelectorAll("th[data-col]").forEach(function (th) {
      th.addEventListener("click", function () {
        const c = th.getAttribute("data-col");
        if (state.sort === c) state.dir = state.dir === "asc" ? "desc" : "asc";
        else { state.sort = c; state.dir = (COLS[c] && COLS[c].better === "higher") ? "desc" : "asc"; }
        writeState();
        render();
      });
    });
    main.querySelectorAll("tr.row").forEach(function (tr) {
      tr.addEventListener("click", function (ev) {
        if (ev.target.tagName === "A") return;
        const p = tr.nextElementSibling;
        if (p && p.classList.contains("prov")) p.hidden = !p.hidden;
      });
    });
  }

  // ---- controls and downloads ------------------------------------------------------------
  function options(sel, values, labels) {
    sel.innerHTML = "<option value=\"\">all</option>" + values.map(function (v, i) {
      return "<option value=\"" + esc(v) + "\">" + esc(labels ? labels[i] : v) + "</option>";
    }).join("");
  }
  function uniq(key) {
    const s = {};
    DATA.rows.forEach(function (r) { if (r[key] !== null && r[key] !== undefined) s[r[key]] = 1; });
    return Object.keys(s).sort();
  }
  function download(name, text, type) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], {type: type}));
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }
  function csvOf(rows) {
    const cols = [];
    rows.forEach(function (r) { Object.keys(r).forEach(function (k) { if (k !== "links" && cols.indexOf(k) < 0) cols.push(k); }); });
    function q(v) {
      if (v === null || v === undefined) return "";
      const s = String(v);
      return /[",\n]/.test(s) ? "\"" + s.replace(/"/g, "\"\"") + "\"" : s;
    }
    return [cols.join(",")].concat(rows.map(function (r) { return cols.map(function (c) { return q(r[c]); }).join(","); })).join("\n") + "\n";
  }
  function init() {
    readState();
    options(document.getElementById("f-board"), DATA.boards.map(function (b) { return b.id; }),
      DATA.boards.map(function (b) { return b.title; }));
    options(document.getElementById("f-model"), uniq("model"));
    options(document.getElementById("f-filter"), uniq("filter"));
    options(document.getElementById("f-source"), uniq("source"));
    options(document.getElementById("f-sim"), ["yes", "no"]);
    FILTERS.forEach(function (k) {
      const sel = document.querySelector("select[data-key=\"" + k + "\"]");
      sel.value = state[k];
      if (sel.value !== state[k]) state[k] = "";  // unknown value in the URL: show all
      sel.addEventListener("change", function () { state[k] = sel.value; writeState(); render(); });
    });
    document.getElementById("reset").addEventListener("click", function () {
      state = {sort: "", dir: "asc"};
      FILTERS.forEach(function (k) { state[k] = ""; document.querySelector("select[data-key=\"" + k + "\"]").value = ""; });
      writeState();
      render();
    });
    document.getElementById("dl-csv").addEventListener("click", function () {
      download("leaderboard-view.csv", csvOf(visibleRows()), "text/csv");
    });
    document.getElementById("dl-json").addEventListener("click", function () {
      const doc = {schema: DATA.schema, schema_version: DATA.schema_version, view: state, rows: visibleRows(),
        paired: DATA.paired.filter(function (p) { return byId[p.row_a] && keep(byId[p.row_a]); })};
      download("leaderboard-view.json", JSON.stringify(doc, null, 1), "application/json");
    });
    document.getElementById("meta").textContent = "schema " + DATA.schema + " v" + DATA.schema_version +
      " · generated " + DATA.generated_utc + " · wflwv " + DATA.wflwv_version + (DATA.wflwv_git ? " (" + DATA.wflwv_git + ")" : "");
    const m = DATA.paired_method;
    document.getElementById("method").textContent = "Seed " + m.seed + ", " + m.n_boot + " resamples, level " + m.level + " (" + m.doc + ").";
    window.addEventListener("hashchange", function () { readState(); FILTERS.forEach(function (k) {
      document.querySelector("select[data-key=\"" + k + "\"]").value = state[k]; }); render(); });
    render();
  }
  init();
})();
