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
 * The shape of generated operations.
 *
 * @since 0.1.0
 */
export * as Operation from "./Operation.js"

export * from "./generated/index.js"
