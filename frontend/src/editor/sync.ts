/**
 * Autosave. After every edit the document is written to the local draft (IndexedDB) at once and sent to the
 * server after a short quiet period (AUTOSAVE_DEBOUNCE_MS, well under the 2 s promise). Each defect is compared
 * with the server version it was based on (its `SavedBasis`): new ones are created, changed ones saved with
 * `expected_revision`, removed ones deleted with it. The server never takes a silent overwrite:
 * - 409 annotation_conflict pauses that defect and reports a Conflict (both versions) for the user to settle;
 * - 400 (defect_too_small, invalid) keeps the defect locally, marked with the server's reasons, until it changes;
 * - no answer (offline), or an answer that the server cannot serve just now (503 database_unavailable, or 502 and
 *   504 from the reverse proxy), keeps everything in the draft and retries with backoff. A 500 is a bug: refused.
 */
import { ApiError, type AnnotationCreateInput, type AnnotationOutput, NetworkError, api } from "../api/client";
import { type SavedBasis, draftDelete, draftSave } from "../drafts/drafts";
import { type Defect, type Store, defectContentHash, newDefectKey } from "../state/store";
import { type EditorMode, draftScopeOf } from "./mode";
import { type Conflict, basisFromServer, defectFromServer } from "./recovery";

export const AUTOSAVE_DEBOUNCE_MS = 600;
const DRAFT_DEBOUNCE_MS = 50;
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 15_000;
/** Statuses that say "try again shortly", not "this edit is wrong": retried like no answer at all. */
const RETRIED_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

function isRetried(error: unknown): boolean {
  return error instanceof NetworkError || (error instanceof ApiError && RETRIED_STATUSES.has(error.status));
}

export type SyncState = "saved" | "pending" | "saving" | "offline" | "attention";

export interface Refusal {
  readonly hash: string;
  readonly code: string;
  readonly message: string;
  readonly reasons: readonly string[];
}

export interface SyncListener {
  state(state: SyncState, detail: string): void;
  conflict(conflict: Conflict): void;
  refused(key: string, refusal: Refusal | null): void;
}

type Operation =
  | { kind: "create"; key: string; defect: Defect; hash: string }
  | { kind: "save"; key: string; defect: Defect; hash: string; basis: SavedBasis }
  | { kind: "delete"; key: string; basis: SavedBasis };

/** Save round trips in ms, read by bench/editor.py: as the editor waits for them (request to parsed answer),
 *  and as the network saw them (Resource Timing: request start to last byte). */
export const saveTimings: number[] = [];
export const saveNetworkTimings: number[] = [];

function networkTiming(since: number): void {
  const entries = performance.getEntriesByType("resource") as PerformanceResourceTiming[];
  const entry = entries.filter((item) => item.name.includes("/api/v1/") && item.startTime >= since).pop();
  if (entry) saveNetworkTimings.push(entry.responseEnd - entry.startTime);
  if (entries.length > 200) performance.clearResourceTimings();
}

/**
 * The create request for a new defect. `source` is the drawing tool's (ToolDescriptor.source). The defect's
 * `provenance` is left out: the create API has no field for it yet and would drop it (see Defect.provenance).
 */
export function annotationCreateInput(defect: Defect, mode: EditorMode): AnnotationCreateInput {
  return {
    defect_class_id: defect.defectClassId,
    severity_id: defect.severityId,
    geometry: defect.geometry,
    source: defect.source,
    ...(defect.provenance ? { provenance: defect.provenance } : {}),
    ...(mode === "final" ? { is_final: true } : {}),
  };
}

export class Sync {
  readonly refusals = new Map<string, Refusal>();
  readonly conflicts = new Map<string, Conflict>();
  private timer: number | undefined;
  private draftTimer: number | undefined;
  private running: Promise<void> | null = null;
  private retryMs = RETRY_MIN_MS;
  private destroyed = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly imageId: number,
    private readonly userId: number,
    private readonly store: Store,
    readonly basis: Map<string, SavedBasis>,
    private readonly listener: SyncListener,
    private readonly mode: EditorMode = "work",
  ) {
    this.unsubscribe = store.subscribe((_, cause) => {
      if (cause === "selection") return;
      this.writeDraftSoon();
      this.schedule();
    });
  }

  destroy(): void {
    this.destroyed = true;
    window.clearTimeout(this.timer);
    window.clearTimeout(this.draftTimer);
    this.unsubscribe();
  }

  /** Defects not yet on the server as they are now (conflicts and refusals included). */
  pendingCount(): number {
    return this.operations(true).length + this.conflicts.size;
  }

  schedule(delayMs = AUTOSAVE_DEBOUNCE_MS): void {
    window.clearTimeout(this.timer);
    if (this.operations(false).length > 0) this.listener.state("pending", "Unsaved changes");
    this.timer = window.setTimeout(() => void this.flush(), delayMs);
  }

  /** Sends everything now; resolves when the server has all it will take. */
  async flush(): Promise<void> {
    window.clearTimeout(this.timer);
    while (this.running) await this.running;
    this.running = this.run();
    try {
      await this.running;
    } finally {
      this.running = null;
    }
  }

  /** Settles a conflict: keep the user's version, take the server's, or keep both (the user's as a new defect). */
  resolve(key: string, choice: "mine" | "theirs" | "both"): void {
    const conflict = this.conflicts.get(key);
    if (!conflict) return;
    this.conflicts.delete(key);
    const { mine, theirs } = conflict;
    if (choice === "mine") {
      if (theirs) this.basis.set(key, { ...basisFromServer(theirs), hash: "" });
      else this.basis.delete(key);
      if (mine) this.store.edit((defects) => void defects.set(key, mine));
      else this.store.edit((defects) => void defects.delete(key));
    } else {
      this.store.edit((defects) => {
        if (theirs) {
          defects.set(key, defectFromServer(theirs, key));
          this.basis.set(key, basisFromServer(theirs));
        } else {
          defects.delete(key);
          this.basis.delete(key);
        }
        if (choice === "both" && mine) {
          const copy = { ...mine, key: newDefectKey() };
          defects.set(copy.key, copy);
        }
      });
    }
    this.schedule(0);
  }

  private operations(includeRefused: boolean): Operation[] {
    const operations: Operation[] = [];
    const { defects } = this.store.snapshot;
    for (const defect of defects.values()) {
      if (this.conflicts.has(defect.key)) continue;
      const hash = defectContentHash(defect);
      if (!includeRefused && this.refusals.get(defect.key)?.hash === hash) continue;
      const basis = this.basis.get(defect.key);
      if (!basis) operations.push({ kind: "create", key: defect.key, defect, hash });
      else if (basis.hash !== hash) operations.push({ kind: "save", key: defect.key, defect, hash, basis });
    }
    for (const [key, basis] of this.basis) {
      if (!defects.has(key) && !this.conflicts.has(key)) operations.push({ kind: "delete", key, basis });
    }
    return operations;
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.destroyed) return;
      const operation = this.operations(false)[0];
      if (!operation) break;
      this.listener.state("saving", "Saving…");
      try {
        await this.send(operation);
        this.retryMs = RETRY_MIN_MS;
      } catch (error) {
        if (isRetried(error)) {
          const detail = error instanceof NetworkError ? "Offline" : "The server is busy";
          this.listener.state("offline", `${detail}: changes are kept on this computer and retried`);
          this.writeDraftSoon();
          this.timer = window.setTimeout(() => void this.flush(), this.retryMs);
          this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
          return;
        }
        this.handleRefusal(operation, error);
      }
      this.writeDraftSoon();
    }
    const waiting = this.conflicts.size + this.refusals.size;
    if (waiting > 0) this.listener.state("attention", `${waiting} defect(s) need your attention`);
    else this.listener.state("saved", "All changes saved");
    this.writeDraftSoon();
  }

  private async send(operation: Operation): Promise<void> {
    const started = performance.now();
    if (operation.kind === "create") {
      const { defect } = operation;
      const created = await api.annotationCreate(this.imageId, annotationCreateInput(defect, this.mode));
      this.basis.set(operation.key, { id: created.id, revision: created.revision ?? 1, hash: operation.hash });
    } else if (operation.kind === "save") {
      const { defect, basis } = operation;
      const saved = await api.annotationSave(basis.id, {
        expected_revision: basis.revision,
        geometry: defect.geometry,
        defect_class_id: defect.defectClassId,
        severity_id: defect.severityId,
      });
      this.basis.set(operation.key, { id: saved.id, revision: saved.revision ?? basis.revision + 1, hash: operation.hash });
    } else {
      await api.annotationDelete(operation.basis.id, operation.basis.revision);
      this.basis.delete(operation.key);
    }
    saveTimings.push(performance.now() - started);
    networkTiming(started);
    if (this.refusals.delete(operation.key)) this.listener.refused(operation.key, null);
  }

  private handleRefusal(operation: Operation, error: unknown): void {
    const body = error instanceof ApiError ? error.body : { code: "error", message: String(error) };
    const status = error instanceof ApiError ? error.status : 0;
    if (status === 409 && body.code === "annotation_conflict") {
      const mine = operation.kind === "delete" ? null : operation.defect;
      const conflict: Conflict = { key: operation.key, mine, theirs: (body.current as AnnotationOutput | null) ?? null };
      this.conflicts.set(operation.key, conflict);
      this.listener.conflict(conflict);
      return;
    }
    if (status === 404 && operation.kind !== "create") {
      // Gone without a conflict answer: someone deleted it. Ask, as for any conflict.
      const conflict: Conflict = { key: operation.key, mine: operation.kind === "save" ? operation.defect : null, theirs: null };
      this.conflicts.set(operation.key, conflict);
      this.listener.conflict(conflict);
      return;
    }
    const hash = operation.kind === "delete" ? "" : operation.hash;
    const refusal: Refusal = { hash, code: body.code, message: body.message, reasons: body.reasons ?? [] };
    this.refusals.set(operation.key, refusal);
    this.listener.refused(operation.key, refusal);
  }

  private writeDraftSoon(): void {
    window.clearTimeout(this.draftTimer);
    this.draftTimer = window.setTimeout(() => void this.writeDraft(), DRAFT_DEBOUNCE_MS);
  }

  /** The draft holds everything not yet on the server; it is removed once nothing is pending. */
  async writeDraft(): Promise<void> {
    if (this.destroyed) return;
    const { defects } = this.store.snapshot;
    const changed = [...defects.values()].filter((defect) => this.basis.get(defect.key)?.hash !== defectContentHash(defect));
    const deleted = [...this.basis].filter(([key]) => !defects.has(key));
    if (changed.length === 0 && deleted.length === 0) {
      await draftDelete(this.userId, this.imageId, draftScopeOf(this.mode));
    } else {
      const basis = Object.fromEntries(changed.flatMap((defect) => (this.basis.has(defect.key) ? [[defect.key, this.basis.get(defect.key)!]] : [])));
      await draftSave({
        imageId: this.imageId,
        userId: this.userId,
        changed,
        basis,
        deleted: Object.fromEntries(deleted),
        savedAt: new Date().toISOString(),
        scope: draftScopeOf(this.mode),
      });
    }
    document.body.dataset.draftWrittenAt = String(Date.now());
  }
}
