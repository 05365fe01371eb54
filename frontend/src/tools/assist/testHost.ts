/** A ToolHost and an AssistHost without an editor or a server, for the assist tools' tests. */
import { Viewport } from "../../editor/viewport";
import type { Geometry, Point } from "../../model/types";
import { type Defect, Store } from "../../state/store";
import type { DefectOrigin, ToolHost, ToolPointer } from "../tool";
import type { AssistAnswer, AssistHost, AssistPrompt } from "./assist";

/** A promise settled by the test, when it wants. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

export interface AssistRequest {
  readonly prompt: AssistPrompt;
  readonly defectClassId: number;
  readonly replaces: number | null;
  readonly answer: Deferred<AssistAnswer>;
}

/** Records every request; the test answers each one through its `answer`. */
export class FakeAssist implements AssistHost {
  readonly requests: AssistRequest[] = [];
  readonly statuses: string[] = [];

  ask(prompt: AssistPrompt, defectClassId: number, replaces: number | null): Promise<AssistAnswer> {
    const answer = deferred<AssistAnswer>();
    this.requests.push({ prompt, defectClassId, replaces, answer });
    return answer.promise;
  }

  status(message: string): void {
    this.statuses.push(message);
  }
}

export class RecordingHost implements ToolHost {
  readonly store = new Store();
  readonly view = new Viewport(100, 80);
  readonly imageWidth = 100;
  readonly imageHeight = 80;
  currentClassId: number | null = 7;
  readonly currentSeverityId = null;
  brushRadiusPx = 6;
  readonly created: Array<{ geometry: Geometry; origin: DefectOrigin }> = [];
  readonly notices: string[] = [];
  readonly assist = new FakeAssist();

  defectAt(): Defect | null {
    return null;
  }
  defectCreate(geometry: Geometry, origin: DefectOrigin): void {
    this.created.push({ geometry, origin });
  }
  colorOf(): string {
    return "#ffffff";
  }
  isVisible(): boolean {
    return true;
  }
  requestRender(): void {}
  notify(message: string): void {
    this.notices.push(message);
  }
}

export function pointerAt(pixel: Point, modifiers: Partial<Pick<ToolPointer, "altKey" | "shiftKey">> = {}): ToolPointer {
  return { image: [pixel[0] + 0.5, pixel[1] + 0.5], pixel, screen: [pixel[0] * 4, pixel[1] * 4], shiftKey: false, altKey: false, ctrlKey: false, ...modifiers };
}

export function keyDown(key: string): KeyboardEvent {
  return { key, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false } as KeyboardEvent;
}

/** Lets the tool's awaits run. */
export async function settled(): Promise<void> {
  for (let round = 0; round < 5; round += 1) await Promise.resolve();
}

export const SQUARE: Geometry = { polygons: [{ exterior: [[10, 10], [10, 19], [19, 19], [19, 10]], holes: [] }] };
