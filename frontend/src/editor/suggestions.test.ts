import { describe, expect, it } from "vitest";
import type { AnnotationOutput, Suggestion } from "../api/client";
import { ApiError } from "../api/client";
import type { Geometry } from "../model/types";
import { type SuggestionHost, SuggestionLayer, type SuggestionServer } from "./suggestions";

function square(x: number, y: number, side: number): Geometry {
  return { polygons: [{ exterior: [[x, y], [x, y + side - 1], [x + side - 1, y + side - 1], [x + side - 1, y]], holes: [] }] };
}

function suggestion(id: number, geometry: Geometry, score: number): Suggestion {
  return { id, image_id: 3, defect_class_id: 2, engine: "detector", score, geometry, vertex_count: 4, created_at: "2026-01-01T00:00:00Z" };
}

const WAITING = [suggestion(1, square(10, 10, 8), 0.9), suggestion(2, square(40, 40, 10), 0.6)];

class Recording implements SuggestionHost, SuggestionServer {
  readonly adopted: AnnotationOutput[] = [];
  readonly notices: string[] = [];
  readonly calls: string[] = [];
  isRefusing = false;

  defectAdopt(annotation: AnnotationOutput): void {
    this.adopted.push(annotation);
  }
  notify(message: string): void {
    this.notices.push(message);
  }
  requestRender(): void {}
  changed(): void {}
  async list(): Promise<readonly Suggestion[]> {
    return WAITING;
  }
  async accept(suggestionId: number, defectClassId: number | null): Promise<AnnotationOutput> {
    this.calls.push(`accept ${suggestionId} ${defectClassId}`);
    if (this.isRefusing) throw new ApiError(409, { code: "suggestion_decided", message: "You already deleted this suggestion." });
    const geometry = WAITING.find((item) => item.id === suggestionId)!.geometry;
    return { id: 900 + suggestionId, image_id: 3, defect_class_id: 2, severity_id: null, geometry, area_px: 64, bbox: [0, 0, 1, 1], source: "model", provenance: { suggestion_id: suggestionId }, author_id: 1, is_final: false, revision: 1, created_at: "", updated_at: "" };
  }
  async reject(suggestionId: number): Promise<unknown> {
    this.calls.push(`reject ${suggestionId}`);
    return { id: suggestionId, decision: "rejected" };
  }
}

async function opened(recording: Recording): Promise<SuggestionLayer> {
  const layer = new SuggestionLayer(3, recording, recording);
  await layer.load();
  return layer;
}

describe("the pre-label suggestions", () => {
  it("are selected by clicking inside them, and Enter selects the best one when none is", async () => {
    const layer = await opened(new Recording());
    expect(layer.selectAt([44.5, 44.5])).toBe(true);
    expect(layer.selectedId).toBe(2);
    expect(layer.selectAt([80.5, 5.5])).toBe(false); // empty image: the selection clears
    expect(layer.selectedId).toBeNull();
    await layer.enter();
    expect(layer.selectedId).toBe(1);
  });

  it("are kept with Enter: the server's annotation joins the document and the suggestion leaves the list", async () => {
    // given
    const recording = new Recording();
    const layer = await opened(recording);
    layer.select(2);
    // when
    await layer.enter();
    // then
    expect(recording.calls).toEqual(["accept 2 null"]);
    expect(recording.adopted.map((annotation) => [annotation.id, annotation.source, annotation.provenance])).toEqual([[902, "model", { suggestion_id: 2 }]]);
    expect(layer.items.map((item) => item.id)).toEqual([1]);
    expect(layer.selectedId).toBeNull();
  });

  it("are deleted from the list once the server took the decision", async () => {
    const recording = new Recording();
    const layer = await opened(recording);
    layer.select(1);
    expect(await layer.reject()).toBe(true);
    expect(recording.calls).toEqual(["reject 1"]);
    expect(layer.items.map((item) => item.id)).toEqual([2]);
  });

  it("stay listed, with the server's reason shown, when it refuses", async () => {
    const recording = new Recording();
    recording.isRefusing = true;
    const layer = await opened(recording);
    layer.select(1);
    expect(await layer.accept()).toBe(false);
    expect(recording.notices).toEqual(["Suggestion not kept: You already deleted this suggestion."]);
    expect(layer.items).toHaveLength(2);
    expect(recording.adopted).toEqual([]);
  });

  it("do nothing without a selection", async () => {
    const recording = new Recording();
    const layer = await opened(recording);
    expect(await layer.accept()).toBe(false);
    expect(await layer.reject()).toBe(false);
    expect(recording.calls).toEqual([]);
  });
});
