import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as IncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Cookies from "@effect/platform/Cookies"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Duration from "effect/Duration"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberRef from "effect/FiberRef"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import { readFile } from "node:fs/promises"
import { Readable } from "node:stream"
import * as Undici from "undici"
import type { Options, TlsOptions } from "../UndiciHttpClient.js"
import { type AttemptRunner, type InFlight, runGeneric, withAttemptRunner } from "./attemptRunner.js"

const emptyText = Effect.succeed("")

/** An answer as the transport received it: status, headers and the whole body. */
interface Received {
  readonly status: number
  readonly headers: Record<string, string | Array<string>>
  readonly body: Buffer
}

/**
 * The response of one request. The transport hands it over complete (the API's answers are
 * documents, not streams), so reading the body costs no further round through the event loop.
 */
class Response extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [IncomingMessage.TypeId]: IncomingMessage.TypeId = IncomingMessage.TypeId

  constructor(readonly request: HttpClientRequest.HttpClientRequest, private readonly received: Received) {
    super()
  }

  get status() {
    return this.received.status
  }
  get headers() {
    return Headers.fromInput(this.received.headers)
  }
  get cookies() {
    const header = this.received.headers["set-cookie"]
    return header === undefined ? Cookies.empty : Cookies.fromSetCookie(Array.isArray(header) ? header : [header])
  }
  get remoteAddress() {
    return Option.none()
  }
  private decodeError(cause: unknown): HttpClientError.ResponseError {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }
  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return this.received.body.length === 0 ? emptyText : Effect.sync(() => this.received.body.toString("utf8"))
  }
  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return Effect.sync(() => {
      const { body } = this.received
      return body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer
    })
  }
  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: (): unknown => (text === "" ? null : JSON.parse(text)),
        catch: (cause) => this.decodeError(cause)
      }))
  }
  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.map(this.text, (text) => UrlParams.fromInput(new URLSearchParams(text)))
  }
  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.tryPromise({
      try: () => new globalThis.Response(new Uint8Array(this.received.body), { headers: this.webHeaders() }).formData(),
      catch: (cause) => this.decodeError(cause)
    })
  }
  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return this.received.body.length === 0 ? Stream.empty : Stream.succeed(new Uint8Array(this.received.body))
  }
  private webHeaders(): globalThis.Headers {
    const headers = new globalThis.Headers()
    for (const [name, value] of Object.entries(this.received.headers)) {
      for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one)
    }
    return headers
  }
  override toJSON(): unknown {
    return IncomingMessage.inspect(this, { _id: "@effect/platform/HttpClientResponse", request: this.request.toJSON(), status: this.status })
  }
}

type Body = Exclude<Undici.Dispatcher.RequestOptions["body"], undefined>

interface Encoded {
  readonly body: Body
  readonly headers: Readonly<Record<string, string>>
  /** Whether `headers` is this request's own copy (one that may be added to), not the request's. */
  readonly ownHeaders: boolean
}

/**
 * The body and its content headers, for every body but multipart (`encodeFormData`). Without
 * a body the request's headers go as they are (undici only reads them).
 */
const encodeBody = (request: HttpClientRequest.HttpClientRequest): Encoded => {
  const body = request.body
  switch (body._tag) {
    case "Empty":
    case "FormData":
      return { body: null, headers: request.headers, ownHeaders: false }
    default: {
      const headers: Record<string, string> = { ...request.headers }
      if (body.contentType !== undefined) headers["content-type"] = body.contentType
      if (body.contentLength !== undefined) headers["content-length"] = String(body.contentLength)
      const payload = body._tag === "Stream"
        ? Readable.from(Stream.toAsyncIterable(body.stream))
        : body._tag === "Uint8Array"
        ? body.body
        : body.body as string | Uint8Array
      return { body: payload, headers, ownHeaders: true }
    }
  }
}

/**
 * A multipart body and its content type, encoded with the runtime's own `Response` (the
 * installed undici may not read the global `FormData`).
 */
const encodeFormData = (request: HttpClientRequest.HttpClientRequest, formData: FormData): Effect.Effect<Encoded> => {
  const encoded = new globalThis.Response(formData)
  const headers: Record<string, string> = { ...request.headers, "content-type": encoded.headers.get("content-type")! }
  return Effect.map(Effect.promise(() => encoded.arrayBuffer()), (bytes) => ({ body: new Uint8Array(bytes), headers, ownHeaders: true }))
}

/** The encoded body of `request`, then `use(encoded)`: one step more only for multipart. */
const withEncodedBody = <A, E>(
  request: HttpClientRequest.HttpClientRequest,
  use: (encoded: Encoded) => Effect.Effect<A, E>
): Effect.Effect<A, E> =>
  request.body._tag === "FormData" ? Effect.flatMap(encodeFormData(request, request.body.formData), use) : use(encodeBody(request))

/** Why a request whose deadline passed is aborted. */
const deadlineExceeded = new Error("deadline passed")

/** Why an interrupted request is aborted. */
const interrupted = new Error("interrupted")

/** How finely deadlines are kept: a request is aborted between its deadline and this much later. */
const deadlineResolutionMillis = 10

/**
 * The requests whose deadlines fall due in the same 10 ms, on one Node timer: per request a
 * `Set` add and delete instead of a timer of its own (`setTimeout` and `clearTimeout` per
 * request measured about a tenth of a call's CPU). The timer goes when the last of them is back.
 */
class DeadlineBucket {
  readonly exchanges = new Set<Exchange>()
  private readonly timer: ReturnType<typeof setTimeout>

  constructor(private readonly due: number) {
    this.timer = setTimeout(this.fire, Math.max(0, due * deadlineResolutionMillis - performance.now()))
  }

  private readonly fire = () => {
    deadlineBuckets.delete(this.due)
    for (const exchange of this.exchanges) exchange.abort(deadlineExceeded)
    this.exchanges.clear()
  }

  /** `exchange`'s request is back (or aborted otherwise). */
  remove(exchange: Exchange): void {
    if (!this.exchanges.delete(exchange) || this.exchanges.size > 0) return
    clearTimeout(this.timer)
    if (deadlineBuckets.get(this.due) === this) deadlineBuckets.delete(this.due)
  }
}

/** The buckets with requests in flight, by the 10 ms slot (of `performance.now()`) they fall due in. */
const deadlineBuckets = new Map<number, DeadlineBucket>()

/** Aborts `exchange` with `deadlineExceeded` once `millis` have passed, unless it is removed from the bucket first. */
const deadlineOf = (exchange: Exchange, millis: number): DeadlineBucket => {
  const due = Math.ceil((performance.now() + millis) / deadlineResolutionMillis)
  let bucket = deadlineBuckets.get(due)
  if (bucket === undefined) {
    bucket = new DeadlineBucket(due)
    deadlineBuckets.set(due, bucket)
  }
  bucket.exchanges.add(exchange)
  return bucket
}

const liveClock = Context.get(DefaultServices.liveServices, Clock.Clock)

/** The longest delay a Node timer takes. */
const maxTimerMillis = 2 ** 31 - 1

/**
 * The headers of `encoded` with the W3C trace context of `span` (added to them when they are
 * this request's own copy). Only `traceparent`: W3C Trace Context is what OpenTelemetry, and
 * so Camunda, reads; `@effect/platform`'s clients also send Zipkin's `b3`, a second header on
 * every request that both sides pay for (about 4 % of the calls per second against a
 * loopback stub).
 */
const withTraceparent = (encoded: Encoded, span: Tracer.AnySpan): Record<string, string> => {
  const headers: Record<string, string> = encoded.ownHeaders ? encoded.headers as Record<string, string> : { ...encoded.headers }
  headers["traceparent"] = `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`
  return headers
}

const noBody = Buffer.alloc(0)

/**
 * Receives one answer through undici's dispatch handler protocol (`onConnect`, `onHeaders`,
 * `onData`, `onComplete`, `onError`): the body is collected as it arrives and the answer is
 * handed over once complete. undici's `request()` would wrap the same exchange in a
 * `Readable` and a promise per body read; this costs neither. A failure before the answer's
 * head is a `RequestError` (the command may not have been processed); after it, a
 * `ResponseError` (it was).
 *
 * Interruption and the deadline abort the request through `abort`, with the function undici
 * hands to `onConnect`: no `AbortSignal`, whose `EventTarget` listener bookkeeping cost about
 * 20 µs per request (it halved the requests per second of a keep-alive connection).
 */
class Exchange implements Undici.Dispatcher.DispatchHandler {
  /** Why the request was aborted (its deadline passed, or it was interrupted), once it was. */
  abortedWith: Error | undefined = undefined
  private abortRequest: ((reason: Error) => void) | undefined = undefined
  private status = 0
  private headers: Record<string, string | Array<string>> | undefined = undefined
  private readonly chunks: Array<Buffer> = []
  private settled = false

  constructor(
    private readonly request: HttpClientRequest.HttpClientRequest,
    private readonly done: (result: Response | HttpClientError.HttpClientError) => void
  ) {}

  /** Aborts the request, now or as soon as undici connects it; nothing once the answer is in. */
  abort(reason: Error): void {
    if (this.settled || this.abortedWith !== undefined) return
    this.abortedWith = reason
    this.abortRequest?.(reason)
  }

  onConnect(abort: (reason: Error) => void): void {
    this.abortRequest = abort
    if (this.abortedWith !== undefined) abort(this.abortedWith)
  }

  onHeaders(status: number, rawHeaders: Array<Buffer>): boolean {
    this.status = status
    this.headers = Undici.util.parseHeaders(rawHeaders) as Record<string, string | Array<string>>
    return true
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk)
    return true
  }

  onComplete(): void {
    const body = this.chunks.length === 0 ? noBody : this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)
    this.settle(new Response(this.request, { status: this.status, headers: this.headers ?? {}, body }))
  }

  onError(cause: Error): void {
    const { request } = this
    const headers = this.headers
    this.settle(
      headers === undefined
        ? new HttpClientError.RequestError({ request, reason: "Transport", cause })
        : new HttpClientError.ResponseError({
          request,
          response: new Response(request, { status: this.status, headers, body: noBody }),
          reason: "Decode",
          cause
        })
    )
  }

  private settle(result: Response | HttpClientError.HttpClientError): void {
    if (this.settled) return
    this.settled = true
    this.done(result)
  }
}

const invalidUrl = (request: HttpClientRequest.HttpClientRequest, cause: unknown) =>
  new HttpClientError.RequestError({ request, reason: "InvalidUrl", cause })

/** Where a request goes, as undici takes it. */
interface Target {
  readonly origin: string
  readonly path: string
}

/** The origin of the last URL parsed in full, when that URL began with it as written. */
let lastOrigin: string | undefined = undefined

/** A path that URL parsing leaves as it is: no character it would encode, and (below) no dot segment. */
const plainPath = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/
const dotSegment = /\/\.|%2e/i

/**
 * The origin and path of `request`. A URL under the origin of the one before (an API client
 * sends every request to one base URL) with a plain path and no query or fragment needs no
 * parsing: the path is the rest of the string. Any other goes through `URL`.
 */
const targetOf = (request: HttpClientRequest.HttpClientRequest): Either.Either<Target, unknown> => {
  const { url } = request
  if (lastOrigin !== undefined && url.startsWith(lastOrigin) && request.urlParams.length === 0 && request.hash._tag === "None") {
    const path = url.slice(lastOrigin.length)
    if (plainPath.test(path) && !dotSegment.test(path)) return Either.right({ origin: lastOrigin, path })
  }
  return Either.map(UrlParams.makeUrl(url, request.urlParams, request.hash), ({ origin, pathname, search }) => {
    if (url.startsWith(`${origin}/`)) lastOrigin = origin
    return { origin, path: pathname + search }
  })
}

/**
 * One exchange, one asynchronous step (one more only to encode a multipart body): the request
 * goes out with the W3C trace context of `span`, under the deadline's timer when `millis` is
 * set. The answer comes back whole and the fiber resumes with
 * `onResponse(answer)`; a failure after the deadline fired is `onTimeout()`, any other
 * `onError(…)` (an invalid URL too). Interruption aborts the request: through `inFlight`, whose
 * `abort` the caller's finalizer calls (an attempt of an operation), else through a canceler
 * of its own.
 */
const exchange = <A, E, E2, E3>(
  dispatcher: Undici.Dispatcher,
  request: HttpClientRequest.HttpClientRequest,
  span: Tracer.AnySpan | undefined,
  millis: number | undefined,
  onResponse: (response: Response) => Effect.Effect<A, E3>,
  onError: (error: HttpClientError.HttpClientError) => E,
  onTimeout: () => E2,
  inFlight: InFlight | undefined
): Effect.Effect<A, E | E2 | E3> => {
  const target = targetOf(request)
  if (Either.isLeft(target)) return Effect.fail(onError(invalidUrl(request, target.left)))
  const { origin, path } = target.right
  return withEncodedBody(request, (encoded) =>
    Effect.async<A, E | E2 | E3>((resume) => {
      const handler: Exchange = new Exchange(request, (result) => {
        deadline?.remove(handler)
        if (inFlight !== undefined) inFlight.abort = undefined
        resume(
          result instanceof Response
            ? onResponse(result)
            : Effect.fail(handler.abortedWith === deadlineExceeded ? onTimeout() : onError(result))
        )
      })
      const deadline = millis === undefined ? undefined : deadlineOf(handler, millis)
      const abort = () => {
        deadline?.remove(handler)
        handler.abort(interrupted)
      }
      if (inFlight !== undefined) inFlight.abort = abort
      dispatcher.dispatch({
        method: request.method as Undici.Dispatcher.HttpMethod,
        origin,
        path,
        headers: span === undefined ? encoded.headers : withTraceparent(encoded, span),
        body: encoded.body,
        // timeouts are the caller's: the attempt's deadline, or Effect.timeout
        headersTimeout: 0,
        bodyTimeout: 0
      }, handler)
      // Effect.async wraps a canceler in a finalizer of its own: an operation's call has one already
      return inFlight === undefined ? Effect.sync(abort) : undefined
    }))
}

const identity = <A>(a: A): A => a

const never = (): never => {
  throw new Error("no deadline was set")
}

/**
 * The plain `HttpClient`: no deadline, the trace context of the fiber's current span (none with
 * tracing off, when that span is Effect's no-op one).
 */
const send = (dispatcher: Undici.Dispatcher, request: HttpClientRequest.HttpClientRequest) =>
  Effect.withFiberRuntime<Response, HttpClientError.HttpClientError>((fiber) => {
    const span = fiber.getFiberRef(FiberRef.currentTracerEnabled) ? fiber.currentSpan : undefined
    return exchange(dispatcher, request, span, undefined, Effect.succeed, identity, never, undefined)
  })

/**
 * An attempt of an operation on this client (see `internal/attemptRunner.ts`): the exchange is
 * one asynchronous step with the deadline's timer and the trace context, then `onResponse`.
 * The timer needs the live clock, whose `sleep` is this same timer: under `TestClock` (or any
 * other clock), or past a Node timer's range, the attempt runs the generic way
 * (`Effect.timeoutFail`), so tests drive it.
 */
const attemptRunnerOf = (dispatcher: Undici.Dispatcher, client: HttpClient.HttpClient): AttemptRunner =>
  (request, onResponse, options) => {
    const { clock, inFlight, onError, onTimeout, timeout, traceContext } = options
    const timed = Duration.isFinite(timeout)
    const millis = timed ? Duration.toMillis(timeout) : undefined
    if (timed && (millis! > maxTimerMillis || clock !== liveClock)) return runGeneric(client, request, onResponse, options)
    return exchange(dispatcher, request, traceContext, millis, onResponse, onError, onTimeout, inFlight)
  }

/** @internal */
export const make = (dispatcher: Undici.Dispatcher): HttpClient.HttpClient => {
  const client = HttpClient.makeWith(
    (request: Effect.Effect<HttpClientRequest.HttpClientRequest>) => Effect.flatMap(request, (request) => send(dispatcher, request)),
    Effect.succeed
  )
  return withAttemptRunner(client, attemptRunnerOf(dispatcher, client))
}

/** The `connect` options of the `Agent`: only the TLS settings given, secrets unwrapped here. */
const connectOptions = (tls: TlsOptions | undefined): Undici.Agent.Options["connect"] => {
  if (tls === undefined) return undefined
  const connect: Record<string, string | Buffer> = {}
  if (tls.ca !== undefined) connect.ca = tls.ca
  if (tls.cert !== undefined) connect.cert = tls.cert
  if (tls.key !== undefined) connect.key = Redacted.isRedacted(tls.key) ? Redacted.value(tls.key) : tls.key
  if (tls.passphrase !== undefined) connect.passphrase = Redacted.value(tls.passphrase)
  return Object.keys(connect).length === 0 ? undefined : connect
}

/** @internal */
export const layer = (options: Options = {}): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(
    HttpClient.HttpClient,
    Effect.map(
      Effect.acquireRelease(
        Effect.sync(() => {
          const connect = connectOptions(options.tls)
          return new Undici.Agent({
            connections: options.connections ?? null,
            keepAliveTimeout: 30_000,
            ...(connect === undefined ? {} : { connect })
          })
        }),
        (agent) => Effect.promise(() => agent.close())
      ),
      make
    )
  )

/** The contents of the file named by `name`; an unreadable file is invalid configuration. */
const readPem = (name: string, path: string): Effect.Effect<Buffer, ConfigError.ConfigError> =>
  Effect.tryPromise({
    try: () => readFile(path),
    catch: (cause) =>
      ConfigError.InvalidData([name], `cannot read ${path}: ${cause instanceof Error ? cause.message : String(cause)}`)
  })

/** PEM text from `name`, else the file named by `${name}_PATH`, else nothing. */
const pem = <A>(
  name: string,
  text: Config.Config<A>,
  fromFile: (bytes: Buffer) => A
): Effect.Effect<A | undefined, ConfigError.ConfigError> =>
  Effect.flatMap(
    Config.all([Config.option(text), Config.option(Config.string(`${name}_PATH`))]),
    ([text, path]): Effect.Effect<A | undefined, ConfigError.ConfigError> =>
      Option.isSome(text)
        ? Effect.succeed(text.value)
        : Option.isSome(path)
        ? Effect.map(readPem(`${name}_PATH`, path.value), fromFile)
        : Effect.succeed(undefined)
  )

/** @internal */
export const tlsConfig: Effect.Effect<TlsOptions | undefined, ConfigError.ConfigError> = Effect.suspend(() =>
  Effect.map(
    Effect.all({
      ca: pem<string | Buffer>("CAMUNDA_MTLS_CA", Config.string("CAMUNDA_MTLS_CA"), (bytes) => bytes),
      cert: pem<string | Buffer>("CAMUNDA_MTLS_CERT", Config.string("CAMUNDA_MTLS_CERT"), (bytes) => bytes),
      key: pem<Redacted.Redacted<string | Buffer>>(
        "CAMUNDA_MTLS_KEY",
        Config.redacted("CAMUNDA_MTLS_KEY"),
        (bytes) => Redacted.make(bytes)
      ),
      passphrase: Config.option(Config.redacted("CAMUNDA_MTLS_KEY_PASSPHRASE")).pipe(Effect.map(Option.getOrUndefined))
    }),
    (settings): TlsOptions | undefined => {
      const tls: { -readonly [K in keyof TlsOptions]: TlsOptions[K] } = {}
      for (const [name, value] of Object.entries(settings)) {
        if (value !== undefined) (tls as Record<string, unknown>)[name] = value
      }
      return Object.keys(tls).length === 0 ? undefined : tls
    }
  )
)

/** @internal */
export const layerConfig = (options: Options = {}): Layer.Layer<HttpClient.HttpClient, ConfigError.ConfigError> =>
  Layer.unwrapEffect(
    Effect.map(tlsConfig, (tls) => layer(tls === undefined ? options : { ...options, tls: { ...options.tls, ...tls } }))
  )
