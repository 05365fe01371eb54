/** What the editor edits: the user's own work on the image, or (reviewers, /images/<id>/edit/?final=1) the
 *  image's final annotations, e.g. outlines after an adjudication. Final mode shows only the final annotations
 *  and adds what it draws to them; its local draft is kept apart from the user's own work. */
export type EditorMode = "work" | "final";

export function draftScopeOf(mode: EditorMode): string {
  return mode === "final" ? "final" : "";
}
