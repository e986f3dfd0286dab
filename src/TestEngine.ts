/**
 * An in-memory Camunda engine that speaks the Orchestration Cluster REST API
 * (`effect-camunda/testkit`): BPMN deployments, process instances, service and user
 * tasks, gateways, messages, timers, error boundary events and incidents — the core
 * process-automation flow with no cluster and no Docker. See docs/test-engine.md.
 *
 * Two faces over one engine: {@link layer} provides an `HttpClient` answered in memory,
 * {@link serve} listens on loopback so any client (the official SDK included) can use it.
 * Engine time is Effect's `Clock`, so `TestClock` drives timers, job timeouts and
 * back-offs; `PUT /clock` pins it and `POST /clock/reset` releases it.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type { OperationId } from "./generated/operations.js"
import * as faces from "./internal/engine/faces.js"

/**
 * Faults to inject from the start.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Commands in flight beyond this many are answered 503 `RESOURCE_EXHAUSTED`. */
  readonly capacity?: number | undefined
  /** Latency added to every answer, on the Clock. */
  readonly latency?: Duration.DurationInput | undefined
}

/**
 * A running engine on loopback.
 *
 * @since 0.1.0
 * @category models
 */
export interface Served {
  /** Base URL without `/v2`, e.g. `http://127.0.0.1:8080`. */
  readonly url: string
  readonly port: number
}

/**
 * One engine: its in-memory `HttpClient`, fault controls, and a way to serve it on loopback.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Answers every request in memory. */
  readonly httpClient: HttpClient.HttpClient
  /** The next `count` requests to `operationId` are answered with `status` (a ProblemDetail). */
  readonly failNext: (operationId: OperationId, count: number, status: number) => Effect.Effect<void>
  /** Commands in flight beyond `capacity` get 503 `RESOURCE_EXHAUSTED`; `undefined` lifts the limit. */
  readonly setCapacity: (capacity: number | undefined) => Effect.Effect<void>
  /** Latency added to every answer; `undefined` removes it. */
  readonly setLatency: (latency: Duration.DurationInput | undefined) => Effect.Effect<void>
  /** Serves this same engine over HTTP until the scope closes (port 0 picks a free port). */
  readonly serve: (
    options?: { readonly port?: number | undefined; readonly host?: string | undefined }
  ) => Effect.Effect<Served, never, Scope.Scope>
}

/**
 * The engine of the current layer, for fault injection in tests.
 *
 * @since 0.1.0
 * @category tags
 */
export class TestEngine extends Context.Tag("effect-camunda/TestEngine")<TestEngine, Service>() {}

/**
 * A fresh engine.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service> =>
  Effect.sync(() => {
    const context = faces.makeContext({
      capacity: options.capacity,
      latency: options.latency === undefined ? undefined : Duration.decode(options.latency)
    })
    return {
      httpClient: faces.httpClient(context),
      failNext: (operationId, count, status) =>
        Effect.sync(() => {
          const queue = context.faults.scripted.get(operationId) ?? []
          context.faults.scripted.set(operationId, [...queue, ...Array.from({ length: count }, () => status)])
        }),
      setCapacity: (capacity) =>
        Effect.sync(() => {
          context.faults.capacity = capacity
        }),
      setLatency: (latency) =>
        Effect.sync(() => {
          context.faults.latency = latency === undefined ? undefined : Duration.decode(latency)
        }),
      serve: (serveOptions = {}) => faces.serve(context, serveOptions)
    }
  })

/**
 * A fresh engine as the `HttpClient` (answered in memory) and as {@link TestEngine}.
 * Provide it under `CamundaClient.layer()`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<HttpClient.HttpClient | TestEngine> =>
  Layer.effectContext(
    Effect.map(make(options), (engine) =>
      Context.make(TestEngine, engine).pipe(Context.add(HttpClient.HttpClient, engine.httpClient)))
  )

/**
 * Serves a fresh engine over HTTP on loopback until the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = (
  options: Options & { readonly port?: number | undefined; readonly host?: string | undefined } = {}
): Effect.Effect<Served, never, Scope.Scope> => Effect.flatMap(make(options), (engine) => engine.serve(options))
