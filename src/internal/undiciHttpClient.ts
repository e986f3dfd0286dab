import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as IncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as TraceContext from "@effect/platform/HttpTraceContext"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Cookies from "@effect/platform/Cookies"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { readFile } from "node:fs/promises"
import { Readable } from "node:stream"
import * as Undici from "undici"
import type { Options, TlsOptions } from "../UndiciHttpClient.js"
import { AttemptSignal, attemptSignal, markFollowsAttemptSignal } from "./attemptDeadline.js"

type UndiciResponse = Undici.Dispatcher.ResponseData

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
  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return this.read(() => this.textBody ??= this.source.body.text())
  }
  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return this.read(() => this.bytesBody ??= this.source.body.arrayBuffer())
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

/**
 * Sends the request. Its signal is the attempt's when the executor set one (the attempt's
 * deadline fires it), else one of its own; interruption fires either. The W3C
 * trace context of the current span (the operation's span) goes into the headers.
 */
const dispatch = (dispatcher: Undici.Dispatcher, request: HttpClientRequest.HttpClientRequest, url: URL, encoded: Encoded) =>
  Effect.withFiberRuntime<UndiciResponse, HttpClientError.RequestError>((fiber) => {
    const span = fiber.currentSpan
    const headers = span?._tag === "Span" ? { ...encoded.headers, ...TraceContext.toHeaders(span) } : encoded.headers
    const signal = attemptSignal(fiber) ?? new AttemptSignal()
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
  markFollowsAttemptSignal(HttpClient.makeWith(
    (request: Effect.Effect<HttpClientRequest.HttpClientRequest>) => Effect.flatMap(request, (request) => send(dispatcher, request)),
    Effect.succeed
  ))

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
