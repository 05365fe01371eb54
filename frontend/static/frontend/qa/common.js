// Shared by the QA pages: API calls with the CSRF token, drawing annotations and mask runs on a canvas,
// and forms marked data-api that send their fields as JSON.
(function () {
  "use strict";

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  async function api(method, url, body) {
    const options = { method: method, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    const data = response.status === 204 ? null : await response.json();
    return { ok: response.ok, status: response.status, data: data };
  }

  function loadImage(url) {
    return new Promise(function (resolve, reject) {
      const image = new Image();
      image.onload = function () { resolve(image); };
      image.onerror = reject;
      image.src = url;
    });
  }

  // Geometry: {"polygons": [{"exterior": [[x, y], ...], "holes": [...]}]}, a vertex is a pixel centre.
  function strokeGeometry(context, geometry, color, lineWidth) {
    context.save();
    context.strokeStyle = color;
    context.lineWidth = lineWidth;
    for (const polygon of geometry.polygons) {
      for (const ring of [polygon.exterior].concat(polygon.holes || [])) {
        context.beginPath();
        ring.forEach(function (vertex, index) {
          const x = vertex[0] + 0.5, y = vertex[1] + 0.5;
          if (index === 0) context.moveTo(x, y); else context.lineTo(x, y);
        });
        context.closePath();
        context.stroke();
      }
    }
    context.restore();
  }

  // Uncompressed COCO runs: column-major, the first run is background.
  function paintRuns(imageData, runs, height, rgba) {
    let position = 0;
    runs.forEach(function (length, index) {
      if (index % 2 === 1) {
        for (let offset = position; offset < position + length; offset++) {
          const column = Math.floor(offset / height), row = offset % height;
          const pixel = (row * imageData.width + column) * 4;
          imageData.data[pixel] = rgba[0];
          imageData.data[pixel + 1] = rgba[1];
          imageData.data[pixel + 2] = rgba[2];
          imageData.data[pixel + 3] = rgba[3];
        }
      }
      position += length;
    });
  }

  function formBody(form) {
    const body = {};
    for (const element of form.elements) {
      if (!element.name || element.name === "csrfmiddlewaretoken") continue;
      if (element.value === "" && element.hasAttribute("data-optional")) continue;
      if (element.hasAttribute("data-json")) body[element.name] = JSON.parse(element.value || "{}");
      else if (element.type === "number" || (element.tagName === "SELECT" && /_id$/.test(element.name))) body[element.name] = Number(element.value);
      else body[element.name] = element.value;
    }
    return body;
  }

  function wireForms() {
    document.querySelectorAll("form[data-api]").forEach(function (form) {
      form.addEventListener("submit", async function (event) {
        event.preventDefault();
        const status = form.querySelector(".form-status");
        let body;
        try {
          body = formBody(form);
        } catch (error) {
          status.textContent = "Not valid JSON: " + error.message;
          return;
        }
        const result = await api(form.dataset.method || "POST", form.dataset.api, body);
        if (result.ok) {
          status.textContent = "Saved.";
          window.location.reload();
        } else {
          status.textContent = result.data.message;
          status.classList.add("error");
        }
      });
    });
  }

  window.qa = { api: api, loadImage: loadImage, strokeGeometry: strokeGeometry, paintRuns: paintRuns };
  document.addEventListener("DOMContentLoaded", wireForms);
})();
