import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { NO_ENGINE_MESSAGE } from "../tools/assist/assist";
import { SQUARE } from "../tools/assist/testHost";
import { AssistConnection, type AssistServer } from "./assist";

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
