// The call-list page: sign in, upload, watch, download. The token lives in
// this closure only (never in storage or a cookie) and goes to the page's
// own server in an Authorization header.
"use strict";
(function () {
  let token = "";
  let job = "";
  let timer = 0;
  const $ = (id) => document.getElementById(id);
  const show = (id, on) => { $(id).hidden = !on; };

  function fail(id, msg) {
    $(id).textContent = msg;
    show(id, true);
  }

  async function api(method, path) {
    const r = await fetch(path, { method, headers: { Authorization: "Bearer " + token }, cache: "no-store" });
    let body = {};
    try { body = await r.json(); } catch (e) { /* no body */ }
    if (!r.ok) throw new Error(body.error || r.statusText);
    return body;
  }

  $("signin-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    show("signin-error", false);
    token = $("token").value.trim();
    $("signin-button").disabled = true;
    try {
      await api("POST", "/api/signin");
      $("token").value = "";
      show("signin", false);
      show("upload", true);
    } catch (e) {
      token = "";
      $("token").value = "";
      $("token").focus();
      fail("signin-error", e.message);
    } finally {
      $("signin-button").disabled = false;
    }
  });

  $("token").addEventListener("input", () => show("signin-error", false));

  $("signout").addEventListener("click", () => {
    token = "";
    job = "";
    stopPolling();
    $("upload-button").disabled = false;
    for (const id of ["upload", "progress", "result"]) show(id, false);
    show("signin", true);
  });

  $("upload-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    show("upload-error", false);
    const file = $("file").files[0];
    if (!file) return fail("upload-error", "Choose a call list first.");
    const q = new URLSearchParams({ name: file.name, channel: $("channel").value, purpose: $("purpose").value,
      receipt: $("receipt").checked ? "1" : "0" });
    $("upload-button").disabled = true;
    $("progress-file").textContent = file.name + " (" + file.size.toLocaleString("en") + " bytes)";
    $("upload-bar").value = 0;
    $("screen-bar").value = 0;
    $("progress-text").textContent = "Uploading…";
    show("result", false);
    show("progress", true);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/jobs?" + q.toString());
    xhr.setRequestHeader("Authorization", "Bearer " + token);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) $("upload-bar").value = e.loaded / Math.max(e.total, 1);
    };
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* no body */ }
      if (xhr.status !== 202) {
        $("upload-button").disabled = false;
        show("progress", false);
        return fail("upload-error", body.error || xhr.statusText);
      }
      $("upload-bar").value = 1;
      job = body.id;
      show("stop", true);
      $("progress-text").textContent = "Uploaded; waiting for the screening to start…";
      poll();
    };
    xhr.onerror = () => {
      $("upload-button").disabled = false;
      show("progress", false);
      fail("upload-error", "The upload failed: the page's server could not be reached.");
    };
    xhr.send(file);
  });

  function stopPolling() {
    if (timer) clearTimeout(timer);
    timer = 0;
  }

  async function poll() {
    stopPolling();
    if (!job) return;
    let st;
    try {
      st = await api("GET", "/api/jobs/" + job);
    } catch (e) {
      $("progress-text").textContent = "Lost the run: " + e.message;
      $("upload-button").disabled = false;
      return;
    }
    // Before the first row the tool reads the whole file once to decide its
    // encoding: that read is not progress of the screening.
    const frac = st.total > 0 && st.rows > 0 ? Math.min(st.done / st.total, 1) : 0;
    $("screen-bar").value = frac;
    $("screen-bar").dataset.rows = st.rows;
    let text = st.state === "waiting" ? "Waiting for a free slot…"
      : st.rows === 0 ? "Reading the file (its encoding and columns)…"
      : st.rows.toLocaleString("en") + " rows screened (" + Math.floor(frac * 100) + "% of the file read)";
    if (st.unreadable > 0) text += ", " + st.unreadable.toLocaleString("en") + " not readable";
    $("progress-text").textContent = text;
    if (st.state === "done" || st.state === "failed") {
      finished(st);
      return;
    }
    timer = setTimeout(poll, 250);
  }

  function finished(st) {
    show("stop", false);
    $("upload-button").disabled = false;
    $("screen-bar").value = st.state === "done" ? 1 : $("screen-bar").value;
    $("progress-text").textContent = st.state === "done"
      ? st.rows.toLocaleString("en") + " rows screened, each written back in its place."
      : "Stopped: " + st.error;
    const text = $("result-text");
    if (st.state === "failed") {
      text.textContent = "The call list was not screened, and nothing was written. " + (st.error || "");
      text.className = "error";
    } else if (st.exit !== 0) {
      text.textContent = "Screened, with warnings: some rows could not be read or screened (decision ERROR), or no column identifies a person. See the messages.";
      text.className = "error";
    } else {
      text.textContent = "Screened: every row of the file is in the result, in its place.";
      text.className = "";
    }
    const tbody = $("counts").querySelector("tbody");
    tbody.textContent = "";
    const order = ["ALLOW", "BLOCK", "REVIEW", "ERROR"];
    for (const d of order) {
      const n = (st.decisions || {})[d];
      if (n === undefined) continue;
      const tr = document.createElement("tr");
      tr.className = d;
      const a = document.createElement("td");
      a.textContent = d;
      const b = document.createElement("td");
      b.className = "n";
      b.textContent = n.toLocaleString("en");
      tr.append(a, b);
      tbody.append(tr);
    }
    if (st.blank) {
      const tr = document.createElement("tr");
      tr.innerHTML = "<td>blank rows</td><td class=n></td>";
      tr.lastChild.textContent = st.blank.toLocaleString("en");
      tbody.append(tr);
    }
    show("counts", tbody.children.length > 0);
    const ul = $("downloads");
    ul.textContent = "";
    for (const f of st.files || []) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = f.url;
      a.download = f.name;
      a.textContent = f.name;
      a.className = "download";
      li.append(f.label + ": ", a);
      ul.append(li);
    }
    $("log").textContent = st.log;
    $("messages").open = st.state === "failed" || st.exit !== 0;
    show("result", true);
  }

  // Stop: the run is stopped and its files removed; nothing is offered.
  $("stop").addEventListener("click", () => {
    stopPolling();
    if (job) api("DELETE", "/api/jobs/" + job).catch(() => {});
    job = "";
    show("stop", false);
    $("upload-button").disabled = false;
    $("progress-text").textContent = "Stopped. Nothing was written.";
  });

  $("again").addEventListener("click", () => {
    if (job) api("DELETE", "/api/jobs/" + job).catch(() => {});
    job = "";
    $("file").value = "";
    show("result", false);
    show("progress", false);
  });
})();
