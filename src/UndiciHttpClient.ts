/**
 * A lean `HttpClient` for Node on an undici `Agent` (`effect-camunda/UndiciHttpClient`).
 *
 * `@effect/platform`'s clients open an `http.client` span per request, with every header
 * as an attribute, and register each response for cleanup; on a busy worker that costs more
 * than the network. This client sends the request and reads the answer, nothing else:
 * interruption aborts the request, and the W3C trace context of the current span (the
 * operation's `camunda.<operationId>` span) is propagated. Use it where throughput matters;
 * `FetchHttpClient.layer` or `NodeHttpClient.layerUndici` where you want the platform's spans.
 * Requires the `undici` package.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Layer from "effect/Layer"
import type * as Undici from "undici"
import * as internal from "./internal/undiciHttpClient.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The most connections per origin; unlimited when unset. */
  readonly connections?: number | undefined
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
