/**
 * Every API path the browser code calls, once, as the OpenAPI path templates of schema.d.ts.
 *
 * Drift protection: `satisfies` makes `tsc` (so `npm run build`) fail on a template the schema does not have or
 * a method it does not declare for it; frontend/tests/test_api_types.py fails when schema.d.ts differs from
 * the server's schema, and frontend/tests/test_api_routes.py when an "/api/" path is written anywhere else (a
 * page, a template) or a template here is not one of the server's. A renamed endpoint breaks the build, not a
 * page in an inspector's browser.
 */
import type { paths } from "./schema";

export type HttpMethod = "get" | "put" | "post" | "patch" | "delete";
export type PathTemplate = keyof paths;

/** The methods the schema declares for `P` (openapi-typescript writes `put?: never` for the others). */
export type MethodOf<P extends PathTemplate> = {
  [M in HttpMethod]: [NonNullable<paths[P][M]>] extends [never] ? never : M;
}[HttpMethod];

/** One operation of the schema: a path template with a method it declares. */
export type SchemaRoute = { [P in PathTemplate]: { readonly method: MethodOf<P>; readonly path: P } }[PathTemplate];

export const ROUTES = {
  // The editor
  editorGet: { method: "get", path: "/api/v1/images/{image_id}/editor/" },
  imageFile: { method: "get", path: "/api/v1/images/{image_id}/file/{kind}" },
  annotationCreate: { method: "post", path: "/api/v1/images/{image_id}/annotations/" },
  annotationSave: { method: "put", path: "/api/v1/annotations/{annotation_id}/" },
  annotationDelete: { method: "delete", path: "/api/v1/annotations/{annotation_id}/" },
  imageSubmit: { method: "post", path: "/api/v1/images/{image_id}/submit/" },
  defectFreeSet: { method: "post", path: "/api/v1/images/{image_id}/defect-free/" },
  commentList: { method: "get", path: "/api/v1/images/{image_id}/comments/" },
  commentCreate: { method: "post", path: "/api/v1/images/{image_id}/comments/" },
  precedentList: { method: "get", path: "/api/v1/projects/{project_id}/precedents/" },
  edgeCaseFlag: { method: "post", path: "/api/v1/images/{image_id}/edge-cases/" },
  // The editor's assist (assist app): engines, answers to a box or clicks, pre-label suggestions, time per image
  assistEngineList: { method: "get", path: "/api/v1/projects/{project_id}/assist/engines/" },
  assistRun: { method: "post", path: "/api/v1/images/{image_id}/assist/" },
  assistRecord: { method: "post", path: "/api/v1/images/{image_id}/assist/record/" },
  suggestionList: { method: "get", path: "/api/v1/images/{image_id}/suggestions/" },
  suggestionAccept: { method: "post", path: "/api/v1/suggestions/{suggestion_id}/accept/" },
  suggestionReject: { method: "post", path: "/api/v1/suggestions/{suggestion_id}/reject/" },
  imageVisit: { method: "post", path: "/api/v1/images/{image_id}/visits/" },
  // SAM for the editor's Web Worker (frontend/src/sam/): an image's fp16 embedding and the int8 decoder
  imageEmbedding: { method: "get", path: "/api/v1/images/{image_id}/embedding/" },
  samDecoder: { method: "get", path: "/api/v1/assist/sam/decoder.onnx" },
  // My queue
  queueList: { method: "get", path: "/api/v1/queue/" },
  queueNext: { method: "get", path: "/api/v1/queue/next/" },
  // QA pages
  adjudicationGet: { method: "get", path: "/api/v1/qa/adjudications/{adjudication_id}/" },
  adjudicationDecide: { method: "post", path: "/api/v1/qa/adjudications/{adjudication_id}/decide/" },
  spotCheckList: { method: "get", path: "/api/v1/projects/{project_id}/qa/spot-checks/" },
  spotCheckDecide: { method: "post", path: "/api/v1/qa/spot-checks/{spot_check_id}/decide/" },
  spotCheckSampleList: { method: "get", path: "/api/v1/projects/{project_id}/qa/spot-check-samples/" },
  spotCheckSampleDraw: { method: "post", path: "/api/v1/projects/{project_id}/qa/spot-check-samples/" },
  edgeCaseDecide: { method: "post", path: "/api/v1/qa/edge-cases/{edge_case_id}/decide/" },
  reReviewResolve: { method: "post", path: "/api/v1/qa/re-reviews/{re_review_id}/resolve/" },
  qaPolicySave: { method: "put", path: "/api/v1/projects/{project_id}/qa/policy/" },
  // Project page: pre-labels and the assist's statistics
  prelabelStart: { method: "post", path: "/api/v1/projects/{project_id}/prelabels/" },
  assistStatistics: { method: "get", path: "/api/v1/projects/{project_id}/assist/statistics/" },
  // Training runs and the model registry (project page, run page, model page)
  trainingRunList: { method: "get", path: "/api/v1/projects/{project_id}/training-runs/" },
  trainingRunStart: { method: "post", path: "/api/v1/projects/{project_id}/training-runs/" },
  trainingRunGet: { method: "get", path: "/api/v1/training-runs/{run_id}/" },
  trainedModelList: { method: "get", path: "/api/v1/projects/{project_id}/models/" },
  trainedModelGet: { method: "get", path: "/api/v1/models/{model_id}/" },
  trainedModelPromote: { method: "post", path: "/api/v1/models/{model_id}/promote/" },
  trainedModelRetrain: { method: "post", path: "/api/v1/models/{model_id}/retrain/" },
  trainedModelFile: { method: "get", path: "/api/v1/models/{model_id}/files/{name}" },
  trainedModelWorstCase: { method: "get", path: "/api/v1/models/{model_id}/worst-cases/{index}.png" },
  // Label next and label-error review (assist app): the promoted model's rankings, and new work in their order
  labelNextStart: { method: "post", path: "/api/v1/projects/{project_id}/label-next/jobs/" },
  labelErrorsStart: { method: "post", path: "/api/v1/projects/{project_id}/label-errors/jobs/" },
  labelErrorList: { method: "get", path: "/api/v1/projects/{project_id}/label-errors/" },
  labelErrorDecide: { method: "post", path: "/api/v1/label-errors/{label_error_id}/decide/" },
  assignmentCreate: { method: "post", path: "/api/v1/projects/{project_id}/assignments/" },
  // Upload page
  uploadCreate: { method: "post", path: "/api/v1/projects/{project_id}/uploads/" },
  uploadGet: { method: "get", path: "/api/v1/uploads/{job_id}/" },
  // Dataset version pages
  exportRequest: { method: "post", path: "/api/v1/versions/{version_id}/exports/" },
  exportGet: { method: "get", path: "/api/v1/exports/{export_id}/" },
  // Background jobs, any kind
  jobGet: { method: "get", path: "/api/v1/jobs/{job_id}/" },
  jobCancel: { method: "post", path: "/api/v1/jobs/{job_id}/cancel/" },
} as const satisfies Record<string, SchemaRoute>;

/**
 * Routes the server is adding and its schema does not have yet, typed by hand in client.ts. When the schema
 * gains one, test_api_routes.py fails: move it into ROUTES (and its types to the schema's) and delete it here.
 */
export const PENDING_ROUTES = {} as const satisfies Record<string, PendingRoute>;

export type RouteName = keyof typeof ROUTES;
export type Route = (typeof ROUTES)[RouteName];
/** A route of PENDING_ROUTES (none just now: every route the pages call is in the schema). */
export type PendingRoute = { readonly method: HttpMethod; readonly path: `/api/v1/${string}` };

/** The operation the schema declares for `R`. */
export type OperationOf<R extends SchemaRoute> = NonNullable<paths[R["path"]][R["method"]]>;

/** The path parameters of `R` ({image_id: number}, ...); `undefined` for a path without any. */
export type PathParameters<R extends SchemaRoute> =
  OperationOf<R> extends { parameters: { path: infer Parameters } } ? Parameters : undefined;

/** The query parameters the schema declares for `R`; `never` where it declares none. */
export type QueryParameters<R extends SchemaRoute> =
  OperationOf<R> extends { parameters: { query?: infer Query } } ? NonNullable<Query> : never;

/** The JSON request body the schema declares for `R`; `never` where it declares none. */
export type RequestBody<R extends SchemaRoute> =
  OperationOf<R> extends { requestBody?: { content: { "application/json": infer Body } } } ? Body : never;

type JsonContent<Response> = Response extends { content: { "application/json": infer Body } } ? Body : never;
type SuccessStatus = 200 | 201 | 202;

/** The JSON body of `R`'s success responses, `| undefined` where it may answer 204 (no content). */
export type ResponseBody<R extends SchemaRoute> =
  OperationOf<R> extends { responses: infer Responses }
    ?
        | { [Status in keyof Responses & SuccessStatus]: JsonContent<Responses[Status]> }[keyof Responses & SuccessStatus]
        | (204 extends keyof Responses ? undefined : never)
    : never;

/** `path` with its `{name}` placeholders filled (URL-encoded) and the query string (unset values left out). */
function urlBuild(path: string, parameters: object | undefined, query: object | undefined): string {
  const values = (parameters ?? {}) as Readonly<Record<string, string | number | undefined>>;
  const filled = path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    // A placeholder without a value is a page bug, not something to send.
    if (value === undefined) throw new Error(`${path}: no value for {${name}}`);
    return encodeURIComponent(String(value));
  });
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) search.set(name, String(value));
  const text = search.toString();
  return text ? `${filled}?${text}` : filled;
}

/** The URL of `route` with its path parameters and query, both typed from the schema. */
export function routeUrl<R extends SchemaRoute>(
  route: R,
  parameters: PathParameters<R>,
  query?: QueryParameters<R>,
): string {
  return urlBuild(route.path, parameters as object | undefined, query as object | undefined);
}

/** The URL of a route the schema does not have yet (PENDING_ROUTES): parameters typed by hand. */
export function pendingRouteUrl(route: PendingRoute, parameters: Readonly<Record<string, number>>): string {
  return urlBuild(route.path, parameters, undefined);
}
