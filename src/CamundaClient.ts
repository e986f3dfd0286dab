/**
 * The client: a `Context.Tag` holding the configured HTTP client and settings that
 * every operation uses.
 *
 * It requires only `HttpClient.HttpClient`; the application chooses the
 * implementation (`FetchHttpClient.layer`, `NodeHttpClient.layerUndici`, a test double).
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { CamundaClient, UserTask, Keys } from "effect-camunda"
 *
 * const program = UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("2251799813685249") })
 *
 * program.pipe(
 *   Effect.provide(CamundaClient.layer({ restAddress: "http://localhost:8080" })),
 *   Effect.provide(FetchHttpClient.layer),
 *   Effect.runPromise
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { dual, flow } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { attemptRunner, withAttemptRunner } from "./internal/attemptRunner.js"
import { currentRetryPolicy } from "./internal/retryPolicy.js"
import type * as Retry from "./Retry.js"
import type * as ConfigError from "effect/ConfigError"
import * as Auth from "./Auth.js"
import * as Backpressure from "./Backpressure.js"
import type { CamundaError } from "./CamundaError.js"
import * as CamundaConfig from "./CamundaConfig.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The settings in force, defaults applied. */
  readonly config: CamundaConfig.Resolved
  /** The application's HTTP client with the base URL and credentials applied. */
  readonly httpClient: HttpClient.HttpClient
  /**
   * With OAuth: runs an attempt so that a 401 drops the token its request carried, fetches a
   * new one and repeats the attempt once (the executor wraps every attempt in it).
   */
  readonly renewingToken?: (<A>(attempt: Effect.Effect<A, CamundaError>) => Effect.Effect<A, CamundaError>) | undefined
  /** The adaptive concurrency gate every call of this client shares. */
  readonly gate: Backpressure.Gate
}

/**
 * The client service every operation requires.
 *
 * @since 0.1.0
 * @category tags
 */
export class CamundaClient extends Context.Tag("effect-camunda/CamundaClient")<CamundaClient, Service>() {}

/**
 * Builds the service from options and the `HttpClient` in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: CamundaConfig.Options = {}): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.flatMap(HttpClient.HttpClient, (httpClient) => {
    const config = CamundaConfig.resolve(options)
    return Effect.flatMap(Backpressure.make(config.backpressure), (gate) => withAuth(config, httpClient, gate))
  })

/**
 * `original` with every request mapped by `prepare` first. When `original` has an attempt
 * runner (see `internal/attemptRunner.ts`), the result keeps one that prepares the request and
 * hands it to it: attempts still run in one step on that client.
 */
const preparing = (
  original: HttpClient.HttpClient,
  prepare: (request: HttpClientRequest.HttpClientRequest) => HttpClientRequest.HttpClientRequest
): HttpClient.HttpClient => {
  const runner = attemptRunner(original)
  const prepared = HttpClient.mapRequest(original, prepare)
  return runner === undefined
    ? prepared
    : withAttemptRunner(prepared, (request, onResponse, options) => runner(prepare(request), onResponse, options))
}

/** As `preparing`, for a preparation that takes an effect (fetching an OAuth token). */
/** The service, with the base URL and the credentials applied to every request. */
const withAuth = (
  config: CamundaConfig.Resolved,
  httpClient: HttpClient.HttpClient,
  gate: Backpressure.Gate
): Effect.Effect<Service> => {
  const auth = config.auth
  if (auth._tag !== "OAuth") {
    return Effect.succeed({
      config,
      gate,
      httpClient: preparing(httpClient, flow(HttpClientRequest.prependUrl(config.restAddress), Auth.authorize(auth)))
    })
  }
  return Effect.map(auth.connect(httpClient, config.restAddress, config.requestTimeout), (connected): Service => ({
    config,
    gate,
    ...connected
  }))
}

/**
 * A layer from options: `CamundaClient.layer({ restAddress: "http://localhost:8080" })`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: CamundaConfig.Options = {}): Layer.Layer<CamundaClient, never, HttpClient.HttpClient> =>
  Layer.effect(CamundaClient, make(options))

/**
 * A layer from the environment (or the current `ConfigProvider`), under the official
 * SDK's names; see {@link CamundaConfig.config}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: typeof CamundaConfig.config = CamundaConfig.config
): Layer.Layer<CamundaClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(CamundaClient, Effect.flatMap(config, make))

/**
 * Runs `self` with another retry policy for every operation it calls, without rebuilding
 * the client: `CamundaClient.withRetry(program, Retry.none)` turns retries off.
 *
 * @since 0.1.0
 * @category retry
 */
export const withRetry: {
  (policy: Retry.Policy): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, policy: Retry.Policy): Effect.Effect<A, E, R>
} = /*#__PURE__*/ dual(
  2,
  <A, E, R>(self: Effect.Effect<A, E, R>, policy: Retry.Policy): Effect.Effect<A, E, R> =>
    Effect.locally(self, currentRetryPolicy, Option.some(policy))
)
