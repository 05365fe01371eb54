// Upload page: send the files with a progress bar, then follow the import job until the worker is done.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  const bar = document.getElementById("upload-progress");
  const phase = document.getElementById("upload-phase");
  const summary = document.getElementById("upload-summary");
  const rejectedList = document.getElementById("upload-rejected");
  const POLL_INTERVAL_MS = 700;

  function csrfToken() {
    return form.querySelector("input[name=csrfmiddlewaretoken]").value;
  }

  function showJob(job) {
    const total = Math.max(job.total_files, 1);
    bar.value = Math.round((100 * job.processed_files) / total);
    phase.textContent = job.status === "succeeded" ? "Import finished." :
      job.status === "failed" ? "Import failed: " + job.error : "Importing… (" + job.processed_files + " of " + job.total_files + ")";
    summary.textContent = job.imported_count + " imported, " + job.duplicate_count + " duplicates, " +
      job.annotation_count + " annotations from masks, " + job.rejected.length + " rejected";
    rejectedList.replaceChildren(...job.rejected.map(function (item) {
      const li = document.createElement("li");
      li.textContent = item.filename + ": " + item.reason;
      return li;
    }));
  }

  function follow(jobId) {
    fetch("/api/v1/uploads/" + jobId + "/", { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        showJob(job);
        if (job.status === "queued" || job.status === "running") setTimeout(function () { follow(jobId); }, POLL_INTERVAL_MS);
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const data = new FormData();
    for (const file of document.getElementById("files").files) data.append("files", file);
    data.append("with_masks", document.getElementById("with-masks").checked ? "true" : "false");
    document.getElementById("upload-status").hidden = false;
    document.getElementById("upload-button").disabled = true;
    const request = new XMLHttpRequest();
    request.open("POST", "/api/v1/projects/" + form.dataset.project + "/uploads/");
    request.setRequestHeader("X-CSRFToken", csrfToken());
    request.upload.addEventListener("progress", function (progress) {
      if (progress.lengthComputable) bar.value = Math.round((100 * progress.loaded) / progress.total);
    });
    request.addEventListener("load", function () {
      const body = JSON.parse(request.responseText || "{}");
      if (request.status === 202) {
        phase.textContent = "Uploaded. Waiting for the worker…";
        bar.value = 0;
        follow(body.id);
      } else {
        phase.textContent = "Upload refused: " + (body.message || request.status);
        document.getElementById("upload-button").disabled = false;
      }
    });
    request.addEventListener("error", function () {
      phase.textContent = "Network error: nothing was imported. Try again.";
      document.getElementById("upload-button").disabled = false;
    });
    request.send(data);
  });
})();
