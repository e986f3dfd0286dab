/**
 * The two faces of one engine: an in-memory `HttpClient` (no sockets) and a loopback
 * HTTP server any client can talk to.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Engine } from "./engine.js"
import { dispatch, type EngineRequest, type EngineResponse } from "./http.js"
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

const badJson = (path: string): EngineResponse => ({
  status: 400,
  body: JSON.stringify({ type: "about:blank", title: "INVALID_ARGUMENT", status: 400, detail: "the body is not JSON", instance: path }),
  contentType: "application/problem+json"
})

const route = (context: EngineContext, method: string, url: URL, body: () => unknown): Effect.Effect<EngineResponse> => {
  if (!url.pathname.startsWith(`${basePath}/`)) {
    return Effect.succeed({
      status: 404,
      body: JSON.stringify({ type: "about:blank", title: "NOT_FOUND", status: 404, detail: `the API lives under ${basePath}` }),
      contentType: "application/problem+json"
    })
  }
  let parsed: unknown
  try {
    parsed = body()
  } catch {
    return Effect.succeed(badJson(url.pathname))
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

const parseBody = async (request: IncomingMessage, url: URL, bytes: Buffer): Promise<() => unknown> => {
  const contentType = request.headers["content-type"] ?? ""
  if (contentType.startsWith("multipart/form-data")) {
    const form = await new Request(url, { method: request.method!, headers: { "content-type": contentType }, body: new Uint8Array(bytes) }).formData()
    return () => form
  }
  return () => (bytes.length === 0 ? undefined : JSON.parse(bytes.toString("utf8")))
}

const answer = (response: ServerResponse, result: EngineResponse) => {
  response.writeHead(result.status, result.contentType === undefined ? {} : { "content-type": result.contentType })
  response.end(result.body)
}

/** The loopback face: an HTTP server on `host:port` (port 0 picks a free one), closed with the scope. */
export const serve = (
  context: EngineContext,
  options: { readonly port?: number | undefined; readonly host?: string | undefined }
): Effect.Effect<{ readonly url: string; readonly port: number }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const run = Runtime.runPromise(runtime)
    const server = createServer(async (request, response) => {
      try {
        const url = new URL(request.url ?? "/", "http://engine")
        const body = await parseBody(request, url, await readBody(request))
        answer(response, await run(route(context, request.method ?? "GET", url, body)))
      } catch (error) {
        answer(response, { status: 500, body: String(error), contentType: "text/plain" })
      }
    })
    const host = options.host ?? "127.0.0.1"
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => {
        server.listen(options.port ?? 0, host, () => resume(Effect.void))
      }),
      () =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )
    const port = (server.address() as AddressInfo).port
    return { url: `http://${host}:${port}`, port }
  })
