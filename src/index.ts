/**
 * effect-camunda: the Camunda 8 Orchestration Cluster REST API (v2) as Effects.
 *
 * @since 0.1.0
 */

/**
 * The client service, its layers and `make`.
 *
 * @since 0.1.0
 */
export * as CamundaClient from "./CamundaClient.js"

/**
 * Client settings and the environment names they are read from.
 *
 * @since 0.1.0
 */
export * as CamundaConfig from "./CamundaConfig.js"

/**
 * The typed errors of every operation.
 *
 * @since 0.1.0
 */
export * as CamundaError from "./CamundaError.js"

/**
 * Authentication strategies.
 *
 * @since 0.1.0
 */
export * as Auth from "./Auth.js"

/**
 * Retry policies and backpressure classification, as `Schedule`s.
 *
 * @since 0.1.0
 */
export * as Retry from "./Retry.js"

/**
 * The adaptive concurrency gate every client shares between its calls.
 *
 * @since 0.1.0
 */
export * as Backpressure from "./Backpressure.js"

/**
 * The shape of generated operations.
 *
 * @since 0.1.0
 */
export * as Operation from "./Operation.js"

/**
 * Every search as a lazy, cursor-paginated `Stream`.
 *
 * @since 0.1.0
 */
export * as Search from "./Search.js"

/**
 * Waiting out eventual consistency: repeat a read until its data is there.
 *
 * @since 0.1.0
 */
export * as Eventually from "./Eventually.js"

/**
 * Deploying resources from memory or files, with a summary of what was created.
 *
 * @since 0.1.0
 */
export * as Deployment from "./Deployment.js"

/**
 * Job workers as scoped Effects: capacity, long polling, back-off, graceful shutdown,
 * timeout extension, a span per job and metrics.
 *
 * @since 0.1.0
 */
export * as JobWorker from "./JobWorker.js"

export * from "./generated/index.js"
