/**
 * The engine's HTTP surface, shared by both faces (in-memory `HttpClient` and loopback
 * server): route a request to its operation, decode the input with the operation's own
 * schema, run the handler, encode the answer with the operation's success schema.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import type * as Schema from "effect/Schema"
import * as Api from "../../generated/index.js"
import type { Descriptor } from "../operation.js"
import { EngineFailure } from "./engine.js"
import { type EngineContext, handlers } from "./routes.js"

/** A request as both faces see it. */
export interface EngineRequest {
  readonly method: string
  /** The path below `/v2`, e.g. `/user-tasks/1/completion`. */
  readonly path: string
  readonly query: URLSearchParams
  /** Parsed JSON, a `FormData` for multipart, or undefined. */
  readonly body: unknown
}

/** An answer: status, body text and its content type. */
export interface EngineResponse {
  readonly status: number
  readonly body: string | undefined
  readonly contentType: string | undefined
}

interface Route {
  readonly pattern: RegExp
  readonly names: ReadonlyArray<string>
  readonly descriptor: Descriptor
  /** The operation's input decoder (undefined: no input), built once. */
  readonly decodeInput: ((input: unknown) => Either.Either<unknown, ParseResult.ParseIssue>) | undefined
  /** The status and body of the operation's (first) success answer, with its encoder for JSON, built once. */
  readonly success: Success
}

/** How an operation answers success: its status and body kind, JSON with its encoder. */
type Success =
  | { readonly _tag: "Empty" | "Binary" }
  | { readonly _tag: "Text"; readonly status: number; readonly mediaType: string }
  | { readonly _tag: "Json"; readonly status: number; readonly encode: (result: unknown) => Either.Either<unknown, ParseResult.ParseIssue> }

const successOf = (descriptor: Descriptor): Success => {
  const [status, body] = Object.entries(descriptor.responses)[0] ?? ["204", { _tag: "Empty" as const }]
  switch (body._tag) {
    case "Empty":
    case "Binary":
      return { _tag: body._tag }
    case "Text":
      return { _tag: "Text", status: Number(status), mediaType: body.mediaType }
    case "Json":
      return { _tag: "Json", status: Number(status), encode: ParseResult.encodeUnknownEither(body.schema as Schema.Schema<unknown, unknown>) }
  }
}

const routes: ReadonlyArray<Route> = Object.values(Api).flatMap((module) =>
  typeof module === "object" && module !== null
    ? Object.values(module).flatMap((value: unknown) => {
      if (typeof value !== "function" || !("descriptor" in value)) return []
      const descriptor = value.descriptor as Descriptor
      const names: Array<string> = []
      const source = descriptor.path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{([^}]+)\}/g, (_, name: string) => {
        names.push(name)
        return "([^/]+)"
      })
      return [{
        pattern: new RegExp(`^${source}$`),
        names,
        descriptor,
        decodeInput: descriptor.input === undefined
          ? undefined
          : ParseResult.decodeUnknownEither(descriptor.input as Schema.Schema<unknown, unknown>, {
            errors: "all",
            onExcessProperty: "ignore"
          }),
        success: successOf(descriptor)
      }]
    })
    : []
)

/** The first segment of a path below `/v2` (`user-tasks` of `/user-tasks/1/completion`). */
const firstSegment = (path: string): string => {
  const end = path.indexOf("/", 1)
  return end === -1 ? path.slice(1) : path.slice(1, end)
}

/**
 * The routes by method and first path segment (every template of the API starts with a
 * literal one), so a request tries a handful of patterns rather than all of them.
 */
const routesByPrefix = new Map<string, Array<Route>>()
for (const route of routes) {
  const key = `${route.descriptor.method} ${firstSegment(route.descriptor.path)}`
  const list = routesByPrefix.get(key)
  if (list === undefined) routesByPrefix.set(key, [route])
  else list.push(route)
}

/** A problem+json answer; `instance` is the full request path when given. */
export const problemResponse = (status: number, title: string, detail: string, instance?: string): EngineResponse => ({
  status,
  body: JSON.stringify({ type: "about:blank", title, status, detail, ...(instance === undefined ? {} : { instance }) }),
  contentType: "application/problem+json"
})

/** A problem+json answer for a path below `/v2`. */
const problem = (status: number, title: string, detail: string, path: string): EngineResponse =>
  problemResponse(status, title, detail, `/v2${path}`)

const queryValue = (value: string): unknown => (value === "true" ? true : value === "false" ? false : value)

/** Multipart fields: repeated names become lists, `resources`/`files` are always lists. */
const formFields = (form: FormData): Record<string, unknown> => {
  const fields: Record<string, unknown> = {}
  for (const name of new Set(form.keys())) {
    const values = form.getAll(name)
    fields[name] = values.length > 1 || name === "resources" || name === "files" ? values : values[0]
  }
  return fields
}

const rawInput = (request: EngineRequest, route: Route, match: RegExpExecArray): Record<string, unknown> => {
  const input: Record<string, unknown> = {}
  if (request.body instanceof FormData) Object.assign(input, formFields(request.body))
  else if (typeof request.body === "object" && request.body !== null) Object.assign(input, request.body)
  for (const name of route.descriptor.queryParams) {
    const value = request.query.get(name)
    if (value !== null) input[name] = queryValue(value)
  }
  route.names.forEach((name, index) => {
    input[name] = decodeURIComponent(match[index + 1]!)
  })
  return input
}

const encodeAnswer = (success: Success, result: unknown, path: string): EngineResponse => {
  switch (success._tag) {
    case "Empty":
      return { status: 204, body: undefined, contentType: undefined }
    case "Text":
      return { status: success.status, body: String(result), contentType: success.mediaType }
    case "Binary":
      return problem(501, "NOT_SUPPORTED", "binary answers are not supported by the test engine", path)
    case "Json": {
      const encoded = success.encode(result)
      if (Either.isLeft(encoded)) {
        const detail = ParseResult.TreeFormatter.formatIssueSync(encoded.left)
        return problem(500, "INTERNAL", `the test engine produced an invalid answer: ${detail}`, path)
      }
      return { status: success.status, body: JSON.stringify(encoded.right), contentType: "application/json" }
    }
  }
}

const reasons: Record<number, string> = { 429: "RESOURCE_EXHAUSTED", 503: "RESOURCE_EXHAUSTED" }

/**
 * Injected faults around a handled request: a scripted status for the operation, latency,
 * and 503 `RESOURCE_EXHAUSTED` for commands beyond the capacity.
 */
const withFaults = (
  context: EngineContext,
  descriptor: Descriptor,
  path: string,
  handle: Effect.Effect<EngineResponse>
): Effect.Effect<EngineResponse> => {
  const { faults } = context
  const scripted = faults.scripted.get(descriptor.operationId)?.shift()
  if (scripted !== undefined) {
    return Effect.succeed(problem(scripted, reasons[scripted] ?? "INJECTED_FAULT", `fault injected for ${descriptor.operationId}`, path))
  }
  const isCommand = !descriptor.safeToRepeat
  const delayed = faults.latency === undefined ? handle : Effect.zipRight(Effect.sleep(faults.latency), handle)
  if (!isCommand || faults.capacity === undefined) return delayed
  return Effect.suspend(() => {
    if (context.inFlight >= faults.capacity!) {
      return Effect.succeed(problem(503, "RESOURCE_EXHAUSTED", `the test engine is at its capacity of ${faults.capacity} commands in flight`, path))
    }
    context.inFlight++
    return Effect.ensuring(delayed, Effect.sync(() => context.inFlight--))
  })
}

/** Routes one request through the engine. Never fails: every outcome is an answer. */
export const dispatch = (context: EngineContext, request: EngineRequest): Effect.Effect<EngineResponse> => {
  for (const route of routesByPrefix.get(`${request.method} ${firstSegment(request.path)}`) ?? []) {
    const match = route.pattern.exec(request.path)
    if (match === null) continue
    const { operationId } = route.descriptor
    const handler = handlers[operationId]
    if (handler === undefined) {
      return Effect.succeed(problem(501, "NOT_SUPPORTED", `${operationId} is not supported by the test engine`, request.path))
    }
    const input = route.decodeInput === undefined ? Either.right({}) : route.decodeInput(rawInput(request, route, match))
    if (Either.isLeft(input)) {
      return Effect.succeed(problem(400, "INVALID_ARGUMENT", ParseResult.TreeFormatter.formatIssueSync(input.left), request.path))
    }
    const handled = handler(input.right as Record<string, unknown>, context).pipe(
      Effect.map((result) => encodeAnswer(route.success, result, request.path)),
      Effect.catchAll((failure: EngineFailure) => Effect.succeed(problem(failure.status, failure.title, failure.detail, request.path))),
      Effect.catchAllDefect((defect) =>
        Effect.succeed(problem(500, "INTERNAL", `the test engine failed: ${defect instanceof Error ? defect.message : String(defect)}`, request.path))
      )
    )
    return withFaults(context, route.descriptor, request.path, handled)
  }
  return Effect.succeed(problem(404, "NOT_FOUND", `no operation at ${request.method} /v2${request.path}`, request.path))
}
