// SOFinance report pages: start an export job and show its progress (a static file: CSP).
// The page names the exports endpoint (data-create-url) and the report's parameters (json_script
// "export-params"); the job follows DESIGN.md's export resource: POST {kind, format, ...params}
// answers the export (id, status, progress); GET <create-url>/<id> is polled until status is
// "done" (then download_url) or "failed".
"use strict";
(function () {
  const POLL_MS = 1000;

  function idempotencyKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function csrfToken(form) {
    const input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  async function call(url, options) {
    const response = await fetch(url, Object.assign({ credentials: "same-origin" }, options));
    const body = await response.json().catch(() => null);
    if (!response.ok || !body || body.success === false) {
      const message = body && body.error ? body.error.message : `The server answered ${response.status}.`;
      throw new Error(message);
    }
    return body.data;
  }

  function show(panel, exportData) {
    const bar = panel.querySelector("progress");
    const status = panel.querySelector(".export-status");
    const link = panel.querySelector(".export-download");
    panel.hidden = false;
    panel.dataset.status = exportData.status;
    bar.value = Number(exportData.progress || 0);
    const rows = exportData.row_count ? `, ${Number(exportData.row_count).toLocaleString("en-US")} rows` : "";
    status.textContent = `${exportData.status} (${exportData.progress || 0}%${rows})`;
    if (exportData.status === "done" && exportData.download_url) {
      link.href = exportData.download_url;
      link.hidden = false;
    }
  }

  async function follow(panel, url) {
    for (;;) {
      const exportData = await call(url, { headers: { Accept: "application/json" } });
      show(panel, exportData);
      if (exportData.status === "done" || exportData.status === "failed") return;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("export-form");
    const panel = document.getElementById("export-progress");
    const paramsSource = document.getElementById("export-params");
    if (!form || !panel || !paramsSource) return;
    const params = JSON.parse(paramsSource.textContent);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const format = event.submitter ? event.submitter.value : "csv";
      const createUrl = form.dataset.createUrl;
      const status = panel.querySelector(".export-status");
      panel.querySelector(".export-download").hidden = true;
      try {
        const created = await call(createUrl, {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            Accept: "application/json",
            "X-CSRFToken": csrfToken(form),
            "Idempotency-Key": idempotencyKey(),
          },
          body: JSON.stringify(Object.assign({ kind: form.dataset.kind, format: format }, params)),
        });
        show(panel, created);
        await follow(panel, `${createUrl.replace(/\/$/, "")}/${created.id}`);
      } catch (error) {
        panel.hidden = false;
        panel.dataset.status = "error";
        status.textContent = `The export could not run: ${error.message}`;
      }
    });
  });
})();
