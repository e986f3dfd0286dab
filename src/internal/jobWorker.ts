/**
 * The job worker behind `JobWorker.ts`.
 *
 * Fibers of one worker, all started by `make` and stopped by the scope's finalizer:
 * - the poller: waits for a quarter of the `slots` semaphore to be free, takes every free slot,
 *   long-polls `activateJobs` for that many jobs, gives back the slots it got no job for and
 *   queues the jobs; failures back off on `Retry.activationBackoff`;
 * - a pool of `maxJobsActive` fibers: each takes a job from the queue, runs the handler,
 *   acknowledges (completeJob / failJob / throwJobError) and frees the slot. A long-lived pool
 *   instead of a fiber per job: forking copies the fiber's `FiberRefs`, per job that showed in
 *   the benchmark;
 * - rescue fibers, at shutdown only: they acknowledge the jobs of pool fibers interrupted
 *   after the grace period, and the jobs still queued;
 * - with `extendTimeout`, a child of the pool fiber per job that calls `updateJob` periodically.
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as FiberSet from "effect/FiberSet"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricKey from "effect/MetricKey"
import type * as MetricKeyType from "effect/MetricKeyType"
import * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { CamundaClient, withRetry } from "../CamundaClient.js"
import type { CamundaError } from "../CamundaError.js"
import * as Job from "../generated/Job.js"
import * as Keys from "../generated/schemas/Keys.js"
import type * as Models from "../generated/schemas/Models.js"
import type * as JobWorker from "../JobWorker.js"
import * as Retry from "../Retry.js"
import { retryAfterFailure } from "./retryAfterFailure.js"
import { withSpanWhenTracing } from "./tracing.js"

// --- metrics ------------------------------------------------------------------------------

const durationBoundaries = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000]

const counterKey = (name: string, description: string) =>
  MetricKey.counter(`camunda_job_worker_${name}_total`, { description, incremental: true })

/** The metric keys; a worker tags them once (job_type, worker), so an update is a plain hook call. */
const keys = {
  activated: /*#__PURE__*/ counterKey("jobs_activated", "Jobs activated by job workers"),
  completed: /*#__PURE__*/ counterKey("jobs_completed", "Jobs completed by job workers (completeJob answered)"),
  failed: /*#__PURE__*/ counterKey("jobs_failed", "Jobs failed by job workers (failJob answered)"),
  errored: /*#__PURE__*/ counterKey("jobs_errored", "BPMN errors thrown by job workers (throwJobError answered)"),
  acknowledgementFailures: /*#__PURE__*/ counterKey(
    "acknowledgement_failures",
    "completeJob, failJob or throwJobError calls of job workers that failed for good"
  ),
  activationFailures: /*#__PURE__*/ counterKey("activation_failures", "Failed job activation requests of job workers"),
  timeoutExtensions: /*#__PURE__*/ counterKey("timeout_extensions", "Job timeouts extended by job workers (updateJob answered)"),
  inFlight: /*#__PURE__*/ MetricKey.gauge("camunda_job_worker_jobs_in_flight", {
    description: "Jobs activated by job workers and not yet acknowledged"
  }),
  handlerDuration: /*#__PURE__*/ MetricKey.tagged(
    /*#__PURE__*/ MetricKey.histogram(
      "camunda_job_worker_handler_duration",
      /*#__PURE__*/ MetricBoundaries.fromIterable(durationBoundaries),
      "How long job handlers ran, in milliseconds"
    ),
    "time_unit",
    "milliseconds"
  )
}

/** @internal */
export const metrics = {
  activated: /*#__PURE__*/ Metric.fromMetricKey(keys.activated),
  completed: /*#__PURE__*/ Metric.fromMetricKey(keys.completed),
  failed: /*#__PURE__*/ Metric.fromMetricKey(keys.failed),
  errored: /*#__PURE__*/ Metric.fromMetricKey(keys.errored),
  acknowledgementFailures: /*#__PURE__*/ Metric.fromMetricKey(keys.acknowledgementFailures),
  activationFailures: /*#__PURE__*/ Metric.fromMetricKey(keys.activationFailures),
  timeoutExtensions: /*#__PURE__*/ Metric.fromMetricKey(keys.timeoutExtensions),
  inFlight: /*#__PURE__*/ Metric.fromMetricKey(keys.inFlight),
  handlerDuration: /*#__PURE__*/ Metric.mapInput(/*#__PURE__*/ Metric.fromMetricKey(keys.handlerDuration), Duration.toMillis)
}

// --- settings -----------------------------------------------------------------------------

interface Settings {
  readonly type: string
  readonly name: string
  readonly maxJobsActive: number
  /** Milliseconds, as the API wants them. */
  readonly timeout: number
  readonly pollTimeout: number
  readonly fetchVariable: ReadonlyArray<string> | undefined
  readonly tenantIds: ReadonlyArray<Keys.TenantId> | undefined
  /** How long before the lock expires `updateJob` is sent; undefined: no extension. */
  readonly extendBefore: number | undefined
  readonly gracePeriod: Duration.Duration
  readonly retryBackOff: number
}

const invalid = (message: string): never => {
  throw new Cause.IllegalArgumentException(`JobWorker: ${message}`)
}

/** Whole milliseconds of a duration that must be finite and, unless `zero` is allowed, positive. */
const millisOf = (input: Duration.DurationInput, what: string, zero = false): number => {
  const millis = Duration.toMillis(Duration.decode(input))
  if (!Number.isFinite(millis) || millis < 0 || (!zero && millis === 0)) {
    return invalid(`${what} must be a finite${zero ? "" : ", positive"} duration, not ${String(input)}`)
  }
  return Math.ceil(millis)
}

const resolve = (options: JobWorker.Options<any, any, any>): Settings => {
  if (options.type === "") invalid("type must not be empty")
  const maxJobsActive = options.maxJobsActive ?? 32
  if (!Number.isInteger(maxJobsActive) || maxJobsActive < 1) invalid(`maxJobsActive must be a whole number ≥ 1, not ${maxJobsActive}`)
  const timeout = millisOf(options.timeout ?? Duration.minutes(5), "timeout")
  const extend = options.extendTimeout
  let extendBefore: number | undefined
  if (extend !== undefined && extend !== false) {
    extendBefore = typeof extend === "object" && extend.before !== undefined
      ? millisOf(extend.before, "extendTimeout.before")
      : Math.max(1, Math.min(Math.floor(timeout / 2), 10_000))
    if (extendBefore >= timeout) invalid(`extendTimeout.before (${extendBefore} ms) must be shorter than the timeout (${timeout} ms)`)
  }
  return {
    type: options.type,
    name: options.name ?? "effect-camunda-worker",
    maxJobsActive,
    timeout,
    pollTimeout: millisOf(options.pollTimeout ?? Duration.seconds(10), "pollTimeout"),
    fetchVariable: options.fetchVariables === undefined ? undefined : [...options.fetchVariables],
    tenantIds: options.tenantIds === undefined ? undefined : options.tenantIds.map((id) => Keys.TenantId.make(id)),
    extendBefore,
    gracePeriod: Duration.millis(millisOf(options.gracePeriod ?? Duration.seconds(10), "gracePeriod", true)),
    retryBackOff: millisOf(options.retryBackOff ?? 0, "retryBackOff", true)
  }
}

// --- outcomes -----------------------------------------------------------------------------

/** What the worker tells the cluster about a job. */
type Outcome =
  | { readonly _tag: "Complete"; readonly variables: Record<string, unknown> | undefined }
  | {
    readonly _tag: "Fail"
    readonly retries: number
    readonly message: string
    readonly retryBackOff: number
    readonly variables: Record<string, unknown> | undefined
  }
  | {
    readonly _tag: "Error"
    readonly code: string
    readonly message: string | undefined
    readonly variables: Record<string, unknown> | undefined
  }

/** Job variables or headers the worker's schema refused; the handler never ran. */
class InvalidJob {
  readonly _tag = "InvalidJob"
  constructor(readonly message: string) {}
}

/** An activation that answered no job long before the poll timeout: treated like a failure, so the worker never spins. */
class EmptyTooSoon {
  readonly _tag = "EmptyTooSoon"
  readonly message = "the activation answered no jobs long before its poll timeout"
}

const describeValue = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

/** A readable one-line message for an error of any kind: `Tag: message`, the message, or the tag. */
export const messageOf = (error: unknown): string => {
  if (typeof error !== "object" || error === null) return String(error)
  const tag = "_tag" in error && typeof error._tag === "string" ? error._tag : undefined
  const message = "message" in error && typeof error.message === "string" ? error.message : ""
  if (tag !== undefined) {
    if (message === "") return tag
    return message.startsWith(tag) ? message : `${tag}: ${message}`
  }
  if (error instanceof Error) {
    if (message === "") return error.name
    return error.name === "Error" ? message : `${error.name}: ${message}`
  }
  return message === "" ? describeValue(error) : message
}

const defectMessage = (cause: Cause.Cause<unknown>): string =>
  Option.match(Cause.dieOption(cause), {
    onNone: () => Cause.pretty(cause).split("\n")[0] ?? "the handler died",
    onSome: messageOf
  })

/** A job as activated, with the time its activation request was sent (the earliest its lock can have started). */
interface Activated {
  readonly raw: Models.ActivatedJobResult
  readonly sentAt: number
}

// --- the worker ---------------------------------------------------------------------------

/** @internal */
export const make = <V, H, Result extends Effect.Effect<object | void, unknown, unknown>>(
  options: JobWorker.Options<V, H, Result>
): Effect.Effect<JobWorker.JobWorker, never, CamundaClient | Scope.Scope | Effect.Effect.Context<Result>> =>
  Effect.gen(function*() {
    type R = Effect.Effect.Context<Result>
    const settings = resolve(options)
    const { maxJobsActive, name, type } = settings
    const client = yield* CamundaClient
    // tagged keys, built once: `Metric.tagged` would merge and hash the tags on every update
    const labels = [MetricLabel.make("job_type", type), MetricLabel.make("worker", name)]
    const tag = <Type extends MetricKeyType.MetricKeyType<any, any>>(key: MetricKey.MetricKey<Type>) =>
      Metric.fromMetricKey(MetricKey.taggedWithLabels(key, labels))
    // metrics are updated in place (`unsafeUpdate`), with the labels in force where the worker was made
    const metricLabels = yield* FiberRef.get(FiberRef.currentMetricLabels)
    const count = (metric: Metric.Metric.Counter<number>, n = 1) => metric.unsafeUpdate(n, metricLabels)
    const clock = yield* Effect.clock
    const m = {
      activated: tag(keys.activated),
      completed: tag(keys.completed),
      failed: tag(keys.failed),
      errored: tag(keys.errored),
      // tags in the order Metric.tagged(…job_type…), (…worker…), (…operation_id…) would produce them
      acknowledgementFailures: {
        completeJob: tag(keys.acknowledgementFailures).pipe(Metric.tagged("operation_id", "completeJob")),
        failJob: tag(keys.acknowledgementFailures).pipe(Metric.tagged("operation_id", "failJob")),
        throwJobError: tag(keys.acknowledgementFailures).pipe(Metric.tagged("operation_id", "throwJobError"))
      },
      activationFailures: tag(keys.activationFailures),
      timeoutExtensions: tag(keys.timeoutExtensions),
      inFlight: tag(keys.inFlight),
      handlerDuration: tag(keys.handlerDuration)
    }
    const stats = {
      activated: 0,
      completed: 0,
      failed: 0,
      errored: 0,
      acknowledgementFailures: 0,
      activationFailures: 0,
      timeoutExtensions: 0,
      inFlight: 0
    }
    /** Set when the scope closes: a handler interrupted from then on returns its job unchanged. */
    let stopping = false

    const slots = yield* Effect.makeSemaphore(maxJobsActive)
    /** Free slots an activation waits for while jobs are in flight: a quarter of the capacity. */
    const activationBatch = Math.max(1, Math.ceil(maxJobsActive / 4))
    /** Slots taken (by jobs in flight and by the activation request pending). */
    let held = 0
    const freeSlots = (n: number) =>
      Effect.suspend(() => {
        held -= n
        return slots.release(n)
      })

    /** Activated jobs waiting for a fiber of the pool (for a moment: activation asks only for idle capacity). */
    const queue = yield* Effect.acquireRelease(Queue.unbounded<Activated>(), Queue.shutdown)
    /** Acknowledgements of jobs whose fiber was interrupted at shutdown. */
    const rescues = yield* FiberSet.make<void, never>()

    const log = (level: "Debug" | "Info" | "Warning" | "Error", message: string, annotations: Record<string, unknown> = {}) =>
      Effect.logWithLevel(LogLevel[level], `job worker ${name} (${type}): ${message}`).pipe(
        Effect.annotateLogs({ "camunda.job.type": type, "camunda.worker": name, ...annotations })
      )

    // --- decoding ---------------------------------------------------------------------------

    const parseOptions = { errors: "all", onExcessProperty: "ignore" } as const
    const decodeVariables = options.variables === undefined ? undefined : Schema.decodeUnknown(options.variables, parseOptions)
    const decodeHeaders = options.customHeaders === undefined ? undefined : Schema.decodeUnknown(options.customHeaders, parseOptions)
    const invalidJob = (what: string) => (error: ParseResult.ParseError) =>
      new InvalidJob(`the job's ${what} do not match the worker's schema: ${ParseResult.TreeFormatter.formatErrorSync(error)}`)

    const decode = (raw: Models.ActivatedJobResult): Effect.Effect<JobWorker.Job<V, H>, InvalidJob> => {
      if (decodeVariables === undefined && decodeHeaders === undefined) {
        return Effect.succeed(raw as unknown as JobWorker.Job<V, H>)
      }
      const variables = decodeVariables === undefined
        ? Effect.succeed(raw.variables as V)
        : Effect.mapError(decodeVariables(raw.variables), invalidJob("variables"))
      const headers = decodeHeaders === undefined
        ? Effect.succeed(raw.customHeaders as H)
        : Effect.mapError(decodeHeaders(raw.customHeaders), invalidJob("custom headers"))
      return Effect.zipWith(variables, headers, (variables, customHeaders) => ({ ...raw, variables, customHeaders }))
    }

    // --- timeout extension ------------------------------------------------------------------

    /** Sets the job's timeout afresh every `timeout - before`, the first time `before` ahead of the lock taken at `sentAt`. */
    const extendLoop = (jobKey: Keys.JobKey, sentAt: number, before: number) =>
      Effect.gen(function*() {
        const interval = settings.timeout - before
        const now = yield* Clock.currentTimeMillis
        yield* Effect.sleep(Duration.millis(Math.max(0, sentAt + interval - now)))
        for (;;) {
          const result = yield* Effect.either(Job.updateJob({ jobKey, changeset: { timeout: settings.timeout } }))
          if (Either.isRight(result)) {
            stats.timeoutExtensions++
            count(m.timeoutExtensions)
          } else {
            const error = result.left
            if (error._tag === "NotFound" || error._tag === "Conflict") {
              // the job is gone (instance cancelled) or no longer ours (it timed out): nothing left to keep
              return yield* log("Warning", `job ${jobKey}: could not extend its timeout (${messageOf(error)}); no further extensions`, {
                "camunda.job.key": jobKey
              })
            }
            yield* log("Warning", `job ${jobKey}: could not extend its timeout (${messageOf(error)}); trying again in ${interval} ms`, {
              "camunda.job.key": jobKey
            })
          }
          yield* Effect.sleep(Duration.millis(interval))
        }
      })

    const withExtension = (raw: Models.ActivatedJobResult, sentAt: number) => <A, E2, R2>(handler: Effect.Effect<A, E2, R2>) => {
      const before = settings.extendBefore
      if (before === undefined) return handler
      return Effect.flatMap(
        Effect.fork(extendLoop(raw.jobKey, sentAt, before)),
        (extender) => Effect.ensuring(handler, Fiber.interrupt(extender))
      )
    }

    // --- one job ----------------------------------------------------------------------------

    // the handler's services are this worker's requirements (Effect.Effect.Context<Result>)
    const handler = options.handler as (job: JobWorker.Job<V, H>) => Effect.Effect<unknown, unknown, R>
    const runHandler = (raw: Models.ActivatedJobResult, sentAt: number) =>
      withExtension(raw, sentAt)(
        decodeVariables === undefined && decodeHeaders === undefined
          ? Effect.suspend(() => handler(raw as unknown as JobWorker.Job<V, H>))
          : Effect.flatMap(decode(raw), handler)
      )

    const outcomeOf = (raw: Models.ActivatedJobResult, exit: Exit.Exit<unknown, unknown>): Outcome => {
      const oneLess = Math.max(0, raw.retries - 1)
      const failWith = (message: string): Outcome => ({
        _tag: "Fail",
        retries: oneLess,
        message,
        retryBackOff: settings.retryBackOff,
        variables: undefined
      })
      if (Exit.isSuccess(exit)) {
        const value = exit.value
        if (value === undefined || value === null) return { _tag: "Complete", variables: undefined }
        if (typeof value === "object" && !Array.isArray(value)) return { _tag: "Complete", variables: value as Record<string, unknown> }
        return failWith(`the handler succeeded with ${describeValue(value)}, not an object of variables`)
      }
      const failure = Cause.failureOption(exit.cause)
      if (Option.isSome(failure)) {
        const error = failure.value
        if (error instanceof InvalidJob) return failWith(error.message)
        if (Predicate.isTagged(error, "JobFailure")) {
          const jobFailure = error as JobWorker.JobFailure
          return {
            _tag: "Fail",
            retries: jobFailure.retries ?? oneLess,
            message: jobFailure.message,
            retryBackOff: jobFailure.retryBackOff === undefined
              ? settings.retryBackOff
              : Math.ceil(Duration.toMillis(jobFailure.retryBackOff)),
            variables: jobFailure.variables
          }
        }
        if (Predicate.isTagged(error, "BpmnError")) {
          const bpmnError = error as JobWorker.BpmnError
          return { _tag: "Error", code: bpmnError.code, message: bpmnError.errorMessage, variables: bpmnError.variables }
        }
        return failWith(messageOf(error))
      }
      if (Cause.isInterruptedOnly(exit.cause)) {
        return stopping
          ? {
            _tag: "Fail",
            retries: raw.retries,
            message: "the job worker stopped before the handler finished",
            retryBackOff: 0,
            variables: undefined
          }
          : failWith("the handler was interrupted")
      }
      return failWith(defectMessage(exit.cause))
    }

    const command = (jobKey: Keys.JobKey, outcome: Outcome): Effect.Effect<void, CamundaError, CamundaClient> => {
      switch (outcome._tag) {
        case "Complete":
          return Job.completeJob(outcome.variables === undefined ? { jobKey } : { jobKey, variables: outcome.variables })
        case "Fail":
          return Job.failJob({
            jobKey,
            retries: outcome.retries,
            errorMessage: outcome.message,
            retryBackOff: outcome.retryBackOff,
            ...(outcome.variables === undefined ? {} : { variables: outcome.variables })
          })
        case "Error":
          return Job.throwJobError({
            jobKey,
            errorCode: outcome.code,
            ...(outcome.message === undefined ? {} : { errorMessage: outcome.message }),
            ...(outcome.variables === undefined ? {} : { variables: outcome.variables })
          })
      }
    }

    const commandName = { Complete: "completeJob", Fail: "failJob", Error: "throwJobError" } as const

    /**
     * Job commands repeated after an ambiguous failure (a dropped connection, 500, 502, 504) are
     * harmless: the repeat either goes through or answers 404/409 because the first one did.
     * Backpressure is already retried by the client's policy; this repeats by the same policy.
     */
    const ambiguous = (error: CamundaError) => Retry.isTransient(error) && !Retry.isBackpressure(error)
    const policy = client.config.retry
    const ackSchedule = policy.maxAttempts > 1 ? Retry.schedule(policy) : undefined
    const repeatAmbiguous = (once: Effect.Effect<void, CamundaError, CamundaClient>) => {
      const schedule = ackSchedule
      if (schedule === undefined) return once
      return Effect.catchIf(once, ambiguous, (first) => retryAfterFailure(once, first, { schedule, while: ambiguous }))
    }

    const acknowledged = (outcome: Outcome) =>
      Effect.sync(() => {
        switch (outcome._tag) {
          case "Complete":
            stats.completed++
            return count(m.completed)
          case "Fail":
            stats.failed++
            return count(m.failed)
          case "Error":
            stats.errored++
            return count(m.errored)
        }
      })

    const acknowledgementFailed = (raw: Models.ActivatedJobResult, outcome: Outcome, cause: Cause.Cause<CamundaError>) =>
      Effect.suspend(() => {
        stats.acknowledgementFailures++
        const name = commandName[outcome._tag]
        const failure = Cause.failureOption(cause)
        const error = Option.getOrUndefined(failure)
        const annotations = { "camunda.job.key": raw.jobKey, "camunda.operation_id": name }
        const message = error?._tag === "NotFound"
          ? log(
            "Warning",
            `job ${raw.jobKey}: ${name} answered NotFound: the job no longer exists (already completed, its instance was cancelled, or it timed out and another worker completed it)`,
            annotations
          )
          : error?._tag === "Conflict"
          ? log("Warning", `job ${raw.jobKey}: ${name} answered Conflict: the job is no longer active (${messageOf(error)})`, annotations)
          : log(
            "Error",
            `job ${raw.jobKey}: ${name} failed (${
              error === undefined ? Cause.pretty(cause) : messageOf(error)
            }); the cluster hands the job out again after its timeout`,
            annotations
          )
        count(m.acknowledgementFailures[name])
        return message
      })

    const acknowledge = (raw: Models.ActivatedJobResult, outcome: Outcome) =>
      repeatAmbiguous(command(raw.jobKey, outcome)).pipe(
        Effect.matchCauseEffect({
          onSuccess: () => acknowledged(outcome),
          onFailure: (cause) => acknowledgementFailed(raw, outcome, cause)
        })
      )

    const slotFreed = Effect.suspend(() => {
      stats.inFlight--
      m.inFlight.unsafeModify(-1, metricLabels)
      return freeSlots(1)
    })

    const spanOptions = (raw: Models.ActivatedJobResult) => ({
      kind: "consumer" as const,
      root: true,
      captureStackTrace: false,
      attributes: {
        "camunda.job.type": type,
        "camunda.job.key": raw.jobKey,
        "camunda.job.retries": raw.retries,
        "camunda.worker": name,
        "camunda.process_instance_key": raw.processInstanceKey,
        "camunda.process_definition_id": raw.processDefinitionId,
        "camunda.element_id": raw.elementId,
        "camunda.tenant_id": raw.tenantId
      }
    })

    const stopped = (raw: Models.ActivatedJobResult): Outcome => ({
      _tag: "Fail",
      retries: raw.retries,
      message: "the job worker stopped before the handler finished",
      retryBackOff: 0,
      variables: undefined
    })

    /**
     * One job on a fiber of the pool: the handler, then the acknowledgement, in a span. When
     * the fiber is interrupted (only at shutdown, after the grace period) in the handler or in
     * the middle of the acknowledgement, a fiber of its own acknowledges: the outcome if there
     * was one, else the job goes back unchanged. The slot is freed once the job is acknowledged.
     * Called uninterruptibly: `restore` makes the handler and the acknowledgement interruptible
     * once the finalizer is in place.
     */
    const processJob = (
      { raw, sentAt }: Activated,
      restore: <A, E2, R2>(effect: Effect.Effect<A, E2, R2>) => Effect.Effect<A, E2, R2>
    ): Effect.Effect<void, never, R | CamundaClient> =>
      Effect.suspend(() => {
        let outcome: Outcome | undefined
        let done = false
        const started = clock.unsafeCurrentTimeNanos()
        const work = runHandler(raw, sentAt).pipe(
          Effect.exit,
          Effect.flatMap((exit) => {
            m.handlerDuration.unsafeUpdate(Number(clock.unsafeCurrentTimeNanos() - started) / 1_000_000, metricLabels)
            outcome = outcomeOf(raw, exit)
            return Effect.zipRight(
              Effect.annotateCurrentSpan("camunda.job.outcome", commandName[outcome._tag]),
              acknowledge(raw, outcome)
            )
          }),
          Effect.zipRight(Effect.suspend(() => {
            done = true
            return slotFreed
          }))
        )
        const job = Effect.onExit(restore(work), () => {
          if (done) return Effect.void
          const rescue = Effect.ensuring(acknowledge(raw, outcome ?? stopped(raw)), slotFreed)
          // forked from a finalizer, so explicitly interruptible (it is not interrupted itself)
          return Effect.asVoid(FiberSet.run(rescues, Effect.interruptible(rescue)))
        })
        return withSpanWhenTracing(job, "camunda.job", () => spanOptions(raw))
      })

    /**
     * A fiber of the pool: takes jobs from the queue, one at a time, until the worker stops. A job
     * taken is always processed: no interruption between the take and `processJob`'s finalizer.
     */
    const nextJob = Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(restore(Queue.take(queue)), (activated) => processJob(activated, restore))
    ).pipe(
      // a defect of the worker itself (the job is acknowledged by then): keep the fiber
      Effect.catchAllCause((cause) => log("Error", `a job failed unexpectedly: ${Cause.pretty(cause)}`))
    )
    // not `Effect.forever`, which yields to the scheduler after every job (a few µs each): a
    // fiber waits in `Queue.take` when there is no job, and the runtime still yields every
    // `maxOpsBeforeYield` operations, so the pool never starves other fibers
    const poolFiber: Effect.Effect<never, never, R | CamundaClient> = Effect.flatMap(nextJob, () => poolFiber)

    // --- activation ---------------------------------------------------------------------------

    const activate = (maxJobsToActivate: number) =>
      withRetry(
        Job.activateJobs({
          type,
          worker: name,
          timeout: settings.timeout,
          maxJobsToActivate,
          requestTimeout: settings.pollTimeout,
          ...(settings.fetchVariable === undefined ? {} : { fetchVariable: settings.fetchVariable }),
          ...(settings.tenantIds === undefined ? {} : { tenantIds: settings.tenantIds })
        }),
        // the worker's own back-off is the only retry: a failed poll is never repeated at once
        Retry.none
      )

    /**
     * One activation: wait for a batch of free slots, take them all, ask for that many jobs, start them.
     * Interruptible only while waiting for a slot and while the request is pending (which
     * interruption aborts); once jobs arrive they are always started.
     */
    const activation = Effect.uninterruptibleMask((restore) =>
      Effect.gen(function*() {
        // Under load, wait for a batch of free slots rather than asking for one job at a time:
        // fewer, fuller activations (the engine and the cluster pay per request, not per job).
        const first = activationBatch
        yield* restore(slots.take(first))
        const extra = maxJobsActive - held - first
        if (extra > 0) yield* slots.take(extra)
        held = maxJobsActive
        const asked = extra + first
        const sentAt = yield* Clock.currentTimeMillis
        const answer = yield* Effect.exit(restore(activate(asked)))
        if (Exit.isFailure(answer)) {
          yield* freeSlots(asked)
          return yield* answer
        }
        const jobs = answer.value.jobs
        if (jobs.length < asked) yield* freeSlots(asked - jobs.length)
        if (jobs.length > 0) {
          stats.activated += jobs.length
          stats.inFlight += jobs.length
          count(m.activated, jobs.length)
          m.inFlight.unsafeModify(jobs.length, metricLabels)
          yield* Queue.offerAll(queue, jobs.map((raw) => ({ raw, sentAt })))
          return
        }
        const elapsed = (yield* Clock.currentTimeMillis) - sentAt
        if (elapsed < settings.pollTimeout / 2) return yield* Effect.fail(new EmptyTooSoon())
      })
    )

    const activationFailed = (error: CamundaError | EmptyTooSoon) =>
      error._tag === "EmptyTooSoon"
        ? log("Debug", `${error.message}; backing off`)
        : Effect.zipRight(
          Effect.sync(() => {
            stats.activationFailures++
            count(m.activationFailures)
          }),
          log("Warning", `job activation failed (${messageOf(error)}); backing off`)
        )

    const poll = Effect.forever(
      activation.pipe(
        Effect.tapError(activationFailed),
        Effect.retry(Retry.activationBackoff)
      )
    )

    // --- shutdown -----------------------------------------------------------------------------

    /**
     * After the poller is stopped: wait until every slot is free (every job acknowledged) for the
     * grace period; then interrupt the pool (busy fibers hand their jobs to rescue fibers), give
     * back the jobs still queued, and wait for the rescues. Runs in a fiber of its own, which is
     * interruptible, so the grace period's timer works although finalizers are not.
     */
    const drain = (pool: ReadonlyArray<Fiber.RuntimeFiber<unknown, unknown>>) =>
      Effect.gen(function*() {
        const idle = yield* Effect.timeout(slots.take(maxJobsActive), settings.gracePeriod).pipe(Effect.option)
        if (Option.isNone(idle)) {
          yield* log(
            "Info",
            `${stats.inFlight} job(s) still in flight after the grace period of ${Duration.format(settings.gracePeriod)}: interrupting their handlers and returning the jobs`
          )
        }
        yield* Fiber.interruptAll(pool)
        for (const { raw } of yield* Queue.takeAll(queue)) {
          yield* FiberSet.run(rescues, Effect.ensuring(acknowledge(raw, stopped(raw)), slotFreed))
        }
        yield* FiberSet.awaitEmpty(rescues)
      })

    const shutdown = (
      [poller, pool]: readonly [Fiber.RuntimeFiber<unknown, unknown>, ReadonlyArray<Fiber.RuntimeFiber<unknown, unknown>>]
    ) =>
      Effect.gen(function*() {
        stopping = true
        // aborts a pending long poll; jobs it already answered with are queued by now
        yield* Fiber.interrupt(poller)
        yield* Fiber.join(yield* Effect.forkDaemon(Effect.interruptible(drain(pool))))
        yield* log("Debug", "stopped")
      })

    yield* Effect.acquireRelease(
      Effect.all([
        Effect.forkDaemon(Effect.interruptible(poll)),
        Effect.forEach(Array.from({ length: maxJobsActive }), () => Effect.forkDaemon(Effect.interruptible(poolFiber)))
      ]),
      shutdown
    )
    yield* log("Debug", `started (maxJobsActive ${maxJobsActive}, timeout ${settings.timeout} ms)`)

    return {
      type,
      name,
      inFlight: Effect.sync(() => stats.inFlight),
      stats: Effect.sync((): JobWorker.Stats => ({ ...stats }))
    }
  })
