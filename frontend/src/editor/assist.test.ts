import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { NO_ENGINE_MESSAGE } from "../tools/assist/assist";
import { SQUARE } from "../tools/assist/testHost";
import { AssistConnection, type AssistServer, type BrowserSam } from "./assist";

function server(preferred: string | null, projectId: number): AssistServer & { runs: unknown[] } {
  const runs: unknown[] = [];
  return {
    runs,
    engines: async () => ({
      engines: preferred ? [{ name: preferred, can_prelabel: false, is_preferred: true }] : [],
      unavailable: [],
      preferred,
      prelabel_engine: null,
      sam_model_id: preferred === "sam" ? "vit_t-0123abcd" : null,
    }),
    run: async (imageId, engine, prompt, replaces) => {
      runs.push({ projectId, imageId, engine, prompt, replaces });
      return { suggestionId: 5, engine, score: 0.9, geometry: SQUARE, ms: 8 };
    },
    record: async (imageId, input) => {
      runs.push({ recorded: imageId, ...input });
      return input.geometry ? 60 + runs.length : null;
    },
  };
}

describe("the editor's assist connection", () => {
  it("uses the project's preferred engine and says so", async () => {
    const shown: string[] = [];
    const fake = server("classical", 101);
    const connection = new AssistConnection(101, 7, (message) => shown.push(message), fake);
    const answer = await connection.ask({ box: [1, 2, 3, 4] }, 9, null);
    expect(answer.suggestionId).toBe(5);
    expect(fake.runs).toEqual([{ projectId: 101, imageId: 7, engine: "classical", prompt: { box: [1, 2, 3, 4], defect_class_id: 9 }, replaces: null }]);
    expect(shown).toEqual(["Assist: classical", "Assist: classical · asking…"]);
  });

  it("says which engines the server cannot run yet (SAM before its checkpoint is installed)", async () => {
    const shown: string[] = [];
    const fake = server("classical", 104);
    const engines = await fake.engines(104);
    fake.engines = async () => ({ ...engines, unavailable: [{ name: "sam", reason: "SAM is not installed: an admin installs it." }] });
    const connection = new AssistConnection(104, 7, (message) => shown.push(message), fake);
    await connection.ready;
    expect(shown).toEqual(["Assist: classical · SAM is not installed"]);
  });

  it("refuses with a clear message when the server has no engine", async () => {
    const shown: string[] = [];
    const connection = new AssistConnection(102, 7, (message) => shown.push(message), server(null, 102));
    await expect(connection.ask({ box: [1, 2, 3, 4] }, 9, null)).rejects.toThrow(NO_ENGINE_MESSAGE);
    expect(shown).toEqual(["Assist: no engine available"]);
  });

  it("passes the server's refusal on as a message for the inspector", async () => {
    const fake = server("classical", 103);
    fake.run = async () => {
      throw new ApiError(400, { code: "invalid", message: "Assist prompt refused: box is inverted." });
    };
    const connection = new AssistConnection(103, 7, () => undefined, fake);
    await expect(connection.ask({ box: [5, 5, 1, 1] }, 9, null)).rejects.toThrow("Assist prompt refused: box is inverted.");
  });
});

describe("SAM decoded in the browser", () => {
  const image = { width: 100, height: 80, nextImageIds: [8], geometryKindOf: () => "area" as const };
  const polygons = SQUARE.polygons;

  function browserSam(fail: string | null = null) {
    const calls: string[] = [];
    const sam: BrowserSam & { calls: string[] } = {
      calls,
      failure: null,
      embeddingPrefetch: async (imageId) => {
        calls.push(`embedding ${imageId}`);
      },
      decode: async (imageId, prompt) => {
        calls.push(`decode ${imageId} ${JSON.stringify(prompt)}`);
        if (fail) throw new Error(fail);
        // The first answer with the reply, the two others traced after it.
        return {
          decodedMs: 40,
          workerMs: 45,
          candidates: [{ token: 2, score: 0.9, polygons }],
          choices: 3,
          alternatives: Promise.resolve([
            { token: 1, score: 0.5, polygons: [] },
            { token: 3, score: 0.2, polygons },
          ]),
        };
      },
    };
    return sam;
  }

  it("answers in the browser, prefetches the next image, records the answer and each other answer chosen in its place", async () => {
    const shown: string[] = [];
    const fake = server("sam", 201);
    const sam = browserSam();
    const connection = new AssistConnection(201, 7, (message) => shown.push(message), fake, image, () => sam);
    await connection.ready;
    expect(shown).toEqual(["Assist: sam (in the browser)"]);
    // when
    const answer = await connection.ask({ positive_clicks: [[4, 5]] }, 9, 3);
    // then: SAM's best answer, at once; recorded meanwhile, replacing the previous answer of the drawing
    expect(answer).toMatchObject({ engine: "sam", where: "browser", score: 0.9, geometry: SQUARE, suggestionId: null, choices: 3, choiceIndex: 0 });
    expect(await answer.recorded).toBe(61);
    expect(sam.calls).toEqual(["embedding 7", "embedding 8", 'decode 7 {"positive_clicks":[[4,5]]}']);
    // when: the next answer (Tab), then the one after (nothing found: only the replaced one ends)
    const second = answer.choose!(1)!;
    expect(second).toMatchObject({ score: 0.5, geometry: null, choiceIndex: 1 });
    expect(await second.recorded).toBeNull();
    expect(fake.runs).toEqual([
      { recorded: 7, engine: "sam", prompt: { positive_clicks: [[4, 5]], defect_class_id: 9 }, score: 0.9, geometry: SQUARE, replaces: 3 },
      { recorded: 7, engine: "sam", prompt: { positive_clicks: [[4, 5]], defect_class_id: 9 }, score: 0.5, geometry: null, replaces: 61 },
    ]);
    expect(fake.runs.some((run) => "imageId" in (run as object))).toBe(false); // the server decoded nothing
  });

  it("says at once when the decoder cannot be loaded in the browser", async () => {
    const shown: string[] = [];
    const failing = { ...browserSam(), failure: null as string | null, ready: Promise.reject(new Error("no wasm")) };
    failing.ready.catch(() => (failing.failure = "SAM's decoder could not be loaded in the browser: no wasm"));
    const connection = new AssistConnection(203, 7, (message) => shown.push(message), server("sam", 203), image, () => failing);
    await connection.ready;
    await Promise.resolve();
    expect(shown.at(-1)).toBe("Assist: sam (on the server: SAM's decoder could not be loaded in the browser: no wasm)");
  });

  it("asks the server when the browser cannot decode, and says why", async () => {
    const shown: string[] = [];
    const fake = server("sam", 202);
    const connection = new AssistConnection(202, 7, (message) => shown.push(message), fake, image, () => browserSam("the wasm did not compile"));
    const answer = await connection.ask({ positive_clicks: [[4, 5]] }, 9, null);
    expect(answer).toMatchObject({ engine: "sam", suggestionId: 5 });
    expect(answer.where).toBeUndefined();
    expect(connection.browserProblem).toBe("the wasm did not compile");
    expect(shown.at(-1)).toBe("Assist: sam (on the server: the wasm did not compile) · asking…");
    expect(fake.runs).toEqual([{ projectId: 202, imageId: 7, engine: "sam", prompt: { positive_clicks: [[4, 5]], defect_class_id: 9 }, replaces: null }]);
  });
});
