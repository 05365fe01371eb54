/**
 * Local drafts in IndexedDB: the editor writes the whole document and the server revisions it was based on after
 * every change, so a browser crash, a closed tab or a network outage loses nothing. On reopen the draft is
 * replayed against the server's current state (editor/recovery.ts). A draft is deleted once everything in it is
 * saved.
 */
import type { Defect } from "../state/store";

const DATABASE = "defectlab-editor";
const STORE = "drafts";
const VERSION = 1;

/** The server version a local defect was last saved as (or loaded from). */
export interface SavedBasis {
  readonly id: number;
  readonly revision: number;
  readonly hash: string;
}

/** Only what is not on the server yet: new and changed defects (with the version each change started from) and
 *  deletes not yet sent. Everything else is the server's to give back. */
export interface Draft {
  readonly imageId: number;
  readonly userId: number;
  /** New defects (no basis) and changed ones (with a basis). */
  readonly changed: readonly Defect[];
  readonly basis: Readonly<Record<string, SavedBasis>>;
  /** Defects deleted locally, by key, with the server version the delete applies to. */
  readonly deleted: Readonly<Record<string, SavedBasis>>;
  readonly savedAt: string;
  /** Which document of the image: "" for the user's own work, "final" for a reviewer's edit of the final
   *  annotations (kept apart, so one is never replayed into the other). */
  readonly scope?: string;
}

let opening: Promise<IDBDatabase> | null = null;

function database(): Promise<IDBDatabase> {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, VERSION);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB unavailable"));
  });
  return opening;
}

function draftKey(userId: number, imageId: number, scope = ""): string {
  return scope ? `${userId}:${imageId}:${scope}` : `${userId}:${imageId}`;
}

async function run<T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await database();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, mode);
    const request = action(transaction.objectStore(STORE));
    transaction.oncomplete = () => resolve(request.result);
    transaction.onerror = () => reject(transaction.error ?? new Error("IndexedDB write failed"));
  });
}

export async function draftSave(draft: Draft): Promise<void> {
  await run("readwrite", (store) => store.put(draft, draftKey(draft.userId, draft.imageId, draft.scope)));
}

export async function draftLoad(userId: number, imageId: number, scope = ""): Promise<Draft | null> {
  return ((await run("readonly", (store) => store.get(draftKey(userId, imageId, scope)))) as Draft | undefined) ?? null;
}

export async function draftDelete(userId: number, imageId: number, scope = ""): Promise<void> {
  await run("readwrite", (store) => store.delete(draftKey(userId, imageId, scope)));
}
