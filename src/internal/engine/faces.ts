/**
 * The two faces of one engine: an in-memory `HttpClient` (no sockets) and a loopback
 * HTTP server any client can talk to.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Engine } from "./engine.js"
import { dispatch, type EngineRequest, type EngineResponse, problemResponse } from "./http.js"
import { type EngineContext, engineTime, type Faults } from "./routes.js"

/** A fresh engine with its clock and faults. */
export const makeContext = (faults: Partial<Omit<Faults, "scripted">> = {}): EngineContext => {
  let pinned: number | undefined
  return {
    engine: new Engine(),
    now: engineTime(() => pinned),
    pin: (millis) => {
      pinned = millis
    },
    faults: { capacity: faults.capacity, latency: faults.latency, scripted: new Map() },
    inFlight: 0
  }
}

const basePath = "/v2"

const badBody = (path: string, detail: string): EngineResponse => problemResponse(400, "INVALID_ARGUMENT", detail, path)

/** A request body that could not be read; `route` answers it with 400. */
class BadBody extends Error {}

const route = (context: EngineContext, method: string, url: URL, body: () => unknown): Effect.Effect<EngineResponse> => {
  if (!url.pathname.startsWith(`${basePath}/`)) {
    return Effect.succeed(problemResponse(404, "NOT_FOUND", `the API lives under ${basePath}`))
  }
  let parsed: unknown
  try {
    parsed = body()
  } catch (error) {
    return Effect.succeed(badBody(url.pathname, error instanceof BadBody ? error.message : "the body is not JSON"))
  }
  const request: EngineRequest = { method, path: url.pathname.slice(basePath.length), query: url.searchParams, body: parsed }
  return dispatch(context, request)
}

/** The in-memory face: an `HttpClient` whose every request is answered by the engine. */
export const httpClient = (context: EngineContext): HttpClient.HttpClient =>
  HttpClient.make((request, url) =>
    Effect.map(
      route(context, request.method, url, () => {
        const body = request.body
        if (body._tag === "FormData") return body.formData
        if (body._tag === "Uint8Array") return body.body.length === 0 ? undefined : JSON.parse(new TextDecoder().decode(body.body))
        return undefined
      }),
      (answer) =>
        HttpClientResponse.fromWeb(
          request,
          new Response(answer.body ?? null, {
            status: answer.status,
            headers: answer.contentType === undefined ? {} : { "content-type": answer.contentType }
          })
        )
    )
  )

const readBody = (request: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => resolve(Buffer.concat(chunks)))
    request.on("error", reject)
  })

/**
 * The body as `route` wants it: a `FormData` for multipart and URL-encoded forms (any
 * casing or parameters of the media type), parsed JSON for everything else (clients send
 * `application/json`, `application/json; charset=utf-8`, `application/vnd...+json` or none).
 */
const parseBody = async (request: IncomingMessage, url: URL, bytes: Buffer): Promise<() => unknown> => {
  const contentType = request.headers["content-type"] ?? ""
  const mediaType = contentType.split(";")[0]!.trim().toLowerCase()
  if (mediaType === "multipart/form-data" || mediaType === "application/x-www-form-urlencoded") {
    try {
      const form = await new Request(url, { method: "POST", headers: { "content-type": contentType }, body: new Uint8Array(bytes) })
        .formData()
      return () => form
    } catch (error) {
      const detail = `the ${mediaType} body could not be read: ${error instanceof Error ? error.message : String(error)}`
      return () => {
        throw new BadBody(detail)
      }
    }
  }
  return () => (bytes.length === 0 ? undefined : JSON.parse(bytes.toString("utf8")))
}

const answer = (response: ServerResponse, result: EngineResponse) => {
  if (response.headersSent || response.destroyed) return
  response.writeHead(result.status, result.contentType === undefined ? {} : { "content-type": result.contentType })
  response.end(result.body)
}

/** One request, read, routed and answered; interruptible (long polls, latency) until the answer is written. */
const handle = (context: EngineContext, request: IncomingMessage, response: ServerResponse): Effect.Effect<void> =>
  Effect.tryPromise(async () => {
    const url = new URL(request.url ?? "/", "http://engine")
    return { url, body: await parseBody(request, url, await readBody(request)) }
  }).pipe(
    Effect.flatMap(({ body, url }) => route(context, request.method ?? "GET", url, body)),
    Effect.catchAll((error) => Effect.die(error.error)),
    Effect.catchAllDefect((defect) => Effect.succeed<EngineResponse>({ status: 500, body: String(defect), contentType: "text/plain" })),
    Effect.flatMap((result) => Effect.sync(() => answer(response, result)))
  )

/**
 * The loopback face: an HTTP server on `host:port` (port 0 picks a free one), closed with
 * the scope. Each request runs as its own fiber on the caller's runtime (so its Clock);
 * a request whose client disconnects is interrupted, and closing the scope interrupts
 * whatever is still running before the connections are closed.
 */
export const serve = (
  context: EngineContext,
  options: { readonly port?: number | undefined; readonly host?: string | undefined }
): Effect.Effect<{ readonly url: string; readonly port: number }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    /** Requests being handled; a request whose client goes away is interrupted (its long poll must not take jobs). */
    const handling = new Set<Fiber.RuntimeFiber<void>>()
    const server = createServer((request, response) => {
      const fiber = Runtime.runFork(runtime)(handle(context, request, response))
      handling.add(fiber)
      fiber.addObserver(() => handling.delete(fiber))
      response.on("close", () => {
        if (!response.writableFinished) fiber.unsafeInterruptAsFork(FiberId.none)
      })
    })
    const host = options.host ?? "127.0.0.1"
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => {
        // a port in use or a host not on this machine is a defect: the caller cannot do without the server
        const failed = (error: Error) => resume(Effect.die(error))
        server.once("error", failed)
        server.listen(options.port ?? 0, host, () => {
          server.off("error", failed)
          resume(Effect.void)
        })
      }),
      () =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          Runtime.runFork(runtime)(
            Effect.ensuring(Fiber.interruptAll(handling), Effect.sync(() => server.closeAllConnections()))
          )
        })
    )
    const address = server.address() as AddressInfo
    const urlHost = host.includes(":") ? `[${host}]` : host
    return { url: `http://${urlHost}:${address.port}`, port: address.port }
  })
