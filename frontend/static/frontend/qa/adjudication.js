// The adjudication view: A and B over the image with the pixels only one of them marked, the matched pairs,
// and the decision (take A, take B, pick per defect, or change class and severity), sent with a reason. Outlines
// are edited in the editor on the final annotations (?final=1): "Save and edit" records the kept defects as an
// `edited` decision and opens it; a decided adjudication links there and lists those later edits.
(function () {
  "use strict";
  const root = document.getElementById("adjudication");
  const canvas = document.getElementById("adjudication-canvas");
  const statusLine = document.getElementById("decide-status");
  const COLORS = {
    first: "#1f6feb", second: "#f08c00",
    only_first: [31, 111, 235, 120], only_second: [240, 140, 0, 120], both: [140, 70, 200, 90],
  };
  const state = { view: null, image: null, keep: new Set(), edits: {}, taken: null };

  function key(side, annotation) { return side + ":" + annotation.id; }

  function classById(id) { return state.view.defect_classes.find(function (c) { return c.id === id; }); }

  function describe(annotation) {
    if (!annotation) return "—";
    const defectClass = classById(annotation.defect_class_id);
    const level = defectClass && defectClass.severity_levels.find(function (l) { return l.id === annotation.severity_id; });
    return (defectClass ? defectClass.name : "?") + (level ? " (" + level.name + ")" : "");
  }

  function severityRank(annotation) {
    const defectClass = annotation && classById(annotation.defect_class_id);
    const level = defectClass && defectClass.severity_levels.find(function (l) { return l.id === annotation.severity_id; });
    return level ? level.rank : "—";
  }

  function layers() {
    const shown = {};
    document.querySelectorAll("[data-layer]").forEach(function (box) { shown[box.dataset.layer] = box.checked; });
    return shown;
  }

  function draw() {
    const view = state.view, image = state.image, difference = view.difference;
    canvas.width = difference.width;
    canvas.height = difference.height;
    const context = canvas.getContext("2d");
    context.drawImage(image, 0, 0, difference.width, difference.height);
    const shown = layers();
    const overlay = context.createImageData(difference.width, difference.height);
    ["both", "only_first", "only_second"].forEach(function (layer) {
      if (shown[layer]) qa.paintRuns(overlay, difference[layer], difference.height, COLORS[layer]);
    });
    const scratch = document.createElement("canvas");
    scratch.width = difference.width;
    scratch.height = difference.height;
    scratch.getContext("2d").putImageData(overlay, 0, 0);
    context.drawImage(scratch, 0, 0);
    const lineWidth = Math.max(1, difference.width / 600);
    if (shown.first) view.first.forEach(function (a) { qa.strokeGeometry(context, a.geometry, COLORS.first, lineWidth); });
    if (shown.second) view.second.forEach(function (a) { qa.strokeGeometry(context, a.geometry, COLORS.second, lineWidth); });
  }

  function renderPairs() {
    const byId = {};
    state.view.first.concat(state.view.second).forEach(function (a) { byId[a.id] = a; });
    const rows = state.view.matches.map(function (match) {
      const first = byId[match.first_annotation_id], second = byId[match.second_annotation_id];
      const row = document.createElement("tr");
      row.className = match.is_agreed ? "agreed" : "disagreed";
      [describe(first), describe(second), match.is_matched ? match.iou.toFixed(3) + " (≥ " + match.iou_threshold + ")" : "—",
       severityRank(first) + " / " + severityRank(second), match.is_agreed ? "agree" : match.reasons.join(", ")]
        .forEach(function (text) { const cell = document.createElement("td"); cell.textContent = text; row.appendChild(cell); });
      return row;
    });
    document.querySelector("#pairs tbody").replaceChildren(...rows);
  }

  function option(value, text, selected) {
    const element = document.createElement("option");
    element.value = value === null ? "" : String(value);
    element.textContent = text;
    element.selected = selected;
    return element;
  }

  function renderChoices() {
    const rows = [];
    [["A", "first"], ["B", "second"]].forEach(function (pair) {
      state.view[pair[1]].forEach(function (annotation, index) {
        const id = key(pair[1], annotation), edit = state.edits[annotation.id] || {};
        const classId = edit.defect_class_id || annotation.defect_class_id;
        const severityId = "severity_id" in edit ? edit.severity_id : annotation.severity_id;
        const row = document.createElement("tr");
        row.dataset.choice = id;
        const keep = document.createElement("input");
        keep.type = "checkbox";
        keep.checked = state.keep.has(id);
        keep.setAttribute("aria-label", "Keep " + pair[0] + (index + 1));
        keep.addEventListener("change", function () {
          if (keep.checked) state.keep.add(id); else state.keep.delete(id);
          state.taken = null;
          renderChoices();
        });
        const classSelect = document.createElement("select");
        state.view.defect_classes.filter(function (c) { return c.is_active || c.id === classId; }).forEach(function (c) {
          classSelect.appendChild(option(c.id, c.name, c.id === classId));
        });
        classSelect.addEventListener("change", function () {
          state.edits[annotation.id] = { defect_class_id: Number(classSelect.value), severity_id: null };
          state.taken = null;
          renderChoices();
        });
        const severitySelect = document.createElement("select");
        severitySelect.appendChild(option(null, "no severity", severityId === null));
        (classById(classId) || { severity_levels: [] }).severity_levels.forEach(function (level) {
          severitySelect.appendChild(option(level.id, level.rank + ". " + level.name, level.id === severityId));
        });
        severitySelect.addEventListener("change", function () {
          state.edits[annotation.id] = Object.assign({ defect_class_id: classId }, state.edits[annotation.id] || {},
            { severity_id: severitySelect.value === "" ? null : Number(severitySelect.value) });
          state.taken = null;
          renderChoices();
        });
        [keep, document.createTextNode(pair[0] + (index + 1) + " · " + Math.round(annotation.area_px) + " px²"), classSelect, severitySelect]
          .forEach(function (content) { const cell = document.createElement("td"); cell.appendChild(content); row.appendChild(cell); });
        rows.push(row);
      });
    });
    document.querySelector("#choices tbody").replaceChildren(...rows);
    document.getElementById("decision-kind").textContent = "Decision: " + decision().decision.replace("_", " ");
  }

  function isEdited(annotation) {
    const edit = state.edits[annotation.id];
    if (!edit) return false;
    return edit.defect_class_id !== annotation.defect_class_id || edit.severity_id !== annotation.severity_id;
  }

  function decision() {
    if (state.taken) return { decision: state.taken, defects: [] };
    const kept = keptDefects();
    return { decision: kept.edited ? "edited" : "per_defect", defects: kept.defects };
  }

  function keptDefects() {
    const defects = [];
    let edited = false;
    ["first", "second"].forEach(function (side) {
      state.view[side].forEach(function (annotation) {
        if (!state.keep.has(key(side, annotation))) return;
        if (isEdited(annotation)) {
          edited = true;
          defects.push(Object.assign({ annotation_id: annotation.id }, state.edits[annotation.id]));
        } else {
          defects.push({ annotation_id: annotation.id });
        }
      });
    });
    return { edited: edited, defects: defects };
  }

  function reviewerEditsRender(adjudication) {
    const edits = adjudication.reviewer_edits || [];
    const container = document.getElementById("reviewer-edits");
    if (!edits.length) {
      container.replaceChildren();
      return;
    }
    const rows = edits.map(function (edit) {
      const row = document.createElement("tr");
      [new Date(edit.edited_at).toLocaleString(), "final defect " + edit.final_annotation_id, edit.changes.join(", ")]
        .forEach(function (text) { const cell = document.createElement("td"); cell.textContent = text; row.appendChild(cell); });
      return row;
    });
    const heading = document.createElement("h2");
    heading.textContent = "Edited in the editor since the decision (" + edits.length + ")";
    const table = document.createElement("table");
    table.id = "reviewer-edit-list";
    const body = document.createElement("tbody");
    body.replaceChildren(...rows);
    table.appendChild(body);
    container.replaceChildren(heading, table);
  }

  function decidedShow(adjudication) {
    document.getElementById("decide").disabled = true;
    document.getElementById("decide-and-edit").disabled = true;
    document.getElementById("adjudication-status").textContent = "Decided";
    document.getElementById("final-edit").hidden = false;
    reviewerEditsRender(adjudication);
  }

  function take(side) {
    state.keep = new Set(state.view[side].map(function (annotation) { return key(side, annotation); }));
    state.edits = {};
    state.taken = side;
    renderChoices();
  }

  // `andEdit`: the kept defects (either side's, as picked or taken) become an `edited` decision, whose outlines
  // the senior then changes in the editor.
  async function decide(andEdit) {
    const reason = document.getElementById("reason").value.trim();
    if (!reason) {
      statusLine.textContent = "Record a reason for the decision.";
      return;
    }
    const body = andEdit ? { decision: "edited", defects: keptDefects().defects } : decision();
    body.reason = reason;
    if (body.decision === "first" || body.decision === "second") delete body.defects;
    document.getElementById("decide").disabled = true;
    document.getElementById("decide-and-edit").disabled = true;
    const result = await qa.api("POST", root.dataset.api + "decide/", body);
    if (result.ok) {
      statusLine.textContent = "Decision saved: " + result.data.final_sources.length + " final defect(s).";
      decidedShow(result.data);
      if (andEdit) window.location.assign(document.getElementById("final-edit-link").href);
    } else {
      statusLine.textContent = result.data.message;
      document.getElementById("decide").disabled = false;
      document.getElementById("decide-and-edit").disabled = false;
    }
  }

  async function start() {
    const result = await qa.api("GET", root.dataset.api);
    if (!result.ok) {
      statusLine.textContent = result.data.message;
      return;
    }
    state.view = result.data;
    const adjudication = state.view.adjudication;
    document.getElementById("annotators").textContent = "A: " + adjudication.first_annotator + " · B: " +
      adjudication.second_annotator + " · " + adjudication.reasons.join(", ");
    state.image = await qa.loadImage(adjudication.image.urls.display);
    draw();
    renderPairs();
    renderChoices();
    if (adjudication.status === "decided") {
      decidedShow(adjudication);
      statusLine.textContent = "Already decided by " + adjudication.adjudicator + ": " + adjudication.reason;
    }
    document.querySelectorAll("[data-layer]").forEach(function (box) { box.addEventListener("change", draw); });
    document.getElementById("take-first").addEventListener("click", function () { take("first"); });
    document.getElementById("take-second").addEventListener("click", function () { take("second"); });
    document.getElementById("decide").addEventListener("click", function () { decide(false); });
    document.getElementById("decide-and-edit").addEventListener("click", function () { decide(true); });
    root.dataset.ready = "true";
  }

  start();
})();
