/**
 * The conflict view: the user's version and the server's side by side (outline on the image, class, severity,
 * revision), and three ways out: keep mine (saved over theirs, knowingly), take theirs, keep both.
 */
import type { ImageLayer } from "./imageLayer";
import { element } from "./dom";
import { geometryExtent, geometryPath } from "./overlay";
import type { Conflict } from "./recovery";
import type { Taxonomy } from "./taxonomy";
import type { Geometry } from "../model/types";

const PREVIEW_PX = 260;

function preview(geometry: Geometry | null, other: Geometry | null, image: ImageLayer, color: string): HTMLCanvasElement {
  const canvas = element("canvas", { width: String(PREVIEW_PX), height: String(PREVIEW_PX), class: "conflict-preview" });
  const context = canvas.getContext("2d")!;
  context.fillStyle = "#111";
  context.fillRect(0, 0, PREVIEW_PX, PREVIEW_PX);
  const extents = [geometry, other].filter((value): value is Geometry => !!value).map(geometryExtent);
  if (!extents.length) return canvas;
  const minX = Math.min(...extents.map((extent) => extent[0]));
  const minY = Math.min(...extents.map((extent) => extent[1]));
  const maxX = Math.max(...extents.map((extent) => extent[2]));
  const maxY = Math.max(...extents.map((extent) => extent[3]));
  const side = Math.max(maxX - minX, maxY - minY) * 1.3 + 8;
  const scale = PREVIEW_PX / side;
  const originX = (minX + maxX) / 2 - side / 2;
  const originY = (minY + maxY) / 2 - side / 2;
  const overview = image.overview();
  context.setTransform(scale, 0, 0, scale, -originX * scale, -originY * scale);
  if (overview) context.drawImage(overview, 0, 0, overview.width, overview.height, 0, 0, image.widthPx, image.heightPx);
  if (other) {
    context.strokeStyle = "rgba(255,255,255,0.5)";
    context.setLineDash([4 / scale, 4 / scale]);
    context.lineWidth = 1 / scale;
    context.stroke(geometryPath(other));
    context.setLineDash([]);
  }
  if (geometry) {
    context.fillStyle = color + "55";
    context.strokeStyle = color;
    context.lineWidth = 2 / scale;
    context.fill(geometryPath(geometry), "evenodd");
    context.stroke(geometryPath(geometry));
  }
  return canvas;
}

export function conflictShow(
  dialog: HTMLDialogElement,
  conflict: Conflict,
  taxonomy: Taxonomy,
  image: ImageLayer,
  resolve: (choice: "mine" | "theirs" | "both") => void,
): void {
  const describe = (classId: number | undefined, severityId: number | null | undefined): string => {
    if (classId === undefined) return "";
    const defectClass = taxonomy.get(classId);
    const severity = defectClass?.severity_levels.find((level) => level.id === severityId);
    return `${defectClass?.name ?? "?"}${severity ? ` · ${severity.name}` : ""}`;
  };
  const mine = conflict.mine;
  const theirs = conflict.theirs;
  const side = (title: string, geometry: Geometry | null, other: Geometry | null, classId: number | undefined, text: string): HTMLElement =>
    element(
      "section",
      { class: "conflict-side" },
      element("h3", {}, title),
      preview(geometry, other, image, classId ? taxonomy.colorOf(classId) : "#ffffff"),
      element("p", {}, geometry ? describe(classId, null) : "Deleted"),
      element("p", { class: "muted small" }, text),
    );
  const mineSide = side("Yours", mine?.geometry ?? null, theirs?.geometry ?? null, mine?.defectClassId, mine ? describe(mine.defectClassId, mine.severityId) : "You deleted this defect.");
  const theirsSide = side(
    "Saved by someone else",
    theirs?.geometry ?? null,
    mine?.geometry ?? null,
    theirs?.defect_class_id,
    theirs ? `${describe(theirs.defect_class_id, theirs.severity_id)} · revision ${theirs.revision ?? "?"} · ${new Date(theirs.updated_at).toLocaleString()}` : "They deleted this defect.",
  );
  const button = (label: string, choice: "mine" | "theirs" | "both", id: string): HTMLButtonElement => {
    const node = element("button", { type: "button", id, class: choice === "theirs" ? "secondary" : "" }, label);
    node.addEventListener("click", () => {
      dialog.close();
      resolve(choice);
    });
    return node;
  };
  const actions = element("div", { class: "conflict-actions" }, button(mine ? "Keep mine" : "Delete it anyway", "mine", "conflict-keep-mine"), button(theirs ? "Take theirs" : "Accept the delete", "theirs", "conflict-take-theirs"));
  if (mine && theirs) actions.append(button("Keep both", "both", "conflict-keep-both"));
  dialog.replaceChildren(
    element("h2", {}, "This defect was changed by someone else"),
    element("p", { class: "muted" }, "Nothing was overwritten. Choose which version to keep; the other is kept in the audit trail."),
    element("div", { class: "conflict-sides" }, mineSide, theirsSide),
    actions,
  );
  if (!dialog.open) dialog.showModal();
}
