// @vitest-environment happy-dom
/**
 * Autosave when the server cannot answer just now: 503 (database unavailable, with Retry-After), 502 and 504 (the
 * reverse proxy has no backend) are retried with the same backoff as no answer at all, and the edit is kept in
 * the draft meanwhile. Other statuses stay refusals the user sees.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, type AnnotationOutput, NetworkError, api } from "../api/client";
import type { Geometry } from "../model/types";
import { type Defect, Store } from "../state/store";
import { AUTOSAVE_DEBOUNCE_MS, Sync, type SyncListener, type SyncState } from "./sync";

vi.mock("../drafts/drafts", () => ({ draftSave: vi.fn(async () => undefined), draftDelete: vi.fn(async () => undefined) }));

const square: Geometry = { polygons: [{ exterior: [[0, 0], [4, 0], [4, 4], [0, 4]], holes: [] }] };
const DATABASE_UNAVAILABLE = {
  code: "database_unavailable",
  message: "The database is not answering just now. Nothing was lost on this side; try again in a few seconds.",
};

function created(id: number): AnnotationOutput {
  return {
    id, image_id: 1, defect_class_id: 7, severity_id: null, geometry: square, area_px: 25, bbox: [0, 0, 5, 5],
    source: "manual", author_id: 1, is_final: false, revision: 1, created_at: "", updated_at: "",
  } as AnnotationOutput;
}

function newDefect(): Defect {
  return { key: "n1", defectClassId: 7, severityId: null, geometry: square, source: "manual" };
}

function recorder(): SyncListener & { states: SyncState[]; refusals: string[] } {
  const states: SyncState[] = [];
  const refusals: string[] = [];
  return {
    states,
    refusals,
    state: (state) => void states.push(state),
    conflict: () => undefined,
    refused: (_, refusal) => void (refusal && refusals.push(refusal.code)),
  };
}

function drawnOffline(listener: SyncListener): Sync {
  const store = new Store([]);
  const sync = new Sync(1, 1, store, new Map(), listener);
  store.edit((defects) => void defects.set("n1", newDefect()));
  return sync;
}

describe("autosave when the server is briefly unavailable", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it.each([503, 502, 504])("retries a %i with its backoff and saves once the server answers", async (status) => {
    // given: the first two creates are refused as unavailable, the third succeeds
    const create = vi
      .spyOn(api, "annotationCreate")
      .mockRejectedValueOnce(new ApiError(status, DATABASE_UNAVAILABLE))
      .mockRejectedValueOnce(new ApiError(status, DATABASE_UNAVAILABLE))
      .mockResolvedValueOnce(created(41));
    const listener = recorder();
    const sync = drawnOffline(listener);
    // when: the debounce, then the first retry (1 s), then the second (2 s)
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DEBOUNCE_MS);
    expect(create).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(create).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(create).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(2_000);
    // then
    expect(create).toHaveBeenCalledTimes(3);
    expect(listener.refusals).toEqual([]);
    expect(sync.refusals.size).toBe(0);
    expect(sync.basis.get("n1")?.id).toBe(41);
    expect(listener.states.at(-1)).toBe("saved");
    expect(listener.states).toContain("offline");
    sync.destroy();
  });

  it("retries no answer at all the same way", async () => {
    const create = vi
      .spyOn(api, "annotationCreate")
      .mockRejectedValueOnce(new NetworkError("Failed to fetch"))
      .mockResolvedValueOnce(created(42));
    const listener = recorder();
    const sync = drawnOffline(listener);
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DEBOUNCE_MS + 1_000);
    expect(create).toHaveBeenCalledTimes(2);
    expect(sync.basis.get("n1")?.id).toBe(42);
    sync.destroy();
  });

  it("still shows a 500 as a refusal instead of retrying it", async () => {
    const create = vi
      .spyOn(api, "annotationCreate")
      .mockRejectedValue(new ApiError(500, { code: "http_500", message: "The server answered 500." }));
    const listener = recorder();
    const sync = drawnOffline(listener);
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DEBOUNCE_MS + 30_000);
    expect(create).toHaveBeenCalledTimes(1);
    expect(listener.refusals).toEqual(["http_500"]);
    expect(listener.states.at(-1)).toBe("attention");
    sync.destroy();
  });
});
