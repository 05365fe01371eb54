import { describe, expect, it } from "vitest";
import { ROUTES, type SchemaRoute, routeUrl } from "./routes";

describe("route table", () => {
  it("fills path parameters and leaves unset query values out", () => {
    expect(routeUrl(ROUTES.imageFile, { image_id: 12, kind: "thumbnail" })).toBe("/api/v1/images/12/file/thumbnail");
    expect(routeUrl(ROUTES.queueNext, undefined, { after: 3, project: undefined })).toBe("/api/v1/queue/next/?after=3");
    expect(routeUrl(ROUTES.jobCancel, { job_id: 5 })).toBe("/api/v1/jobs/5/cancel/");
  });

  it("refuses a path parameter left without a value", () => {
    // The cast stands for a page bug that the types would have caught.
    expect(() => routeUrl(ROUTES.jobGet, {} as { job_id: number })).toThrow("no value for {job_id}");
  });

  it("types only the schema's operations (these lines must fail to compile: tsc checks the expect-errors)", () => {
    // @ts-expect-error: a path the schema does not have
    const unknownPath: SchemaRoute = { method: "get", path: "/api/v1/no-such-thing/" };
    // @ts-expect-error: a method the schema does not declare for the path
    const unknownMethod: SchemaRoute = { method: "delete", path: "/api/v1/queue/" };
    // @ts-expect-error: the path's parameters are the schema's
    const wrongParameter = (): string => routeUrl(ROUTES.editorGet, { image: 1 });
    expect([unknownPath, unknownMethod, typeof wrongParameter]).toHaveLength(3);
  });
});
