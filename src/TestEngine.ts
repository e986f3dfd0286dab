/**
 * An in-memory Camunda engine that speaks the Orchestration Cluster REST API
 * (`effect-camunda/testkit`): deployments of BPMN, process instances, service and user
 * tasks, gateways, messages, timers, error boundary events, incidents — enough for the
 * core process-automation flow, with no cluster and no Docker. See docs/test-engine.md.
 *
 * Two faces over one engine: {@link layer} provides an `HttpClient` answered in memory,
 * {@link serve} listens on loopback so any client (the official SDK included) can use it.
 * Engine time is Effect's `Clock`, so `TestClock` drives timers, job timeouts and
 * back-offs; `PUT /clock` pins it and `POST /clock/reset` releases it.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as HttpClientTag from "@effect/platform/HttpClient"
import * as faces from "./internal/engine/faces.js"

/**
 * An `HttpClient` answered by a fresh in-memory engine (one per layer build).
 * Provide it under `CamundaClient.layer()`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (): Layer.Layer<HttpClient.HttpClient> =>
  Layer.sync(HttpClientTag.HttpClient, () => faces.httpClient(faces.makeContext()))

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
 * Serves a fresh engine over HTTP on loopback until the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = (
  options: { readonly port?: number | undefined; readonly host?: string | undefined } = {}
): Effect.Effect<Served, never, Scope.Scope> => faces.serve(faces.makeContext(), options)
