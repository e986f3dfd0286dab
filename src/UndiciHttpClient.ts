/**
 * A lean `HttpClient` for Node on an undici `Agent` (`effect-camunda/UndiciHttpClient`).
 *
 * `@effect/platform`'s clients open an `http.client` span per request, with every header
 * as an attribute, and register each response for cleanup; on a busy worker that costs more
 * than the network. This client sends the request and reads the answer, nothing else:
 * interruption aborts the request, and the W3C trace context of the current span (the
 * operation's `camunda.<operationId>` span) is propagated as `traceparent`. An answer is
 * handed over once its body has arrived in full (the API answers with documents, not
 * streams): reading it costs nothing more, and `stream` replays the bytes. Use it where throughput matters;
 * `FetchHttpClient.layer` or `NodeHttpClient.layerUndici` where you want the platform's spans.
 * Requires the `undici` package.
 *
 * ## TLS
 *
 * `layer({ tls })` gives the `Agent` a custom CA and a client certificate (mutual TLS), for
 * every call made through the client: the REST API calls and, since they go through the same
 * `HttpClient`, the OAuth token calls. `layerConfig()` reads them from the environment:
 *
 * | Variable | Meaning |
 * | --- | --- |
 * | `CAMUNDA_MTLS_CA` / `CAMUNDA_MTLS_CA_PATH` | PEM CA certificate(s) trusted for the server, as text or a file path |
 * | `CAMUNDA_MTLS_CERT` / `CAMUNDA_MTLS_CERT_PATH` | PEM client certificate (chain), as text or a file path |
 * | `CAMUNDA_MTLS_KEY` / `CAMUNDA_MTLS_KEY_PATH` | PEM private key of the client certificate, as text or a file path (read as `Redacted`) |
 * | `CAMUNDA_MTLS_KEY_PASSPHRASE` | passphrase of an encrypted key (read as `Redacted`) |
 *
 * When both the text and the `_PATH` variant are set, the text wins. Unset variables mean no
 * setting: plain HTTPS trusting the system CAs (or HTTP), no client certificate. A custom CA
 * replaces the system CAs for this client.
 *
 * @example
 * ```ts
 * import { Effect, Layer, Redacted } from "effect"
 * import { CamundaClient, UserTask, Keys } from "effect-camunda"
 * import * as UndiciHttpClient from "effect-camunda/UndiciHttpClient"
 * import { readFileSync } from "node:fs"
 *
 * const http = UndiciHttpClient.layer({
 *   tls: {
 *     ca: readFileSync("ca.pem"),
 *     cert: readFileSync("client.pem"),
 *     key: Redacted.make(readFileSync("client.key"))
 *   }
 * })
 * // or, from CAMUNDA_MTLS_* variables: UndiciHttpClient.layerConfig()
 *
 * UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("2251799813685249") }).pipe(
 *   Effect.provide(CamundaClient.layer({ restAddress: "https://camunda.example.com" }).pipe(Layer.provide(http))),
 *   Effect.runPromise
 * )
 * ```
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as ConfigError from "effect/ConfigError"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Undici from "undici"
import * as internal from "./internal/undiciHttpClient.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The most connections per origin; unlimited when unset. */
  readonly connections?: number | undefined
  /** TLS settings of every connection; see {@link TlsOptions}. */
  readonly tls?: TlsOptions | undefined
}

/**
 * TLS settings of the `Agent`'s connections, passed to Node's `tls.connect`. Secrets stay
 * `Redacted` until the `Agent` is built.
 *
 * @since 0.1.0
 * @category models
 */
export interface TlsOptions {
  /** PEM CA certificate(s) to trust for the server; replaces the system CAs when set. */
  readonly ca?: string | Buffer | undefined
  /** PEM client certificate (chain) presented to the server. */
  readonly cert?: string | Buffer | undefined
  /** PEM private key of `cert`; best passed `Redacted`. */
  readonly key?: Redacted.Redacted<string | Buffer> | string | Buffer | undefined
  /** Passphrase of an encrypted `key`. */
  readonly passphrase?: Redacted.Redacted<string> | undefined
}

/**
 * A client over an existing undici dispatcher (an `Agent`, a `Pool`, a `ProxyAgent`, …).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (dispatcher: Undici.Dispatcher) => HttpClient.HttpClient = internal.make

/**
 * A client over its own undici `Agent`, closed with the layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options?: Options) => Layer.Layer<HttpClient.HttpClient> = internal.layer

/**
 * Reads {@link TlsOptions} from the environment (or any `ConfigProvider`):
 * `CAMUNDA_MTLS_CA[_PATH]`, `CAMUNDA_MTLS_CERT[_PATH]`, `CAMUNDA_MTLS_KEY[_PATH]` and
 * `CAMUNDA_MTLS_KEY_PASSPHRASE` (see the module documentation). `_PATH` files are read when
 * the layer is built; an unreadable file fails with a `ConfigError`. Unset variables mean no
 * setting; `undefined` when none is set.
 *
 * @since 0.1.0
 * @category config
 */
export const tlsConfig: Effect.Effect<TlsOptions | undefined, ConfigError.ConfigError> = internal.tlsConfig

/**
 * {@link layer} with TLS settings read by {@link tlsConfig}; `options.tls`, when given,
 * is the base that the environment's settings override.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: (options?: Options) => Layer.Layer<HttpClient.HttpClient, ConfigError.ConfigError> =
  internal.layerConfig
