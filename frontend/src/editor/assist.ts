/**
 * The editor's connection to the server's assist engines (AssistHost of the assist tools): which engine the
 * project uses (asked once per project), each prompt sent with it, and the status line that says which engine
 * answered, or that none is available.
 */
import { type AssistEngines, api, errorMessage } from "../api/client";
import { type AssistAnswer, type AssistHost, type AssistPrompt, NO_ENGINE_MESSAGE } from "../tools/assist/assist";

/** What the connection needs of the server; `api` in the editor, a fake in the tests. */
export interface AssistServer {
  engines(projectId: number): Promise<AssistEngines>;
  run(imageId: number, engine: string, prompt: AssistPrompt & { readonly defect_class_id: number }, replaces: number | null): Promise<AssistAnswer>;
}

export const apiAssistServer: AssistServer = {
  engines: (projectId) => api.assistEngineList(projectId),
  run: async (imageId, engine, prompt, replaces) => {
    const body = await api.assistRun(
      imageId,
      engine,
      {
        defect_class_id: prompt.defect_class_id,
        box: prompt.box ? [...prompt.box] : null,
        positive_clicks: (prompt.positive_clicks ?? []).map(([x, y]) => [x, y]),
        negative_clicks: (prompt.negative_clicks ?? []).map(([x, y]) => [x, y]),
      },
      replaces,
    );
    return { suggestionId: body.suggestion_id, engine: body.engine, score: body.score, geometry: body.geometry, ms: body.ms };
  },
};

/** " · SAM is not installed" for each engine the server knows but cannot run (its reason's first clause). */
export function unavailableNote(engines: AssistEngines): string {
  return (engines.unavailable ?? []).map((item) => ` · ${item.reason.split(":")[0]}`).join("");
}

const enginesByProject = new Map<number, Promise<AssistEngines>>();

export class AssistConnection implements AssistHost {
  /** The engine the tools use: null while unknown or when the server has none. */
  engine: string | null = null;
  readonly ready: Promise<void>;

  constructor(
    private readonly projectId: number,
    private readonly imageId: number,
    private readonly show: (message: string) => void,
    private readonly server: AssistServer = apiAssistServer,
  ) {
    this.ready = this.load();
  }

  private async load(): Promise<void> {
    let engines = enginesByProject.get(this.projectId);
    if (!engines) {
      engines = this.server.engines(this.projectId);
      enginesByProject.set(this.projectId, engines);
      engines.catch(() => enginesByProject.delete(this.projectId)); // asked again with the next image
    }
    try {
      const list = await engines;
      this.engine = list.preferred ?? null;
      this.show((this.engine ? `Assist: ${this.engine}` : "Assist: no engine available") + unavailableNote(list));
    } catch (error) {
      this.show(`Assist unavailable: ${errorMessage(error)}`);
    }
  }

  async ask(prompt: AssistPrompt, defectClassId: number, replaces: number | null): Promise<AssistAnswer> {
    await this.ready;
    if (!this.engine) throw new Error(NO_ENGINE_MESSAGE);
    this.show(`Assist: ${this.engine} · asking…`);
    try {
      return await this.server.run(this.imageId, this.engine, { ...prompt, defect_class_id: defectClassId }, replaces);
    } catch (error) {
      this.show(`Assist: ${this.engine}`);
      throw new Error(errorMessage(error));
    }
  }

  status(message: string): void {
    this.show(message);
  }
}
