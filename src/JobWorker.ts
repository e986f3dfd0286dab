/**
 * A job worker as a scoped Effect (`effect-camunda/JobWorker`).
 *
 * `JobWorker.make({ type, handler })` activates jobs of `type` while its scope is open and
 * runs `handler` for each, at most `maxJobsActive` at a time. What the handler does decides
 * what the cluster hears:
 *
 * | handler | the worker sends |
 * | --- | --- |
 * | succeeds with an object (or nothing) | `completeJob` with it as variables |
 * | fails with {@link fail} (`JobFailure`) | `failJob` with its message, retries (default: one less), back-off and variables |
 * | fails with {@link bpmnError} (`BpmnError`) | `throwJobError` with its code, message and variables: a BPMN error a boundary event may catch |
 * | fails with any other error `E` | `failJob`, one retry less, the error's message |
 * | dies (a defect) or interrupts itself | `failJob`, one retry less, the defect's message |
 * | job variables that do not decode with the `variables` schema | `failJob`, one retry less, the schema's message; the handler is not called |
 *
 * Activation waits for a quarter of the capacity to be free, asks for exactly the free slots
 * and long-polls; failed activations back off on
 * `Retry.activationBackoff` (at most one request per 5 s in an outage, no restart
 * needed afterwards). Closing the scope stops activation, aborts the pending long poll, gives
 * running handlers `gracePeriod` to finish, then interrupts the rest and returns their jobs
 * with `failJob` and unchanged retries: no job is left waiting for its timeout. With
 * `extendTimeout`, a long handler keeps its job: the worker calls `updateJob` before the
 * job's lock expires. Each job runs in a span `camunda.job`; the worker counts into
 * {@link metrics}.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer, Schema } from "effect"
 * import { CamundaClient } from "effect-camunda"
 * import * as JobWorker from "effect-camunda/JobWorker"
 *
 * const charging = JobWorker.layer({
 *   type: "charge-card",
 *   variables: Schema.Struct({ orderId: Schema.String, card: Schema.String }),
 *   maxJobsActive: 16,
 *   timeout: "1 minute",
 *   extendTimeout: true,
 *   handler: (job) =>
 *     job.variables.card === "0000"
 *       ? JobWorker.bpmnError({ code: "CARD_DECLINED", message: "insufficient funds" })
 *       : Effect.succeed({ chargedAt: new Date().toISOString() })
 * })
 *
 * // runs until the program is interrupted (Ctrl+C with NodeRuntime.runMain)
 * Layer.launch(charging).pipe(
 *   Effect.provide(CamundaClient.layerConfig().pipe(Layer.provide(FetchHttpClient.layer)))
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { CamundaClient } from "./CamundaClient.js"
import type * as Models from "./generated/schemas/Models.js"
import * as internal from "./internal/jobWorker.js"

/**
 * An activated job as the handler sees it: the API's `ActivatedJobResult` with `variables`
 * (and `customHeaders`) decoded by the worker's schemas, when it has them.
 *
 * @since 0.1.0
 * @category models
 */
export interface Job<Variables = Record<string, unknown>, Headers = Record<string, unknown>>
  extends Omit<Models.ActivatedJobResult, "variables" | "customHeaders">
{
  readonly variables: Variables
  readonly customHeaders: Headers
}

/**
 * How a worker runs.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<
  Variables = Record<string, unknown>,
  Headers = Record<string, unknown>,
  Result extends Effect.Effect<object | void, unknown, unknown> = Effect.Effect<object | void, unknown, unknown>
> {
  /** The job type, as in `<zeebe:taskDefinition type="…" />`. */
  readonly type: string
  /**
   * Handles one job. Succeed with an object of variables (or nothing) to complete it; fail
   * with {@link fail} or {@link bpmnError} to fail it or throw a BPMN error; see the module
   * documentation for every other outcome. Any error type is accepted; the services the
   * handler requires are required by the worker.
   */
  readonly handler: (job: Job<Variables, Headers>) => Result
  /**
   * Decodes the job's variables before the handler sees them. A job whose variables do not
   * decode is failed (one retry less) with the schema's message; the handler is not called.
   * Properties the schema does not name are ignored.
   */
  readonly variables?: Schema.Schema<Variables, any> | undefined
  /** Decodes the job's custom headers, as `variables` does the variables. */
  readonly customHeaders?: Schema.Schema<Headers, any> | undefined
  /** Jobs handled at the same time (activated and not yet acknowledged); default 32. */
  readonly maxJobsActive?: number | undefined
  /** How long an activated job stays locked to this worker; default 5 minutes. */
  readonly timeout?: Duration.DurationInput | undefined
  /** How long one activation request waits for jobs on the server (long poll); default 10 seconds. */
  readonly pollTimeout?: Duration.DurationInput | undefined
  /** Only these variables are fetched; all visible variables when unset. */
  readonly fetchVariables?: ReadonlyArray<string> | undefined
  /**
   * Activate jobs of these tenants. Unset: the request names none, so the cluster uses the
   * client's default tenant (`CAMUNDA_DEFAULT_TENANT_ID`) or its own default.
   */
  readonly tenantIds?: ReadonlyArray<string> | undefined
  /** The worker name the cluster records on activated jobs; default `effect-camunda-worker`. */
  readonly name?: string | undefined
  /**
   * Keep the job while the handler runs: `updateJob` sets its timeout afresh `before` the lock
   * would expire (`true`: half the timeout, at most 10 seconds, before). Off by default.
   */
  readonly extendTimeout?: boolean | { readonly before?: Duration.DurationInput | undefined } | undefined
  /**
   * When the scope closes, running handlers get this long to finish before they are
   * interrupted and their jobs returned (`failJob`, retries unchanged); default 10 seconds.
   */
  readonly gracePeriod?: Duration.DurationInput | undefined
  /**
   * The retry back-off of jobs failed for a reason other than {@link fail} (another error, a
   * defect, variables that do not decode); default none (retried at once).
   */
  readonly retryBackOff?: Duration.DurationInput | undefined
}

/**
 * What a worker counted since it started.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  /** Jobs activated. */
  readonly activated: number
  /** Jobs completed (`completeJob` answered). */
  readonly completed: number
  /** Jobs failed (`failJob` answered), on shutdown too. */
  readonly failed: number
  /** BPMN errors thrown (`throwJobError` answered). */
  readonly errored: number
  /** Acknowledgements the cluster refused or that failed for good (the job returns after its timeout). */
  readonly acknowledgementFailures: number
  /** Activation requests that failed (each followed by a back-off). */
  readonly activationFailures: number
  /** Timeout extensions (`updateJob`) that succeeded. */
  readonly timeoutExtensions: number
  /** Jobs activated and not yet acknowledged. */
  readonly inFlight: number
}

/**
 * A running worker.
 *
 * @since 0.1.0
 * @category models
 */
export interface JobWorker {
  readonly type: string
  readonly name: string
  /** Jobs activated and not yet acknowledged. */
  readonly inFlight: Effect.Effect<number>
  /** What the worker counted since it started. */
  readonly stats: Effect.Effect<Stats>
}

/**
 * The handler's way to fail a job on purpose, with a message and optionally the retries it
 * should have left (default: one less), a back-off before it is retried and local variables.
 * Create it with {@link fail}.
 *
 * @since 0.1.0
 * @category errors
 */
export class JobFailure extends Schema.TaggedError<JobFailure>()("JobFailure", {
  message: Schema.String,
  retries: Schema.optional(Schema.Int),
  retryBackOff: Schema.optional(Schema.DurationFromSelf),
  variables: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
}) {}

/**
 * The handler's way to throw a BPMN error: an error boundary event with this `code` catches it
 * (else the cluster raises an incident). Create it with {@link bpmnError}.
 *
 * @since 0.1.0
 * @category errors
 */
export class BpmnError extends Schema.TaggedError<BpmnError>()("BpmnError", {
  code: Schema.String,
  errorMessage: Schema.optional(Schema.String),
  variables: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
}) {
  override get message(): string {
    return this.errorMessage === undefined ? `BPMN error ${this.code}` : `BPMN error ${this.code}: ${this.errorMessage}`
  }
}

/**
 * Fails the job: `return yield* JobWorker.fail({ message: "card service down", retryBackOff: "30 seconds" })`.
 * `retries` is what the job should have left; default one less than it had.
 *
 * @since 0.1.0
 * @category outcomes
 */
export const fail = (options: {
  readonly message: string
  readonly retries?: number | undefined
  readonly retryBackOff?: Duration.DurationInput | undefined
  readonly variables?: Record<string, unknown> | undefined
}): Effect.Effect<never, JobFailure> =>
  Effect.fail(
    new JobFailure({
      message: options.message,
      ...(options.retries === undefined ? {} : { retries: options.retries }),
      ...(options.retryBackOff === undefined ? {} : { retryBackOff: Duration.decode(options.retryBackOff) }),
      ...(options.variables === undefined ? {} : { variables: options.variables })
    })
  )

/**
 * Throws a BPMN error for the job: `return yield* JobWorker.bpmnError({ code: "CARD_DECLINED" })`.
 * `variables` are set on the catching event's scope.
 *
 * @since 0.1.0
 * @category outcomes
 */
export const bpmnError = (options: {
  readonly code: string
  readonly message?: string | undefined
  readonly variables?: Record<string, unknown> | undefined
}): Effect.Effect<never, BpmnError> =>
  Effect.fail(
    new BpmnError({
      code: options.code,
      ...(options.message === undefined ? {} : { errorMessage: options.message }),
      ...(options.variables === undefined ? {} : { variables: options.variables })
    })
  )

/**
 * Starts a worker that runs until the scope closes; see the module documentation. Invalid
 * options (an empty type, `maxJobsActive` below 1, a timeout of zero, `extendTimeout.before`
 * not shorter than the timeout) are a defect.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: <
  Variables = Record<string, unknown>,
  Headers = Record<string, unknown>,
  Result extends Effect.Effect<object | void, unknown, unknown> = Effect.Effect<void>
>(
  options: Options<Variables, Headers, Result>
) => Effect.Effect<JobWorker, never, CamundaClient | Scope.Scope | Effect.Effect.Context<Result>> = internal.make

/**
 * A worker as a layer: it runs while the layer is in use.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <
  Variables = Record<string, unknown>,
  Headers = Record<string, unknown>,
  Result extends Effect.Effect<object | void, unknown, unknown> = Effect.Effect<void>
>(
  options: Options<Variables, Headers, Result>
): Layer.Layer<never, never, CamundaClient | Exclude<Effect.Effect.Context<Result>, Scope.Scope>> =>
  Layer.scopedDiscard(make(options))

/**
 * The worker metrics, each tagged `job_type` and `worker`: `camunda_job_worker_jobs_activated_total`,
 * `…_completed_total`, `…_failed_total`, `…_errored_total` (BPMN errors),
 * `…_acknowledgement_failures_total`, `…_activation_failures_total`,
 * `…_timeout_extensions_total` (counters), `camunda_job_worker_jobs_in_flight` (gauge) and
 * `camunda_job_worker_handler_duration` (histogram, milliseconds).
 *
 * @since 0.1.0
 * @category metrics
 */
export const metrics = internal.metrics
