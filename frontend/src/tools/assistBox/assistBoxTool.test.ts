import { describe, expect, it } from "vitest";
import { annotationCreateInput } from "../../editor/sync";
import { defectDrawn } from "../../state/store";
import { RecordingHost, SQUARE, keyDown, pointerAt, settled } from "../assist/testHost";
import { AssistBoxTool } from "./assistBoxTool";

function drag(tool: AssistBoxTool, from: [number, number], to: [number, number]): void {
  tool.pointerDown(pointerAt(from));
  tool.pointerMove(pointerAt(to), true);
  tool.pointerUp(pointerAt(to));
}

describe("the assist box", () => {
  it("asks the engine about the dragged box and keeps its outline as an assisted defect with its provenance", async () => {
    // given
    const host = new RecordingHost();
    const tool = new AssistBoxTool(host);
    // when: dragged from bottom right to top left
    drag(tool, [30, 25], [5, 8]);
    // then: one request, corners sorted, with the current class
    expect(host.assist.requests.map(({ prompt, defectClassId, replaces }) => ({ prompt, defectClassId, replaces }))).toEqual([
      { prompt: { box: [5, 8, 30, 25] }, defectClassId: 7, replaces: null },
    ]);
    expect(tool.isBusy).toBe(true);
    // when: the server answers
    host.assist.requests[0]!.answer.resolve({ suggestionId: 41, engine: "classical", score: 0.8, geometry: SQUARE, ms: 23.4 });
    await settled();
    // then
    expect(host.created).toEqual([
      {
        geometry: SQUARE,
        origin: {
          source: "assisted",
          provenance: {
            engine: "classical",
            prompt: { box: [5, 8, 30, 25], positive_clicks: [], negative_clicks: [] },
            score: 0.8,
            suggestion_id: 41,
          },
        },
      },
    ]);
    expect(host.assist.statuses).toEqual(["Assist: classical · score 0.80 · 23 ms"]);
    expect(tool.isBusy).toBe(false);
    // and the save path sends the source and provenance the server stores
    const defect = defectDrawn({ defectClassId: 7, severityId: null, geometry: SQUARE }, host.created[0]!.origin);
    expect(annotationCreateInput(defect, "work")).toMatchObject({ source: "assisted", provenance: { engine: "classical", suggestion_id: 41 } });
  });

  it("asks nothing for a click without a drag", () => {
    const host = new RecordingHost();
    const tool = new AssistBoxTool(host);
    tool.pointerDown(pointerAt([10, 10]));
    tool.pointerUp(pointerAt([10, 10]));
    expect(host.assist.requests).toEqual([]);
  });

  it("says so when the engine found nothing, and creates nothing", async () => {
    const host = new RecordingHost();
    const tool = new AssistBoxTool(host);
    drag(tool, [1, 1], [9, 9]);
    host.assist.requests[0]!.answer.resolve({ suggestionId: null, engine: "classical", score: 0, geometry: null, ms: 5 });
    await settled();
    expect(host.created).toEqual([]);
    expect(host.notices).toEqual(["The assist found no defect in that box: draw it by hand, or try Assist click."]);
  });

  it("shows the server's refusal (no engine, a bad prompt)", async () => {
    const host = new RecordingHost();
    const tool = new AssistBoxTool(host);
    drag(tool, [1, 1], [9, 9]);
    host.assist.requests[0]!.answer.reject(new Error("No assist engine is available on this server: draw the defect by hand."));
    await settled();
    expect(host.created).toEqual([]);
    expect(host.notices).toEqual(["No assist engine is available on this server: draw the defect by hand."]);
    expect(tool.isBusy).toBe(false);
  });

  it("drops an answer that arrives after Escape", async () => {
    const host = new RecordingHost();
    const tool = new AssistBoxTool(host);
    drag(tool, [1, 1], [9, 9]);
    expect(tool.key(keyDown("Escape"))).toBe(true);
    host.assist.requests[0]!.answer.resolve({ suggestionId: 3, engine: "classical", score: 0.5, geometry: SQUARE, ms: 5 });
    await settled();
    expect(host.created).toEqual([]);
    expect(tool.key(keyDown("Escape"))).toBe(false); // nothing left to cancel: Escape goes on to clear the selection
  });

  it("needs a defect class to draw", async () => {
    const host = new RecordingHost();
    host.currentClassId = null;
    drag(new AssistBoxTool(host), [1, 1], [9, 9]);
    await settled();
    expect(host.assist.requests).toEqual([]);
    expect(host.notices).toEqual(["This project has no defect classes: ask an admin to add some."]);
  });
});
