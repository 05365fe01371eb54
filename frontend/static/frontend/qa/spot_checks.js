// The spot-check queue: each sampled image with the annotator's work drawn on it; accept, or return with a comment.
(function () {
  "use strict";
  const root = document.getElementById("spot-checks");
  const COLOR = "#12b76a";

  async function card(check) {
    const element = document.createElement("article");
    element.className = "card spot-check";
    element.dataset.spotCheck = check.id;
    const title = document.createElement("h3");
    title.textContent = check.image.original_filename + " · by " + check.annotator +
      " · " + check.annotations.length + " defect(s)";
    const canvas = document.createElement("canvas");
    const comment = document.createElement("textarea");
    comment.placeholder = "What to fix (needed to return the image)";
    comment.rows = 2;
    const accept = document.createElement("button");
    accept.textContent = "Accept";
    const reject = document.createElement("button");
    reject.textContent = "Return to annotator";
    reject.className = "danger";
    const status = document.createElement("p");
    status.className = "small";
    async function send(body) {
      accept.disabled = reject.disabled = true;
      const result = await qa.api("POST", "/api/v1/qa/spot-checks/" + check.id + "/decide/", body);
      if (result.ok) {
        status.textContent = result.data.status === "accepted" ? "Accepted." : "Returned to " + check.annotator + ".";
        element.classList.add("decided");
      } else {
        status.textContent = result.data.message;
        accept.disabled = reject.disabled = false;
      }
    }
    accept.addEventListener("click", function () { send({ verdict: "accept" }); });
    reject.addEventListener("click", function () { send({ verdict: "reject", comment: comment.value }); });
    element.append(title, canvas, comment, accept, document.createTextNode(" "), reject, status);
    const image = await qa.loadImage(check.image.urls.display);
    canvas.width = check.image.width;
    canvas.height = check.image.height;
    const context = canvas.getContext("2d");
    context.drawImage(image, 0, 0);
    check.annotations.forEach(function (annotation) {
      qa.strokeGeometry(context, annotation.geometry, COLOR, Math.max(1, check.image.width / 600));
    });
    return element;
  }

  async function start() {
    const result = await qa.api("GET", root.dataset.api);
    if (!result.ok) return;
    for (const check of result.data.results) root.appendChild(await card(check));
    const samples = await qa.api("GET", root.dataset.samples);
    if (samples.ok) {
      samples.data.results.forEach(function (sample) {
        const cell = document.querySelector(".reproducible[data-sample='" + sample.id + "']");
        if (cell) cell.textContent = sample.is_reproducible ? "yes: same seed, same sample" : "NO";
      });
    }
    root.dataset.ready = "true";
  }

  start();
})();
