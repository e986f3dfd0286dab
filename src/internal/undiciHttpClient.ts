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
import type * as Fiber from "effect/Fiber"
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
import { type DeadlineRunner, withDeadlineRunner } from "./attemptDeadline.js"

type UndiciResponse = Undici.Dispatcher.ResponseData

const emptyText = Effect.succeed("")

/** The response of one request; the body is read once, on demand. */
class Response extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [IncomingMessage.TypeId]: IncomingMessage.TypeId = IncomingMessage.TypeId
  /** A body is read once; later reads share the first read's promise. */
  private textBody: Promise<string> | undefined
  private bytesBody: Promise<ArrayBuffer> | undefined

  constructor(readonly request: HttpClientRequest.HttpClientRequest, private readonly source: UndiciResponse) {
    super()
    source.body.on("error", () => {})
  }

  get status() {
    return this.source.statusCode
  }
  get headers() {
    return Headers.fromInput(this.source.headers as Record<string, string | ReadonlyArray<string>>)
  }
  get cookies() {
    const header = this.source.headers["set-cookie"]
    return header === undefined ? Cookies.empty : Cookies.fromSetCookie(Array.isArray(header) ? header : [header])
  }
  get remoteAddress() {
    return Option.none()
  }
  private decodeError(cause: unknown): HttpClientError.ResponseError {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }
  private read<A>(read: () => Promise<A>): Effect.Effect<A, HttpClientError.ResponseError> {
    return Effect.tryPromise({ try: read, catch: (cause) => this.decodeError(cause) }).pipe(Effect.onInterrupt(() => Effect.sync(() => this.source.body.destroy())))
  }
  /**
   * Whether the answer has no body by definition (204, 304) or by its `content-length: 0`:
   * then reading it needs no round through the event loop (a 204 is the answer to most
   * commands). The stream is still drained, so undici sees it consumed.
   */
  private drainIfEmpty(): boolean {
    const status = this.source.statusCode
    if (status === 204 || status === 304 || this.source.headers["content-length"] === "0") {
      this.source.body.resume()
      return true
    }
    return false
  }
  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return this.drainIfEmpty() ? emptyText : this.read(() => this.textBody ??= this.source.body.text())
  }
  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return this.drainIfEmpty() ? Effect.sync(() => new ArrayBuffer(0)) : this.read(() => this.bytesBody ??= this.source.body.arrayBuffer())
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
    return this.read(() => this.source.body.formData() as Promise<FormData>)
  }
  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.fromAsyncIterable(this.source.body as AsyncIterable<Uint8Array>, (cause) => this.decodeError(cause))
  }
  override toJSON(): unknown {
    return IncomingMessage.inspect(this, { _id: "@effect/platform/HttpClientResponse", request: this.request.toJSON(), status: this.status })
  }
}

type Body = Exclude<Undici.Dispatcher.RequestOptions["body"], undefined>

interface Encoded {
  readonly body: Body
  readonly headers: Record<string, string>
}

/**
 * The body and its content headers. Multipart bodies are encoded with the runtime's own
 * `Response` (the installed undici may not read the global `FormData`).
 */
const encodeBody = (request: HttpClientRequest.HttpClientRequest): Effect.Effect<Encoded> => {
  const body = request.body
  const headers: Record<string, string> = { ...request.headers }
  switch (body._tag) {
    case "Empty":
      return Effect.succeed({ body: null, headers })
    case "FormData": {
      const encoded = new globalThis.Response(body.formData)
      headers["content-type"] = encoded.headers.get("content-type")!
      return Effect.promise(() => encoded.arrayBuffer()).pipe(Effect.map((bytes) => ({ body: new Uint8Array(bytes), headers })))
    }
    default: {
      if (body.contentType !== undefined) headers["content-type"] = body.contentType
      if (body.contentLength !== undefined) headers["content-length"] = String(body.contentLength)
      const payload = body._tag === "Stream"
        ? Readable.from(Stream.toAsyncIterable(body.stream))
        : body._tag === "Uint8Array"
        ? body.body
        : body.body as string | Uint8Array
      return Effect.succeed({ body: payload, headers })
    }
  }
}

type Listener = () => void

/**
 * A one-shot abort signal in the `EventEmitter` shape undici accepts for `signal`: the
 * attempt's (its deadline fires it) or the request's own (interruption fires it).
 *
 * undici registers a listener on an `AbortSignal` through `EventTarget`, which on this machine
 * halves the requests per second of a keep-alive connection (about 20 µs per request); an
 * emitter-shaped signal costs next to nothing.
 */
class EmitterSignal {
  aborted = false
  reason: unknown = undefined
  private listeners: Array<Listener> | undefined = undefined

  on(_event: "abort", listener: Listener): this {
    ;(this.listeners ??= []).push(listener)
    return this
  }

  once(event: "abort", listener: Listener): this {
    return this.on(event, listener)
  }

  removeListener(_event: "abort", listener: Listener): this {
    const listeners = this.listeners
    if (listeners !== undefined) {
      const index = listeners.indexOf(listener)
      if (index >= 0) listeners.splice(index, 1)
    }
    return this
  }

  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    const listeners = this.listeners
    this.listeners = undefined
    if (listeners !== undefined) for (const listener of listeners) listener()
  }
}

/**
 * The signals of the attempts running now, by the fiber running each. A fiber forked inside
 * an attempt (the OAuth token fetch, shared by many calls) has none: only the attempt's own
 * request ends with the attempt. (A `FiberRef` would do the same, at the cost of copying the
 * fiber's refs twice per attempt.)
 */
const attemptSignals = new WeakMap<Fiber.RuntimeFiber<any, any>, EmitterSignal>()

/** What the signal of an attempt that ran out of time fires with. */
const deadlineExceeded = new Error("deadline passed")

const abortAtDeadline = (signal: EmitterSignal) => signal.abort(deadlineExceeded)

const liveClock = Context.get(DefaultServices.liveServices, Clock.Clock)

/** The longest delay a Node timer takes. */
const maxTimerMillis = 2 ** 31 - 1

/**
 * The deadline of an attempt on this client, without a fiber of its own: a timer fires the
 * attempt's signal, which `dispatch` gave to undici, and the attempt fails with undici's abort
 * error, reported as `onTimeout()`. Only on the live clock, whose `sleep` is this same timer:
 * under `TestClock` (or any other clock), or past a Node timer's range, the deadline is
 * `Effect.timeoutFail`, so tests drive it.
 */
const runWithDeadline: DeadlineRunner = <A, E, E2>(
  attempt: Effect.Effect<A, E>,
  timeout: Duration.Duration,
  isAbort: (error: E) => boolean,
  onTimeout: () => E2
) => {
  const millis = Duration.toMillis(timeout)
  return Effect.withFiberRuntime<A, E | E2>((fiber) => {
    if (millis > maxTimerMillis || Context.get(fiber.getFiberRef(DefaultServices.currentServices), Clock.Clock) !== liveClock) {
      return Effect.timeoutFail(attempt, { duration: timeout, onTimeout })
    }
    const signal = new EmitterSignal()
    const timer = setTimeout(abortAtDeadline, millis, signal)
    attemptSignals.set(fiber, signal)
    const settle = () => {
      clearTimeout(timer)
      attemptSignals.delete(fiber)
    }
    return Effect.uninterruptibleMask((restore) =>
      Effect.matchCauseEffect(restore(attempt), {
        onSuccess: (value) => {
          settle()
          return Effect.succeed(value)
        },
        onFailure: (cause): Effect.Effect<never, E | E2> => {
          settle()
          const timedOut = signal.reason === deadlineExceeded && cause._tag === "Fail" && isAbort(cause.error)
          return timedOut ? Effect.fail(onTimeout()) : Effect.failCause(cause)
        }
      })
    )
  })
}

/**
 * The W3C trace context of `span` added to `headers` (mutated: they are this request's own
 * copy). Only `traceparent`: W3C Trace Context is what OpenTelemetry, and so Camunda, reads;
 * `@effect/platform`'s clients also send Zipkin's `b3`, a second header on every request that
 * both sides pay for (about 4 % of the calls per second against a loopback stub).
 */
const withTraceparent = (headers: Record<string, string>, span: Tracer.Span): Record<string, string> => {
  headers["traceparent"] = `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`
  return headers
}

/**
 * Sends the request. Its signal is the attempt's when the executor set one (the attempt's
 * deadline fires it), else one of its own; interruption fires either. The W3C
 * trace context of the current span (the operation's span) goes into the headers.
 */
const dispatch = (dispatcher: Undici.Dispatcher, request: HttpClientRequest.HttpClientRequest, url: URL, encoded: Encoded) =>
  Effect.withFiberRuntime<UndiciResponse, HttpClientError.RequestError>((fiber) => {
    const span = fiber.currentSpan
    const headers = span?._tag === "Span" ? withTraceparent(encoded.headers, span) : encoded.headers
    const signal = attemptSignals.get(fiber) ?? new EmitterSignal()
    return Effect.async<UndiciResponse, HttpClientError.RequestError>((resume) => {
      dispatcher.request({
        signal,
        method: request.method,
        origin: url.origin,
        path: url.pathname + url.search,
        headers,
        body: encoded.body,
        // timeouts are the caller's: the attempt's deadline, or Effect.timeout
        headersTimeout: 0,
        bodyTimeout: 0
      }).then(
        (source) => resume(Effect.succeed(source)),
        (cause) => resume(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause })))
      )
      return Effect.sync(() => signal.abort(new Error("interrupted")))
    })
  })

const send = (dispatcher: Undici.Dispatcher, request: HttpClientRequest.HttpClientRequest) =>
  Effect.flatMap(
    Effect.mapError(
      UrlParams.makeUrl(request.url, request.urlParams, request.hash),
      (cause) => new HttpClientError.RequestError({ request, reason: "InvalidUrl", cause })
    ),
    (url) =>
      Effect.flatMap(
        Effect.flatMap(encodeBody(request), (encoded) => dispatch(dispatcher, request, url, encoded)),
        (source) => Effect.succeed<HttpClientResponse.HttpClientResponse>(new Response(request, source))
      )
  )

/** @internal */
export const make = (dispatcher: Undici.Dispatcher): HttpClient.HttpClient =>
  withDeadlineRunner(HttpClient.makeWith(
    (request: Effect.Effect<HttpClientRequest.HttpClientRequest>) => Effect.flatMap(request, (request) => send(dispatcher, request)),
    Effect.succeed
  ), runWithDeadline)

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
