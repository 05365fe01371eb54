import { describe, expect, it } from "vitest";
import type { Geometry } from "../../model/types";
import type { AssistAnswer } from "../assist/assist";
import type { RefinedPrelabel } from "../assist/assist";
import { RecordingHost, SQUARE, keyDown, pointerAt, settled } from "../assist/testHost";
import { AssistClickTool } from "./assistClickTool";

const LARGER: Geometry = { polygons: [{ exterior: [[8, 8], [8, 21], [21, 21], [21, 8]], holes: [] }] };

function answer(suggestionId: number, geometry: Geometry | null = SQUARE): AssistAnswer {
  return { suggestionId, engine: "classical", score: 0.7, geometry, ms: 12 };
}

function click(tool: AssistClickTool, pixel: [number, number], modifiers: { altKey?: boolean; shiftKey?: boolean } = {}): void {
  tool.pointerDown(pointerAt(pixel, modifiers));
  tool.pointerUp(pointerAt(pixel, modifiers));
}

describe("the assist click", () => {
  it("asks after each click, shows the pending outline, and keeps it on Enter with its clicks as provenance", async () => {
    // given
    const host = new RecordingHost();
    const tool = new AssistClickTool(host);
    // when: a positive click, answered
    click(tool, [15, 15]);
    host.assist.requests[0]!.answer.resolve(answer(10, LARGER));
    await settled();
    // then: pending, not a defect yet
    expect(tool.pending?.geometry).toEqual(LARGER);
    expect(host.created).toEqual([]);
    // when: an Alt+click where it is not defect, answered
    click(tool, [20, 20], { altKey: true });
    expect(host.assist.requests[0]!.prompt.previous_geometry).toBeNull(); // a new drawing: nothing to correct yet
    expect(host.assist.requests[1]!.prompt).toEqual({ positive_clicks: [[15, 15]], negative_clicks: [[20, 20]], previous_geometry: LARGER });
    expect(host.assist.requests[1]!.replaces).toBe(10); // the answer it replaces stops counting on the server
    host.assist.requests[1]!.answer.resolve(answer(11));
    await settled();
    // and Enter
    expect(tool.key(keyDown("Enter"))).toBe(true);
    // then
    expect(host.created).toEqual([
      {
        geometry: SQUARE,
        origin: {
          source: "assisted",
          provenance: {
            engine: "classical",
            prompt: { box: null, positive_clicks: [[15, 15]], negative_clicks: [[20, 20]] },
            score: 0.7,
            suggestion_id: 11,
          },
        },
      },
    ]);
    expect(tool.pending).toBeNull();
    expect(tool.clicks).toEqual({ positive: [], negative: [] });
  });

  it("takes Shift+click as negative too, and wants a positive click first", () => {
    const host = new RecordingHost();
    const tool = new AssistClickTool(host);
    click(tool, [5, 5], { shiftKey: true });
    expect(host.assist.requests).toEqual([]);
    expect(host.notices).toEqual(["Click on the defect first; Alt+ or Shift+click then marks what is not defect."]);
    click(tool, [6, 6]);
    click(tool, [7, 7], { shiftKey: true });
    expect(tool.clicks).toEqual({ positive: [[6, 6]], negative: [[7, 7]] });
  });

  it("sends the clicks made while the server answers together, once it has", async () => {
    const host = new RecordingHost();
    const tool = new AssistClickTool(host);
    click(tool, [15, 15]);
    click(tool, [16, 15]);
    click(tool, [17, 15]);
    expect(host.assist.requests).toHaveLength(1);
    host.assist.requests[0]!.answer.resolve(answer(20));
    await settled();
    expect(host.assist.requests).toHaveLength(2);
    expect(host.assist.requests[1]!.prompt.positive_clicks).toEqual([[15, 15], [16, 15], [17, 15]]);
    expect(host.assist.requests[1]!.replaces).toBe(20);
  });

  it("keeps the answer to the latest click when Enter comes while the server answers", async () => {
    const host = new RecordingHost();
    const tool = new AssistClickTool(host);
    click(tool, [15, 15]);
    expect(tool.key(keyDown("Enter"))).toBe(true);
    expect(host.created).toEqual([]);
    host.assist.requests[0]!.answer.resolve(answer(30));
    await settled();
    expect(host.created.map((item) => item.origin.provenance?.suggestion_id)).toEqual([30]);
  });

  it("drops everything on Escape, and an answer arriving after it", async () => {
    const host = new RecordingHost();
    const tool = new AssistClickTool(host);
    click(tool, [15, 15]);
    expect(tool.key(keyDown("Escape"))).toBe(true);
    host.assist.requests[0]!.answer.resolve(answer(40));
    await settled();
    expect(tool.pending).toBeNull();
    expect(tool.key(keyDown("Enter"))).toBe(false); // nothing pending: Enter goes on to the editor
    expect(host.created).toEqual([]);
  });

  it("takes back the last click on Backspace and asks again; the last positive one ends the drawing", async () => {
    const host = new RecordingHost();
    const tool = new AssistClickTool(host);
    click(tool, [15, 15]);
    host.assist.requests[0]!.answer.resolve(answer(50));
    await settled();
    click(tool, [30, 30], { altKey: true });
    host.assist.requests[1]!.answer.resolve(answer(51));
    await settled();
    expect(tool.key(keyDown("Backspace"))).toBe(true);
    expect(tool.clicks).toEqual({ positive: [[15, 15]], negative: [] });
    expect(host.assist.requests[2]!.prompt).toEqual({ positive_clicks: [[15, 15]], negative_clicks: [], previous_geometry: SQUARE });
    host.assist.requests[2]!.answer.resolve(answer(52));
    await settled();
    expect(tool.key(keyDown("Backspace"))).toBe(true);
    expect(tool.pending).toBeNull();
    expect(host.assist.requests).toHaveLength(3);
  });

  it("says when there is nothing to keep", async () => {
    const host = new RecordingHost();
    const tool = new AssistClickTool(host);
    click(tool, [15, 15]);
    host.assist.requests[0]!.answer.resolve(answer(60, null));
    await settled();
    tool.key(keyDown("Enter"));
    expect(host.created).toEqual([]);
    expect(host.notices).toEqual(["Nothing to keep: the assist found no defect there. Click on the defect, or draw it by hand."]);
  });

  it("is not a click when the pointer was dragged", () => {
    const host = new RecordingHost();
    const tool = new AssistClickTool(host);
    tool.pointerDown(pointerAt([10, 10]));
    tool.pointerUp(pointerAt([20, 10]));
    expect(host.assist.requests).toEqual([]);
  });

  it("steps through SAM's answers with Tab, and keeps the one shown with the suggestion the browser recorded", async () => {
    // given: an answer decoded in the browser, three answers, each recorded when shown
    const host = new RecordingHost();
    const tool = new AssistClickTool(host);
    const recordings: Array<{ index: number; replaced: number | null }> = [];
    const shown = (index: number, replaced: Promise<number | null>): AssistAnswer => {
      const recorded = replaced.then((id) => {
        recordings.push({ index, replaced: id });
        return 50 + recordings.length;
      });
      const geometry = index === 1 ? LARGER : SQUARE;
      return { suggestionId: null, recorded, engine: "sam", where: "browser", score: 0.9 - index / 10, geometry, ms: 30, choices: 3, choiceIndex: index, choose: (next) => shown(next, recorded) };
    };
    click(tool, [15, 15]);
    host.assist.requests[0]!.answer.resolve(shown(0, Promise.resolve(null)));
    await settled();
    // when: Tab, Tab, Shift+Tab
    expect(tool.key(keyDown("Tab"))).toBe(true);
    expect(tool.key({ ...keyDown("Tab"), shiftKey: false })).toBe(true);
    expect(tool.key({ ...keyDown("Tab"), shiftKey: true } as KeyboardEvent)).toBe(true);
    // then: the second answer is shown, each step recorded in place of the one before
    expect(tool.pending?.geometry).toEqual(LARGER);
    expect(host.assist.statuses.at(-1)).toBe("Assist: sam (in the browser) · score 0.80 · 30 ms · answer 2 of 3 (Tab: next)");
    // when: Enter
    tool.key(keyDown("Enter"));
    await settled();
    // then: kept with the record of the answer shown
    expect(recordings).toEqual([
      { index: 0, replaced: null },
      { index: 1, replaced: 51 },
      { index: 2, replaced: 52 },
      { index: 1, replaced: 53 },
    ]);
    expect(host.created).toHaveLength(1);
    expect(host.created[0]!.geometry).toEqual(LARGER);
    expect(host.created[0]!.origin.provenance).toMatchObject({ engine: "sam", suggestion_id: 54, score: 0.8 });
  });

  it("leaves Tab to the browser when the engine gave one answer", async () => {
    const host = new RecordingHost();
    const tool = new AssistClickTool(host);
    click(tool, [15, 15]);
    host.assist.requests[0]!.answer.resolve(answer(10));
    await settled();
    expect(tool.key(keyDown("Tab"))).toBe(false);
  });

  it("takes a Tab pressed before SAM's other answers are traced once they are", async () => {
    const host = new RecordingHost();
    const tool = new AssistClickTool(host);
    let isReady = false;
    let ready!: () => void;
    const choicesReady = new Promise<void>((resolve) => (ready = resolve));
    const shown = (index: number): AssistAnswer => ({
      suggestionId: 70 + index,
      engine: "sam",
      where: "browser",
      score: 0.9,
      geometry: index === 0 ? SQUARE : LARGER,
      ms: 30,
      choices: 3,
      choiceIndex: index,
      choose: (next) => (isReady ? shown(next) : null),
      choicesReady,
    });
    click(tool, [15, 15]);
    host.assist.requests[0]!.answer.resolve(shown(0));
    await settled();
    // when: Tab before the others are traced
    expect(tool.key(keyDown("Tab"))).toBe(true);
    expect(tool.pending?.geometry).toEqual(SQUARE);
    // then: taken when they are
    isReady = true;
    ready();
    await settled();
    expect(tool.pending?.geometry).toEqual(LARGER);
    expect(tool.pending?.choiceIndex).toBe(1);
  });

  it("names the trained model that answered in the kept defect's provenance", async () => {
    const host = new RecordingHost();
    const tool = new AssistClickTool(host);
    click(tool, [15, 15]);
    host.assist.requests[0]!.answer.resolve({ ...answer(60), engine: "interactive-4", modelId: 4 });
    await settled();
    tool.key(keyDown("Enter"));
    expect(host.created[0]!.origin.provenance).toEqual({
      engine: "interactive-4",
      model_id: 4,
      prompt: { box: null, positive_clicks: [[15, 15]], negative_clicks: [] },
      score: 0.7,
      suggestion_id: 60,
    });
  });

  it("refines a model pre-label clicked inside: its outline is the previous mask, and keeping the answer deletes it", async () => {
    // given: a pending pre-label under (15, 15)
    class PrelabelHost extends RecordingHost {
      readonly replaced: number[] = [];
      prelabelAt(point: readonly [number, number]): RefinedPrelabel | null {
        return point[0] >= 10 && point[0] <= 19 && point[1] >= 10 && point[1] <= 19 ? { suggestionId: 90, geometry: SQUARE } : null;
      }
      prelabelReplaced(suggestionId: number): void {
        this.replaced.push(suggestionId);
      }
    }
    const host = new PrelabelHost();
    const tool = new AssistClickTool(host);
    // when: a click inside it, answered, then a correction and Enter
    click(tool, [15, 15]);
    expect(host.assist.requests[0]!.prompt.previous_geometry).toEqual(SQUARE);
    expect(host.assist.statuses).toEqual(["Assist: refining the model's pre-label…"]);
    host.assist.requests[0]!.answer.resolve(answer(91, LARGER));
    await settled();
    click(tool, [21, 21], { altKey: true });
    expect(host.assist.requests[1]!.prompt.previous_geometry).toEqual(LARGER); // the last answer from now on
    host.assist.requests[1]!.answer.resolve(answer(92));
    await settled();
    tool.key(keyDown("Enter"));
    // then: the answer is kept, naming the pre-label it refines, and the pre-label leaves the list
    expect(host.created[0]!.origin.provenance).toMatchObject({ suggestion_id: 92, refines_suggestion_id: 90 });
    expect(host.replaced).toEqual([90]);
  });

  it("starts a new defect when the first click is outside every pre-label", async () => {
    const host: RecordingHost & { prelabelAt?: () => null } = new RecordingHost();
    host.prelabelAt = () => null;
    const tool = new AssistClickTool(host);
    click(tool, [50, 50]);
    expect(host.assist.requests[0]!.prompt.previous_geometry).toBeNull();
    host.assist.requests[0]!.answer.resolve(answer(93));
    await settled();
    tool.key(keyDown("Enter"));
    expect(host.created[0]!.origin.provenance).not.toHaveProperty("refines_suggestion_id");
  });
});
