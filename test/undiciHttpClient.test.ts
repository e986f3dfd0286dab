/**
 * `effect-camunda/UndiciHttpClient` against a real HTTP server on loopback: what reaches
 * the server, how answers come back, and that interrupting a call closes its request.
 */
import * as Cookies from "@effect/platform/Cookies"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import { describe, expect, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Auth, CamundaClient, type CamundaError, Cluster, Document, Keys, Resource, UserTask } from "effect-camunda"
import * as UndiciHttpClient from "effect-camunda/UndiciHttpClient"
import { topologyBody } from "./support/mockHttp.js"
import { recordingTracer } from "./support/tracing.js"

interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage["headers"]
  readonly body: Buffer
}

interface Loopback {
  readonly url: string
  /** Every request the server received. */
  readonly seen: Array<Seen>
  /** The paths of requests whose connection closed before the server answered. */
  readonly closed: Array<string>
  /** How many connections clients opened. */
  readonly connections: () => number
}

const listen = (handler: (seen: Seen, response: ServerResponse) => void) => {
  const seen: Array<Seen> = []
  const closed: Array<string> = []
  const http = createServer((request: IncomingMessage, response) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      const entry = { method: request.method!, url: request.url!, headers: request.headers, body: Buffer.concat(chunks) }
      seen.push(entry)
      handler(entry, response)
    })
    response.on("close", () => {
      if (!response.writableFinished) closed.push(request.url!)
    })
  })
  let connections = 0
  http.on("connection", () => connections++)
  return { http, seen, closed, connections: () => connections }
}

/** A loopback server answering with `handler`; closed with the scope. */
const server = (handler: (seen: Seen, response: ServerResponse) => void) =>
  Effect.map(
    Effect.acquireRelease(
      Effect.async<ReturnType<typeof listen>>((resume) => {
        const loopback = listen(handler)
        loopback.http.listen(0, "127.0.0.1", () => resume(Effect.succeed(loopback)))
      }),
      ({ http }) =>
        Effect.async<void>((resume) => {
          http.closeAllConnections()
          http.close(() => resume(Effect.void))
        })
    ),
    ({ closed, connections, http, seen }): Loopback => ({
      url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
      seen,
      closed,
      connections
    })
  )

const clientFor = (url: string) =>
  CamundaClient.layer({ restAddress: url, auth: Auth.basic({ username: "u", password: Redacted.make("p") }) }).pipe(
    Layer.provide(UndiciHttpClient.layer())
  )

describe("UndiciHttpClient", () => {
  it.scoped("sends method, path, headers and JSON body; reads 204", () =>
    Effect.gen(function*() {
      const { seen, url } = yield* server((_, response) => response.writeHead(204).end())
      yield* UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("7"), variables: { a: 1 } }).pipe(
        Effect.withSpan("test-parent"),
        Effect.provide(clientFor(url))
      )
      const [request] = seen
      expect(request!.method).toBe("POST")
      expect(request!.url).toBe("/v2/user-tasks/7/completion")
      expect(request!.headers["content-type"]).toBe("application/json")
      expect(request!.headers["authorization"]).toBe(`Basic ${btoa("u:p")}`)
      expect(request!.headers["traceparent"]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
      expect(JSON.parse(request!.body.toString())).toEqual({ variables: { a: 1 } })
    }))

  it.scoped("every URL arrives as URL parsing makes it: plain paths of the same origin, dot segments, spaces, queries, another origin", () =>
    Effect.gen(function*() {
      const first = yield* server((_, response) => response.writeHead(204).end())
      const second = yield* server((_, response) => response.writeHead(204).end())
      const sent = [
        [first, "/v2/user-tasks/7/completion"],
        [first, "/v2/user-tasks/8/completion"],
        [first, "/v2/a/./b/../c"],
        [first, "/v2/a/%2e%2e/d"],
        [first, "/v2/with space/é"],
        [second, "/v2/other-origin"],
        [first, "/v2/back"]
      ] as const
      yield* Effect.forEach(sent, ([target, path]) => HttpClient.get(`${target.url}${path}`), { discard: true }).pipe(
        Effect.zipRight(HttpClient.get(`${first.url}/v2/search`, { urlParams: { q: "a b" } })),
        Effect.provide(UndiciHttpClient.layer())
      )
      const expected = (path: string) => {
        const parsed = new URL(`http://x${path}`)
        return parsed.pathname + parsed.search
      }
      expect(first.seen.map((seen) => seen.url)).toEqual([
        ...sent.filter(([target]) => target === first).map(([, path]) => expected(path)),
        "/v2/search?q=a+b"
      ])
      expect(second.seen.map((seen) => seen.url)).toEqual(["/v2/other-origin"])
    }))

  it.scoped("answers without a body (204, content-length 0) are read without waiting and leave the connection reusable", () =>
    Effect.gen(function*() {
      let answered = 0
      const { connections, seen, url } = yield* server((_, response) => {
        // alternately a 204 and a 200 that says its body is empty
        if (answered++ % 2 === 0) response.writeHead(204).end()
        else response.writeHead(200, { "content-length": "0" }).end()
      })
      const oneConnection = CamundaClient.layer({ restAddress: url }).pipe(Layer.provide(UndiciHttpClient.layer({ connections: 1 })))
      yield* Effect.forEach(
        Array.from({ length: 40 }, (_, i) => i),
        (i) => UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make(String(i)) }),
        { concurrency: 4, discard: true }
      ).pipe(Effect.provide(oneConnection))
      expect(seen).toHaveLength(40)
      expect(connections()).toBe(1)
    }))

  it.scoped("each call is a client span camunda.<operationId> under the caller's span, and its W3C trace context is sent", () =>
    Effect.gen(function*() {
      const { seen, url } = yield* server((_, response) => response.writeHead(204).end())
      const { spans, tracer } = yield* recordingTracer
      yield* UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("7") }).pipe(
        Effect.withSpan("caller"),
        Effect.provide(clientFor(url)),
        Effect.withTracer(tracer)
      )
      const caller = spans.find((span) => span.name === "caller")!
      const operation = spans.find((span) => span.name === "camunda.completeUserTask")!
      expect(operation.kind).toBe("client")
      expect(operation.attributes.get("camunda.operation_id")).toBe("completeUserTask")
      expect(Option.getOrUndefined(operation.parent)?.spanId).toBe(caller.spanId)
      expect(operation.status._tag).toBe("Ended")
      expect(seen[0]!.headers["traceparent"]).toBe(`00-${operation.traceId}-${operation.spanId}-01`)
      // W3C Trace Context only, not Zipkin's b3 as well
      expect(seen[0]!.headers["b3"]).toBeUndefined()
    }))

  it.scoped("with Effect's built-in tracer (none installed) a call sends the caller's trace context, and none without a caller span", () =>
    Effect.gen(function*() {
      const { seen, url } = yield* server((_, response) => response.writeHead(204).end())
      const caller = yield* UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("7") }).pipe(
        Effect.zipRight(Effect.currentSpan),
        Effect.withSpan("caller"),
        Effect.provide(clientFor(url))
      )
      yield* UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("8") }).pipe(Effect.provide(clientFor(url)))
      // the operation makes no span of its own: that tracer records nothing and the span is in no context
      expect(seen[0]!.headers["traceparent"]).toBe(`00-${caller.traceId}-${caller.spanId}-01`)
      expect(seen[1]!.headers["traceparent"]).toBeUndefined()
    }))

  it.scoped("the plain HttpClient sends the fiber's span as trace context, and none with tracing off", () =>
    Effect.gen(function*() {
      const { seen, url } = yield* server((_, response) => response.writeHead(204).end())
      const get = HttpClient.get(`${url}/x`)
      const caller = yield* Effect.zipRight(get, Effect.currentSpan).pipe(Effect.withSpan("caller"), Effect.provide(UndiciHttpClient.layer()))
      yield* get.pipe(Effect.withSpan("caller"), Effect.withTracerEnabled(false), Effect.provide(UndiciHttpClient.layer()))
      expect(seen[0]!.headers["traceparent"]).toBe(`00-${caller.traceId}-${caller.spanId}-01`)
      // not Effect's no-op span (00-noop-noop-00)
      expect(seen[1]!.headers["traceparent"]).toBeUndefined()
    }))

  it.scoped("with tracing off (Effect.withTracerEnabled(false)) a call makes no span and sends no trace context", () =>
    Effect.gen(function*() {
      const { seen, url } = yield* server((_, response) => response.writeHead(204).end())
      const { spans, tracer } = yield* recordingTracer
      yield* UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("7") }).pipe(
        Effect.provide(clientFor(url)),
        Effect.withTracerEnabled(false),
        Effect.withTracer(tracer)
      )
      expect(spans).toEqual([])
      expect(seen[0]!.headers["traceparent"]).toBeUndefined()
    }))

  it.scoped("decodes JSON answers and maps problem answers to their class", () =>
    Effect.gen(function*() {
      const { url } = yield* server((seen, response) => {
        if (seen.url === "/v2/topology") {
          response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(topologyBody))
        } else {
          response.writeHead(409, { "content-type": "application/problem+json" }).end(
            JSON.stringify({ title: "INVALID_STATE", status: 409, detail: "assigned to someone else" })
          )
        }
      })
      const topology = yield* Cluster.getTopology().pipe(Effect.provide(clientFor(url)))
      expect(topology.gatewayVersion).toBe("8.9.0")
      const error = yield* Effect.flip(UserTask.assignUserTask({ userTaskKey: Keys.UserTaskKey.make("1"), assignee: "x" })).pipe(
        Effect.provide(clientFor(url))
      )
      expect(error).toMatchObject({ _tag: "Conflict", detail: "assigned to someone else" })
    }))

  it.scoped("sends multipart bodies and reads binary answers", () =>
    Effect.gen(function*() {
      const { seen, url } = yield* server((request, response) => {
        if (request.method === "GET") {
          response.writeHead(200, { "content-type": "application/octet-stream" }).end(Buffer.from([1, 2, 3]))
        } else {
          response.writeHead(200, { "content-type": "application/json" }).end(
            JSON.stringify({ deploymentKey: "1", tenantId: "<default>", deployments: [] })
          )
        }
      })
      yield* Resource.createDeployment({ resources: [new File(["<bpmn/>"], "a.bpmn")] }).pipe(Effect.provide(clientFor(url)))
      expect(seen[0]!.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/)
      expect(seen[0]!.body.toString()).toContain("filename=\"a.bpmn\"")
      expect(seen[0]!.body.toString()).toContain("<bpmn/>")
      const bytes = yield* Document.getDocument({ documentId: Keys.DocumentId.make("d") }).pipe(Effect.provide(clientFor(url)))
      expect([...bytes]).toEqual([1, 2, 3])
    }))

  it.scoped("a connection lost before the answer is a Transport failure; lost in the middle of its body, a ResponseBody failure", () =>
    Effect.gen(function*() {
      const { url } = yield* server((seen, response) => {
        if (seen.url === "/v2/topology") {
          // the head and part of the body, then the connection breaks: the server did answer
          response.writeHead(200, { "content-type": "application/json", "content-length": "100" })
          response.write("{\"brokers\":", () => response.socket?.destroy())
        } else {
          response.socket?.destroy()
        }
      })
      const midBody = yield* Effect.flip(Cluster.getTopology().pipe(Effect.provide(clientFor(url))))
      expect(midBody).toMatchObject({ _tag: "TransportError", reason: "ResponseBody" })
      const beforeAnswer = yield* Effect.flip(
        UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("1") }).pipe(Effect.provide(clientFor(url)))
      )
      expect(beforeAnswer).toMatchObject({ _tag: "TransportError", reason: "Transport" })
    }))

  it.scoped("as a plain HttpClient: headers, cookies, text, JSON, bytes, stream and form data of an answer", () =>
    Effect.gen(function*() {
      const { url } = yield* server((seen, response) => {
        if (seen.url === "/form") {
          response.writeHead(200, { "content-type": "application/x-www-form-urlencoded" }).end("a=1&b=two")
        } else {
          response.writeHead(200, { "content-type": "application/json", "set-cookie": ["x=1", "y=2"], "x-many": "v" })
            .end(JSON.stringify({ ok: true, text: "grüße" }))
        }
      })
      const client = Context.get(yield* Layer.build(UndiciHttpClient.layer()), HttpClient.HttpClient)
      const response = yield* client.get(`${url}/json`)
      expect(response.status).toBe(200)
      expect(response.headers["x-many"]).toBe("v")
      expect(Cookies.toRecord(response.cookies)).toEqual({ x: "1", y: "2" })
      expect(yield* response.json).toEqual({ ok: true, text: "grüße" })
      expect(yield* response.text).toBe(JSON.stringify({ ok: true, text: "grüße" }))
      const bytes = new Uint8Array(yield* response.arrayBuffer)
      expect(new TextDecoder().decode(bytes)).toBe(JSON.stringify({ ok: true, text: "grüße" }))
      const streamed = yield* Stream.runCollect(response.stream)
      expect(new TextDecoder().decode(Buffer.concat([...streamed]))).toBe(JSON.stringify({ ok: true, text: "grüße" }))
      const form = yield* Effect.flatMap(client.get(`${url}/form`), (answer) => answer.formData)
      expect([form.get("a"), form.get("b")]).toEqual(["1", "two"])
    }))

  for (const [clock, test] of [["TestClock", it.scoped], ["the live clock", it.scopedLive]] as const) {
    test(`interrupting a call aborts its request (${clock}): the server sees the connection close`, () =>
      Effect.gen(function*() {
        const received = yield* Deferred.make<void>()
        const { closed, url } = yield* server(() => Effect.runSync(Deferred.succeed(received, undefined)))
        const call = yield* UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("9") }).pipe(
          Effect.provide(clientFor(url)),
          Effect.fork
        )
        yield* Deferred.await(received)
        yield* Fiber.interrupt(call)
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 100)))
        expect(closed).toEqual(["/v2/user-tasks/9/completion"])
      }))
  }

  it.effect("a refused connection is a TransportError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("1") })).pipe(
        Effect.provide(clientFor("http://127.0.0.1:1"))
      )
      expect(error).toMatchObject({ _tag: "TransportError", reason: "Transport" })
    }))
})

/**
 * The request timeout on this client: on the live clock a timer aborts the attempt's request
 * (no fiber per attempt); under TestClock the deadline is an Effect sleep the test drives.
 */
describe("UndiciHttpClient: request timeout", () => {
  const timedClient = (url: string, requestTimeout: Duration.DurationInput) =>
    CamundaClient.layer({ restAddress: url, requestTimeout }).pipe(Layer.provide(UndiciHttpClient.layer()))

  const activeTimers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length

  it.scopedLive("no answer in time: TransportError Timeout at the deadline, and the connection is closed", () =>
    Effect.gen(function*() {
      const { closed, url } = yield* server(() => {})
      const started = Date.now()
      const error = yield* Effect.flip(UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("1") })).pipe(
        Effect.provide(timedClient(url, "300 millis"))
      )
      const elapsed = Date.now() - started
      expect(error).toMatchObject({ _tag: "TransportError", reason: "Timeout", description: "no answer within 300ms" })
      expect(elapsed).toBeGreaterThanOrEqual(290)
      expect(elapsed).toBeLessThan(2_000)
      yield* Effect.sleep("100 millis")
      expect(closed).toEqual(["/v2/user-tasks/1/completion"])
    }))

  it.scopedLive("headers in time but the body stalls: TransportError Timeout, the connection is closed", () =>
    Effect.gen(function*() {
      const { closed, url } = yield* server((_, response) => {
        response.writeHead(200, { "content-type": "application/json" })
        response.write("{\"brokers\": [")
      })
      const error = yield* Effect.flip(Cluster.getTopology()).pipe(Effect.provide(timedClient(url, "300 millis")))
      expect(error).toMatchObject({ _tag: "TransportError", reason: "Timeout" })
      yield* Effect.sleep("100 millis")
      expect(closed).toEqual(["/v2/topology"])
    }))

  it.scopedLive("calls that are answered in time leave no timer behind", () =>
    Effect.gen(function*() {
      const { url } = yield* server((_, response) => response.writeHead(204).end())
      const complete = UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("1") })
      yield* Effect.gen(function*() {
        yield* complete
        const before = activeTimers()
        yield* Effect.forEach(Array.from({ length: 50 }), () => complete, { concurrency: 10, discard: true })
        // a timer left per call would be 50 more; other timers of the process may come and go
        expect(activeTimers() - before).toBeLessThan(5)
      }).pipe(Effect.provide(timedClient(url, "60 seconds")))
    }))

  it.scopedLive("calls sent together share a deadline timer: the unanswered ones time out, the answered ones succeed, no timer stays", () =>
    Effect.gen(function*() {
      const { closed, url } = yield* server((request, response) => {
        // answers the even keys at once, never the odd ones
        if (Number(request.url!.split("/")[3]) % 2 === 0) response.writeHead(204).end()
      })
      const before = activeTimers()
      const results = yield* Effect.forEach(
        Array.from({ length: 10 }, (_, key) => key),
        (key) => Effect.either(UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make(String(key)) })),
        { concurrency: "unbounded" }
      ).pipe(Effect.provide(timedClient(url, "300 millis")))
      expect(results.map((result) => result._tag === "Right" ? "ok" : result.left._tag === "TransportError" && result.left.reason))
        .toEqual(Array.from({ length: 10 }, (_, key) => key % 2 === 0 ? "ok" : "Timeout"))
      yield* Effect.sleep("100 millis")
      expect([...closed].sort()).toEqual([1, 3, 5, 7, 9].map((key) => `/v2/user-tasks/${key}/completion`))
      expect(activeTimers() - before).toBeLessThan(3)
    }))

  it.scoped("under TestClock the deadline follows the test's clock", () =>
    Effect.gen(function*() {
      const received = yield* Deferred.make<void>()
      const { closed, url } = yield* server(() => Effect.runSync(Deferred.succeed(received, undefined)))
      const call = yield* Effect.fork(
        Effect.flip(UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("2") })).pipe(
          Effect.provide(timedClient(url, "30 seconds"))
        )
      )
      yield* Deferred.await(received)
      yield* TestClock.adjust("29 seconds")
      expect(call.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 second")
      // at once: no real 30 s timer is involved
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 100)))
      expect(call.unsafePoll()).not.toBeNull()
      expect(yield* Fiber.join(call)).toMatchObject({ _tag: "TransportError", reason: "Timeout" })
      expect(closed).toEqual(["/v2/user-tasks/2/completion"])
    }))

  it.scopedLive("OAuth on this client: a 401 renews the token and repeats the call once; a refused token request is a TransportError with the AuthError", () =>
    Effect.gen(function*() {
      let tokens = 0
      let refuseTokens = false
      const { seen, url } = yield* server((request, response) => {
        if (request.url === "/oauth/token") {
          if (refuseTokens) return response.writeHead(401).end("invalid_client")
          response.writeHead(200, { "content-type": "application/json" })
            .end(JSON.stringify({ access_token: `token-${++tokens}`, expires_in: 300 }))
        } else {
          response.writeHead(request.headers["authorization"] === "Bearer token-1" ? 401 : 204).end()
        }
      })
      const oauthClient = () =>
        CamundaClient.layer({
          restAddress: url,
          auth: Auth.oauth({ oauthUrl: `${url}/oauth/token`, clientId: "c", clientSecret: Redacted.make("s") })
        }).pipe(Layer.provide(UndiciHttpClient.layer()))
      yield* UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("1") }).pipe(Effect.provide(oauthClient()))
      expect(seen.map(({ headers, url }) => [url, headers["authorization"]])).toEqual([
        ["/oauth/token", undefined],
        ["/v2/user-tasks/1/completion", "Bearer token-1"],
        ["/oauth/token", undefined],
        ["/v2/user-tasks/1/completion", "Bearer token-2"]
      ])
      refuseTokens = true
      const error = yield* Effect.flip(UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("2") }).pipe(
        Effect.provide(oauthClient())
      ))
      expect(error).toMatchObject({ _tag: "TransportError", reason: "Transport" })
      expect(((error as CamundaError.TransportError).cause as HttpClientError.RequestError).cause).toBeInstanceOf(Auth.AuthError)
      expect(seen.filter(({ url }) => url.startsWith("/v2"))).toHaveLength(2)
    }))

  it.scopedLive("an interrupted call does not abort the OAuth token request other calls wait for", () =>
    Effect.gen(function*() {
      const tokenRequested = yield* Deferred.make<void>()
      const { closed, seen, url } = yield* server((request, response) => {
        if (request.url === "/oauth/token") {
          Effect.runSync(Deferred.succeed(tokenRequested, undefined))
          setTimeout(() =>
            response.writeHead(200, { "content-type": "application/json" })
              .end(JSON.stringify({ access_token: "token-1", expires_in: 300 })), 200)
        } else {
          response.writeHead(204).end()
        }
      })
      const client = CamundaClient.layer({
        restAddress: url,
        requestTimeout: "5 seconds",
        auth: Auth.oauth({ oauthUrl: `${url}/oauth/token`, clientId: "c", clientSecret: Redacted.make("s") })
      }).pipe(Layer.provide(UndiciHttpClient.layer()))
      yield* Effect.gen(function*() {
        const first = yield* Effect.fork(UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("1") }))
        yield* Deferred.await(tokenRequested)
        const second = yield* Effect.fork(UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("2") }))
        yield* Fiber.interrupt(first)
        yield* Fiber.join(second)
      }).pipe(Effect.provide(client))
      expect(seen.map(({ url }) => url)).toEqual(["/oauth/token", "/v2/user-tasks/2/completion"])
      expect(seen[1]!.headers["authorization"]).toBe("Bearer token-1")
      expect(closed).toEqual([])
    }))
})
