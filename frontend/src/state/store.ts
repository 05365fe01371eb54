/**
 * The editor's document: the defects on the image and the selection, as immutable snapshots. Every edit makes a
 * new snapshot and pushes the previous one on the undo stack, so undo/redo covers every kind of edit (drawing,
 * vertex moves, brush strokes, class changes, deletes) the same way. Selection changes alone are not undo steps.
 *
 * Server identity (ids, revisions) is not in here: sync.ts maps each defect's local `key` to the server.
 */
import type { AnnotationSource } from "../api/client";
import type { Geometry } from "../model/types";

/** Any JSON value, as `JSON.parse` gives it back. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [name: string]: JsonValue };

/** What made a defect beyond its `source`, e.g. {"prompt": {"points": [[12, 40]]}, "model": "sam-vit-b"}. */
export type Provenance = { readonly [name: string]: JsonValue };

export interface Defect {
  /** Local identity: "s<id>" for annotations loaded from the server, "n<random>" for new ones. */
  readonly key: string;
  readonly defectClassId: number;
  readonly severityId: number | null;
  readonly geometry: Geometry;
  readonly source: AnnotationSource;
  /** Set by the tool that drew it. Kept here and in the local draft only: the annotation API has no field for it
   *  yet, so it is not sent, and defects loaded from the server have none. */
  readonly provenance?: Provenance;
}

export type Defects = ReadonlyMap<string, Defect>;

export interface Snapshot {
  readonly defects: Defects;
  readonly selection: ReadonlySet<string>;
}

const UNDO_DEPTH = 300; // snapshots kept; each shares unchanged defects with its neighbours

export type Listener = (snapshot: Snapshot, cause: "edit" | "selection" | "undo" | "redo" | "load") => void;

export class Store {
  private current: Snapshot;
  private readonly past: Snapshot[] = [];
  private future: Snapshot[] = [];
  private readonly listeners = new Set<Listener>();

  constructor(defects: readonly Defect[] = []) {
    this.current = { defects: new Map(defects.map((defect) => [defect.key, defect])), selection: new Set() };
  }

  get snapshot(): Snapshot {
    return this.current;
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One undoable edit: `change` gets a mutable copy of the defects and may also return a new selection. */
  edit(change: (defects: Map<string, Defect>) => ReadonlySet<string> | void): void {
    const defects = new Map(this.current.defects);
    const selection = change(defects) ?? this.current.selection;
    const kept = new Set([...selection].filter((key) => defects.has(key)));
    this.past.push(this.current);
    if (this.past.length > UNDO_DEPTH) this.past.shift();
    this.future = [];
    this.current = { defects, selection: kept };
    this.emit("edit");
  }

  select(selection: Iterable<string>): void {
    const kept = new Set([...selection].filter((key) => this.current.defects.has(key)));
    this.current = { defects: this.current.defects, selection: kept };
    this.emit("selection");
  }

  undo(): boolean {
    const previous = this.past.pop();
    if (!previous) return false;
    this.future.push(this.current);
    this.current = previous;
    this.emit("undo");
    return true;
  }

  redo(): boolean {
    const next = this.future.pop();
    if (!next) return false;
    this.past.push(this.current);
    this.current = next;
    this.emit("redo");
    return true;
  }

  /** Replaces the document without an undo step (opening an image, replaying a draft). */
  load(defects: readonly Defect[]): void {
    this.past.length = 0;
    this.future = [];
    this.current = { defects: new Map(defects.map((defect) => [defect.key, defect])), selection: new Set() };
    this.emit("load");
  }

  private emit(cause: Parameters<Listener>[1]): void {
    for (const listener of this.listeners) listener(this.current, cause);
  }
}

/** A defect just drawn with `source` (and `provenance`, when the tool gave one), under a new key. */
export function defectDrawn(
  fields: Pick<Defect, "defectClassId" | "severityId" | "geometry">,
  origin: { readonly source: AnnotationSource; readonly provenance?: Provenance },
): Defect {
  const defect: Defect = { key: newDefectKey(), ...fields, source: origin.source };
  return origin.provenance === undefined ? defect : { ...defect, provenance: origin.provenance };
}

export function newDefectKey(): string {
  return `n${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

const hashes = new WeakMap<object, string>();

/** What the server stores of a defect, as a stable string: equal strings mean nothing to save. Defects are
 *  immutable, so each one's string is computed once. */
export function defectContentHash(defect: Pick<Defect, "defectClassId" | "severityId" | "geometry">): string {
  let hash = hashes.get(defect);
  if (hash === undefined) {
    hash = JSON.stringify([defect.defectClassId, defect.severityId, defect.geometry.polygons]);
    hashes.set(defect, hash);
  }
  return hash;
}
