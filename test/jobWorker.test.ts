/**
 * JobWorker against the embedded engine (in memory, TestClock): capacity and exactly-once
 * completion, every outcome's path, decoding, graceful shutdown, recovery from an
 * activation outage, timeout extension, spans and metrics.
 */
import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import { CamundaClient, Incident, Job, JobWorker as JobWorkerFromIndex, Keys, ProcessInstance, Resource, Retry } from "effect-camunda"
import * as JobWorker from "effect-camunda/JobWorker"
import * as UndiciHttpClient from "effect-camunda/UndiciHttpClient"
import * as TestEngine from "effect-camunda/testkit"
import { activate, bpmn, processXml, settle } from "./support/engine.js"
import { recordedEngine, sentOf, tick, until } from "./support/jobWorker.js"
import { recordingTracer } from "./support/tracing.js"

/** A process `id` with one service task of `type` (retries 3), an error boundary for CARD_DECLINED leading to a `${type}-notify` task. */
const serviceTaskProcess = (id: string, type: string) =>
  bpmn(
    `${id}.bpmn`,
    processXml(
      id,
      `<bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />
    <bpmn:serviceTask id="task">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="${type}" retries="3" />
        <zeebe:taskHeaders><zeebe:header key="region" value="eu" /></zeebe:taskHeaders>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:boundaryEvent id="declined" attachedToRef="task">
      <bpmn:errorEventDefinition errorRef="Error_declined" />
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="done" />
    <bpmn:endEvent id="done" />
    <bpmn:sequenceFlow id="f3" sourceRef="declined" targetRef="notify" />
    <bpmn:serviceTask id="notify">
      <bpmn:extensionElements><zeebe:taskDefinition type="${type}-notify" /></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f4" sourceRef="notify" targetRef="notified" />
    <bpmn:endEvent id="notified" />`,
      `<bpmn:error id="Error_declined" name="Card declined" errorCode="CARD_DECLINED" />`
    )
  )

const deploy = (id: string, type: string) => Resource.createDeployment({ resources: [serviceTaskProcess(id, type)] })

const start = (id: string, variables: Record<string, unknown> = {}) =>
  Effect.map(
    ProcessInstance.createProcessInstance({ processDefinitionId: Keys.ProcessDefinitionId.make(id), variables }),
    (created) => created.processInstanceKey
  )

const stateOf = (processInstanceKey: Keys.ProcessInstanceKey) =>
  Effect.map(ProcessInstance.getProcessInstance({ processInstanceKey }), (instance) => instance.state)

const jobOf = (processInstanceKey: Keys.ProcessInstanceKey, elementId = "task") =>
  Effect.map(Job.searchJobs({ filter: { processInstanceKey, elementId: Keys.ElementId.make(elementId) } }), (result) => {
    expect(result.items).toHaveLength(1)
    return result.items[0]!
  })

const countInstances = (state: "ACTIVE" | "COMPLETED") =>
  Effect.map(ProcessInstance.searchProcessInstances({ filter: { state }, page: { limit: 1 } }), (result) => result.page.totalItems)

/** Runs a worker in a scope of its own, which the test closes. */
const startWorker = <
  V = Record<string, unknown>,
  H = Record<string, unknown>,
  Result extends Effect.Effect<object | void, unknown, unknown> = Effect.Effect<void>
>(options: JobWorker.Options<V, H, Result>) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const worker = yield* Scope.extend(JobWorker.make(options), scope)
    return { worker, scope, close: Scope.close(scope, Exit.void) }
  })

const quiet = Logger.withMinimumLogLevel(LogLevel.None)

/** A logger that keeps `level: message` lines. */
const capturing = () => {
  const lines: Array<string> = []
  const logger = Logger.make(({ logLevel, message }) => {
    lines.push(`${logLevel.label}: ${String(Array.isArray(message) ? message[0] : message)}`)
  })
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
}

describe("JobWorker", () => {
  it.effect("1,000 jobs with maxJobsActive 32: each is handled and completed exactly once, never more than 32 at a time", () => {
    const { layer, recorder } = recordedEngine()
    return Effect.gen(function*() {
      yield* deploy("bulk", "bulk")
      const instances = yield* Effect.forEach(Array.from({ length: 1_000 }, (_, i) => i), (i) => start("bulk", { i }), {
        concurrency: 16
      })
      const handled = new Map<string, number>()
      let running = 0
      let mostRunning = 0
      const asked: Array<{ readonly max: number; readonly running: number }> = []
      recorder.onActivation = (body) => asked.push({ max: body.maxJobsToActivate, running })
      const { worker, close } = yield* startWorker({
        type: "bulk",
        maxJobsActive: 32,
        handler: (job) =>
          Effect.gen(function*() {
            handled.set(job.jobKey, (handled.get(job.jobKey) ?? 0) + 1)
            running++
            mostRunning = Math.max(mostRunning, running)
            yield* Effect.yieldNow()
            running--
            return { doubled: (job.variables["i"] as number) * 2 }
          })
      })
      yield* until(Effect.map(worker.stats, (stats) => stats.completed === 1_000), "1,000 completions", 20_000)

      // every job: one handler run, one completeJob answered 204, nothing failed or errored
      expect(handled.size).toBe(1_000)
      expect([...handled.values()].every((count) => count === 1)).toBe(true)
      const completions = sentOf(recorder, "completeJob")
      expect(completions).toHaveLength(1_000)
      expect(new Set(completions.map((sent) => sent.jobKey)).size).toBe(1_000)
      expect(completions.every((sent) => sent.status === 204)).toBe(true)
      expect(sentOf(recorder, "failJob")).toEqual([])
      expect(sentOf(recorder, "throwJobError")).toEqual([])
      expect(yield* countInstances("COMPLETED")).toBe(1_000)
      expect(yield* countInstances("ACTIVE")).toBe(0)
      // the output became process variables
      const last = instances[999]!
      const variables = yield* ProcessInstance.getProcessInstance({ processInstanceKey: last })
      expect(variables.state).toBe("COMPLETED")

      // capacity: used fully, never exceeded; activation asked only for slots that were free
      expect(mostRunning).toBe(32)
      expect(asked.every(({ max, running }) => max >= 1 && max + running <= 32)).toBe(true)
      expect(asked[0]!.max).toBe(32)
      expect(yield* worker.stats).toMatchObject({ activated: 1_000, completed: 1_000, failed: 0, errored: 0, inFlight: 0 })
      yield* close
    }).pipe(Effect.provide(layer))
  })

  it.effect("activation asks for the free slots only, and sends nothing while no slot is free", () => {
    const { layer, recorder } = recordedEngine()
    return Effect.gen(function*() {
      yield* deploy("slots", "slots")
      yield* Effect.repeatN(start("slots"), 4)
      const gates = new Map<string, Deferred.Deferred<void>>()
      const { worker, close } = yield* startWorker({
        type: "slots",
        maxJobsActive: 2,
        handler: (job) =>
          Effect.gen(function*() {
            const gate = yield* Deferred.make<void>()
            gates.set(job.jobKey, gate)
            yield* Deferred.await(gate)
          })
      })
      yield* until(Effect.sync(() => gates.size === 2), "two running handlers")
      yield* Effect.repeatN(settle, 20)
      // both slots busy: one request (for 2), none since
      expect(sentOf(recorder, "activateJobs").map((sent) => sent.body.maxJobsToActivate)).toEqual([2])
      expect(yield* worker.inFlight).toBe(2)
      // one slot frees up: the next request asks for exactly 1
      yield* Deferred.succeed([...gates.values()][0]!, undefined)
      yield* until(Effect.sync(() => gates.size === 3), "a third handler")
      expect(sentOf(recorder, "activateJobs").map((sent) => sent.body.maxJobsToActivate)).toEqual([2, 1])
      yield* close.pipe(Effect.fork)
      yield* TestClock.adjust("10 seconds")
    }).pipe(Effect.provide(layer), quiet)
  })

  it.effect("under load, activation waits for a quarter of the capacity to be free, then asks for all free slots", () => {
    const { layer, recorder } = recordedEngine()
    return Effect.gen(function*() {
      yield* deploy("batch", "batch")
      yield* Effect.repeatN(start("batch"), 11)
      const gates = new Map<string, Deferred.Deferred<void>>()
      const { close } = yield* startWorker({
        type: "batch",
        maxJobsActive: 8,
        handler: (job) =>
          Effect.gen(function*() {
            const gate = yield* Deferred.make<void>()
            gates.set(job.jobKey, gate)
            yield* Deferred.await(gate)
          })
      })
      yield* until(Effect.sync(() => gates.size === 8), "eight running handlers")
      const release = (n: number) => Effect.forEach([...gates.values()].slice(0, n), (gate) => Deferred.succeed(gate, undefined))
      // one of eight slots free: no request yet (a batch is two)
      yield* release(1)
      yield* Effect.repeatN(settle, 20)
      expect(sentOf(recorder, "activateJobs").map((sent) => sent.body.maxJobsToActivate)).toEqual([8])
      // two free: one request for both
      yield* release(2)
      yield* until(Effect.sync(() => gates.size === 10), "two more handlers")
      expect(sentOf(recorder, "activateJobs").map((sent) => sent.body.maxJobsToActivate)).toEqual([8, 2])
      yield* close.pipe(Effect.fork)
      yield* TestClock.adjust("10 seconds")
    }).pipe(Effect.provide(layer), quiet)
  })

  it.effect("the activation request: type, worker name, timeout, long poll, fetchVariables; tenantIds only when set", () => {
    const { layer, recorder } = recordedEngine()
    return Effect.gen(function*() {
      const plain = yield* startWorker({ type: "plain", handler: () => Effect.void })
      const tenant = yield* startWorker({
        type: "tenanted",
        name: "billing",
        maxJobsActive: 5,
        timeout: "45 seconds",
        pollTimeout: "20 seconds",
        fetchVariables: ["orderId"],
        tenantIds: ["acme"],
        handler: () => Effect.void
      })
      yield* until(Effect.sync(() => sentOf(recorder, "activateJobs").length === 2), "two activation requests")
      const [first, second] = sentOf(recorder, "activateJobs").map((sent) => sent.body)
      const byType = Object.fromEntries([first, second].map((body) => [body.type, body]))
      expect(byType["plain"]).toEqual({
        type: "plain",
        worker: "effect-camunda-worker",
        timeout: 300_000,
        maxJobsToActivate: 32,
        requestTimeout: 10_000
      })
      expect(byType["tenanted"]).toEqual({
        type: "tenanted",
        worker: "billing",
        timeout: 45_000,
        maxJobsToActivate: 5,
        requestTimeout: 20_000,
        fetchVariable: ["orderId"],
        tenantIds: ["acme"]
      })
      yield* Effect.fork(Effect.zipRight(plain.close, tenant.close))
      yield* TestClock.adjust("1 minute")
    }).pipe(Effect.provide(layer))
  })

  it.effect("without tenantIds the client's default tenant (CAMUNDA_DEFAULT_TENANT_ID) applies; with them, they win", () => {
    const { layer, recorder } = recordedEngine({}, { defaultTenantId: "acme" })
    return Effect.gen(function*() {
      const defaulted = yield* startWorker({ type: "defaulted", handler: () => Effect.void })
      const explicit = yield* startWorker({ type: "explicit", tenantIds: ["other"], handler: () => Effect.void })
      yield* until(Effect.sync(() => sentOf(recorder, "activateJobs").length === 2), "two activation requests")
      const tenants = Object.fromEntries(sentOf(recorder, "activateJobs").map((sent) => [sent.body.type, sent.body.tenantIds]))
      expect(tenants).toEqual({ defaulted: ["acme"], explicit: ["other"] })
      yield* Effect.fork(Effect.zipRight(defaulted.close, explicit.close))
      yield* TestClock.adjust("1 minute")
    }).pipe(Effect.provide(layer))
  })

  it.effect("outcomes: success completes, JobWorker.fail fails, a BPMN error reaches the boundary event, a defect and a typed error fail with one retry less", () => {
    const { layer, recorder } = recordedEngine()
    class Declined extends Data.TaggedError("Declined")<{ readonly message: string }> {}
    return Effect.gen(function*() {
      yield* deploy("outcomes", "pay")
      const keys = {
        ok: yield* start("outcomes", { mode: "ok" }),
        fail: yield* start("outcomes", { mode: "fail" }),
        noRetries: yield* start("outcomes", { mode: "noRetries" }),
        bpmn: yield* start("outcomes", { mode: "bpmn" }),
        defect: yield* start("outcomes", { mode: "defect" }),
        thrown: yield* start("outcomes", { mode: "thrown" }),
        typed: yield* start("outcomes", { mode: "typed" }),
        array: yield* start("outcomes", { mode: "array" })
      }
      const { worker, close } = yield* startWorker({
        type: "pay",
        // failed jobs are not handed out again during the test
        retryBackOff: "1 hour",
        handler: (job) => {
          switch (job.variables["mode"]) {
            case "ok":
              return Effect.succeed({ paid: true })
            case "fail":
              return JobWorker.fail({ message: "card service down", retryBackOff: "30 minutes", variables: { attempt: 1 } })
            case "noRetries":
              return JobWorker.fail({ message: "card blocked", retries: 0 })
            case "bpmn":
              return JobWorkerFromIndex.bpmnError({ code: "CARD_DECLINED", message: "insufficient funds", variables: { reason: "funds" } })
            case "defect":
              return Effect.die(new Error("kaboom"))
            case "thrown":
              return Effect.sync(() => {
                throw new TypeError("cannot read the card")
              })
            case "typed":
              return Effect.fail(new Declined({ message: "limit exceeded" }))
            default:
              return Effect.succeed([1, 2, 3])
          }
        }
      })
      yield* until(Effect.map(worker.stats, (stats) => stats.completed + stats.failed + stats.errored === 8), "eight outcomes")
      expect(yield* worker.stats).toMatchObject({ activated: 8, completed: 1, failed: 6, errored: 1, acknowledgementFailures: 0 })

      expect(yield* stateOf(keys.ok)).toBe("COMPLETED")
      const okVariables = yield* ProcessInstance.searchProcessInstances({ filter: { processInstanceKey: keys.ok } })
      expect(okVariables.items).toHaveLength(1)

      expect(yield* jobOf(keys.fail)).toMatchObject({ state: "FAILED", retries: 2, errorMessage: "card service down", hasFailedWithRetriesLeft: true })
      const failBody = sentOf(recorder, "failJob").find((sent) => sent.body.errorMessage === "card service down")!.body
      expect(failBody).toEqual({ retries: 2, errorMessage: "card service down", retryBackOff: 1_800_000, variables: { attempt: 1 } })

      const incidents = yield* Incident.searchIncidents({ filter: { processInstanceKey: keys.noRetries } })
      expect(incidents.items.map((incident) => [incident.errorType, incident.errorMessage])).toEqual([["JOB_NO_RETRIES", "card blocked"]])

      // the boundary event caught the error: the instance waits at the notify task, with the error's variables
      expect(yield* jobOf(keys.bpmn)).toMatchObject({ state: "ERROR_THROWN", errorCode: "CARD_DECLINED", errorMessage: "insufficient funds" })
      const [notify] = yield* activate("pay-notify")
      expect(notify).toMatchObject({ processInstanceKey: keys.bpmn, elementId: "notify" })
      expect(notify!.variables).toMatchObject({ reason: "funds" })

      expect(yield* jobOf(keys.defect)).toMatchObject({ state: "FAILED", retries: 2, errorMessage: "kaboom" })
      expect(yield* jobOf(keys.thrown)).toMatchObject({ state: "FAILED", retries: 2, errorMessage: "TypeError: cannot read the card" })
      expect(yield* jobOf(keys.typed)).toMatchObject({ state: "FAILED", retries: 2, errorMessage: "Declined: limit exceeded" })
      expect((yield* jobOf(keys.array)).errorMessage).toBe("the handler succeeded with [1,2,3], not an object of variables")
      // the worker's default back-off for failures it decided itself
      const defectBody = sentOf(recorder, "failJob").find((sent) => sent.body.errorMessage === "kaboom")!.body
      expect(defectBody).toEqual({ retries: 2, errorMessage: "kaboom", retryBackOff: 3_600_000 })
      yield* close
    }).pipe(Effect.provide(layer), quiet)
  })

  it.effect("variables and custom headers are decoded by the worker's schemas; a job that does not decode is failed with the schema's message", () => {
    const { layer } = recordedEngine()
    return Effect.gen(function*() {
      yield* deploy("decode", "decode")
      const good = yield* start("decode", { orderId: "o-1", amount: 21, extra: true })
      const bad = yield* start("decode", { orderId: "o-2", amount: "21" })
      const seen: Array<unknown> = []
      const { close, worker } = yield* startWorker({
        type: "decode",
        retryBackOff: "1 hour",
        variables: Schema.Struct({ orderId: Schema.String, amount: Schema.Number }),
        customHeaders: Schema.Struct({ region: Schema.Literal("eu", "us") }),
        handler: (job) => {
          seen.push({ variables: job.variables, headers: job.customHeaders })
          return Effect.succeed({ total: job.variables.amount * 2 })
        }
      })
      yield* until(Effect.map(worker.stats, (stats) => stats.completed + stats.failed === 2), "two outcomes")
      // unknown properties are not kept; the handler never saw the bad job
      expect(seen).toEqual([{ variables: { orderId: "o-1", amount: 21 }, headers: { region: "eu" } }])
      expect(yield* stateOf(good)).toBe("COMPLETED")
      const failed = yield* jobOf(bad)
      expect(failed).toMatchObject({ state: "FAILED", retries: 2 })
      expect(failed.errorMessage).toContain("the job's variables do not match the worker's schema")
      expect(failed.errorMessage).toContain("[\"amount\"]")
      expect(failed.errorMessage).toContain("Expected number, actual \"21\"")
      yield* close
    }).pipe(Effect.provide(layer), quiet)
  })

  it.effect("a refused acknowledgement (the instance was cancelled meanwhile) is logged and counted; the worker goes on", () => {
    const { layer } = recordedEngine()
    const logs = capturing()
    return Effect.gen(function*() {
      yield* deploy("cancelled", "cancelled")
      const first = yield* start("cancelled", { cancel: true })
      const second = yield* start("cancelled", { cancel: false })
      const { close, worker } = yield* startWorker({
        type: "cancelled",
        maxJobsActive: 1,
        handler: (job) =>
          job.variables["cancel"] === true
            ? Effect.asVoid(ProcessInstance.cancelProcessInstance({ processInstanceKey: job.processInstanceKey }))
            : Effect.void
      })
      yield* until(Effect.map(worker.stats, (stats) => stats.completed === 1 && stats.acknowledgementFailures === 1), "both jobs")
      expect(yield* stateOf(first)).toBe("TERMINATED")
      expect(yield* stateOf(second)).toBe("COMPLETED")
      expect(logs.lines.some((line) => /^WARN: .*completeJob answered NotFound: the job no longer exists/.test(line))).toBe(true)
      const failures = yield* Metric.value(
        JobWorker.metrics.acknowledgementFailures.pipe(
          Metric.tagged("job_type", "cancelled"),
          Metric.tagged("worker", "effect-camunda-worker"),
          Metric.tagged("operation_id", "completeJob")
        )
      )
      expect(failures.count).toBe(1)
      yield* close
    }).pipe(Effect.provide(layer), Effect.provide(logs.layer))
  })

  it.effect("closing the scope mid-flight: activation stops, the pending long poll is aborted, handlers finish within the grace period, the rest are returned unchanged", () => {
    const { layer, recorder } = recordedEngine()
    const logs = capturing()
    return Effect.gen(function*() {
      yield* deploy("shutdown", "shutdown")
      const quick = yield* start("shutdown", { sleep: 1 })
      const slower = yield* start("shutdown", { sleep: 3 })
      const stuck1 = yield* start("shutdown", { sleep: -1 })
      const stuck2 = yield* start("shutdown", { sleep: -1 })
      const interrupted: Array<string> = []
      const { close, worker } = yield* startWorker({
        type: "shutdown",
        maxJobsActive: 6,
        gracePeriod: "5 seconds",
        handler: (job) => {
          const sleep = job.variables["sleep"] as number
          return (sleep < 0 ? Effect.never : Effect.sleep(Duration.seconds(sleep))).pipe(
            Effect.onInterrupt(() => Effect.sync(() => interrupted.push(job.jobKey)))
          )
        }
      })
      yield* until(Effect.map(worker.inFlight, (n) => n === 4), "four jobs in flight")
      // the worker now long-polls for its two free slots
      yield* until(Effect.sync(() => sentOf(recorder, "activateJobs").length === 2), "a second, pending activation")
      const pendingPoll = sentOf(recorder, "activateJobs")[1]!
      expect(pendingPoll.body.maxJobsToActivate).toBe(2)
      expect(pendingPoll.status).toBeUndefined()

      const closing = yield* Effect.fork(close)
      for (let second = 0; second < 6; second++) yield* tick("1 second")
      yield* Fiber.join(closing)

      // the long poll was aborted, not answered, and nothing was activated since
      expect(pendingPoll.status).toBeUndefined()
      expect(sentOf(recorder, "activateJobs")).toHaveLength(2)
      // finished within the grace period: completed
      expect(yield* stateOf(quick)).toBe("COMPLETED")
      expect(yield* stateOf(slower)).toBe("COMPLETED")
      // still running after it: interrupted and returned with their retries unchanged, activatable at once
      expect(interrupted).toHaveLength(2)
      for (const key of [stuck1, stuck2]) {
        expect(yield* jobOf(key)).toMatchObject({
          state: "FAILED",
          retries: 3,
          errorMessage: "the job worker stopped before the handler finished",
          deadline: null
        })
      }
      // every job the worker took was acknowledged exactly once
      const acknowledged = [...sentOf(recorder, "completeJob"), ...sentOf(recorder, "failJob")]
      expect(acknowledged.map((sent) => sent.status)).toEqual([204, 204, 204, 204])
      expect(new Set(acknowledged.map((sent) => sent.jobKey)).size).toBe(4)
      expect(yield* worker.stats).toMatchObject({ activated: 4, completed: 2, failed: 2, inFlight: 0 })
      // no zombie poll: a job created now is there for anyone, as are the returned ones
      const later = yield* start("shutdown", { sleep: 0 })
      const again = yield* activate("shutdown", 10)
      expect(again.map((job) => job.processInstanceKey).sort()).toEqual([stuck1, stuck2, later].sort())
      expect(logs.lines.filter((line) => /^(ERROR|WARN)/.test(line))).toEqual([])
      expect(logs.lines).toContain(
        "INFO: job worker effect-camunda-worker (shutdown): 2 job(s) still in flight after the grace period of 5s: interrupting their handlers and returning the jobs"
      )
    }).pipe(Effect.provide(layer), Effect.provide(logs.layer))
  })

  it.effect("an activation outage of ten simulated minutes: a bounded number of requests, and the worker recovers by itself", () => {
    const { layer, recorder } = recordedEngine()
    return Effect.gen(function*() {
      yield* deploy("outage", "outage")
      const before = yield* start("outage")
      const { close, worker } = yield* startWorker({ type: "outage", handler: () => Effect.void })
      yield* until(Effect.map(worker.stats, (stats) => stats.completed === 1), "the job before the outage")
      expect(yield* stateOf(before)).toBe("COMPLETED")

      recorder.activationOutage = true
      const firstOfOutage = recorder.sent.length
      // the long poll pending when the outage began ends at its poll timeout (10 s); jobs created after that wait
      let second = 0
      for (; second < 11; second++) yield* tick("1 second")
      expect(sentOf(recorder, "activateJobs").at(-1)!.status).toBe(503)
      const during = yield* Effect.forEach([1, 2, 3], () => start("outage"))
      for (; second < 600; second++) yield* tick("1 second")
      const outageRequests = sentOf({ ...recorder, sent: recorder.sent.slice(firstOfOutage) }, "activateJobs")
      expect(yield* Effect.forEach(during, stateOf)).toEqual(["ACTIVE", "ACTIVE", "ACTIVE"])

      // Retry.activationBackoff waits at least half of min(100 ms × 2^n, 10 s) after the n-th failure:
      // the most requests that fit into 600 s (the long poll pending when it began was sent before)
      let bound = 1
      for (let n = 0, elapsed = 0; ; n++) {
        elapsed += Math.min(100 * 2 ** n, 10_000) / 2
        if (elapsed > 600_000) break
        bound++
      }
      expect(bound).toBe(126)
      expect(outageRequests.length).toBeLessThanOrEqual(bound)
      // and it never stalled: a request at least every 10 s (+ the 1 s steps of the test)
      expect(outageRequests.length).toBeGreaterThanOrEqual(600 / 11)
      expect(outageRequests.every((sent) => sent.status === 503)).toBe(true)
      expect((yield* worker.stats).activationFailures).toBe(outageRequests.length)

      // the outage ends: within the longest back-off (10 s) the jobs are done, without a restart
      recorder.activationOutage = false
      let waited = 0
      while ((yield* worker.stats).completed < 4) {
        expect(waited).toBeLessThanOrEqual(11)
        yield* tick("1 second")
        waited++
      }
      expect(yield* Effect.forEach(during, stateOf)).toEqual(["COMPLETED", "COMPLETED", "COMPLETED"])
      yield* close.pipe(Effect.fork)
      yield* TestClock.adjust("1 minute")
    }).pipe(Effect.provide(layer), quiet)
  })

  it.effect("extendTimeout keeps the job of a handler that runs 3× the job timeout: never handed out again, completed at the end", () => {
    const { layer, recorder } = recordedEngine()
    return Effect.gen(function*() {
      yield* deploy("long", "long")
      const instance = yield* start("long")
      const { close, worker } = yield* startWorker({
        type: "long",
        timeout: "10 seconds",
        extendTimeout: true,
        maxJobsActive: 1,
        handler: () => Effect.as(Effect.sleep("30 seconds"), { done: true })
      })
      yield* until(Effect.map(worker.inFlight, (n) => n === 1), "the job in flight")
      for (let second = 1; second <= 29; second++) {
        yield* tick("1 second")
        // another worker asking for it gets nothing: the lock never expired
        expect(yield* activate("long")).toEqual([])
      }
      yield* tick("1 second")
      yield* until(Effect.map(worker.stats, (stats) => stats.completed === 1), "the completion")
      expect(yield* stateOf(instance)).toBe("COMPLETED")
      expect(sentOf(recorder, "completeJob").map((sent) => sent.status)).toEqual([204])
      // default: extended 5 s before the lock expires, so every 5 s
      const updates = sentOf(recorder, "updateJob")
      expect(updates.length).toBeGreaterThanOrEqual(5)
      expect(updates.every((sent) => sent.status === 204 && sent.body.changeset.timeout === 10_000)).toBe(true)
      expect((yield* worker.stats).timeoutExtensions).toBe(updates.length)
      yield* close
    }).pipe(Effect.provide(layer))
  })

  it.effect("without extendTimeout the same handler loses its job at the timeout (control)", () => {
    const { layer } = recordedEngine()
    return Effect.gen(function*() {
      yield* deploy("lost", "lost")
      const instance = yield* start("lost")
      const { close, worker } = yield* startWorker({
        type: "lost",
        timeout: "10 seconds",
        maxJobsActive: 1,
        handler: () => Effect.sleep("30 seconds")
      })
      yield* until(Effect.map(worker.inFlight, (n) => n === 1), "the job in flight")
      for (let second = 1; second < 10; second++) yield* tick("1 second")
      expect(yield* activate("lost")).toEqual([])
      yield* tick("1 second")
      const [taken] = yield* activate("lost")
      expect(taken?.processInstanceKey).toBe(instance)
      yield* Effect.fork(close)
      yield* TestClock.adjust("1 minute")
    }).pipe(Effect.provide(layer), quiet)
  })

  it.effect("a span per job with its outcome, and the worker's metrics", () => {
    const { layer } = recordedEngine()
    return Effect.gen(function*() {
      const { spans, tracer } = yield* recordingTracer
      yield* deploy("observed", "observed")
      yield* start("observed", { ok: true })
      yield* start("observed", { ok: false })
      const tagged = <M extends Metric.Metric<any, any, any>>(metric: M) =>
        metric.pipe(Metric.tagged("job_type", "observed"), Metric.tagged("worker", "observer")) as M
      const { close, worker } = yield* startWorker({
        type: "observed",
        name: "observer",
        retryBackOff: "1 hour",
        handler: (job) =>
          Effect.zipRight(Effect.sleep("20 millis"), job.variables["ok"] === true ? Effect.void : JobWorker.fail({ message: "no" }))
      }).pipe(Effect.withTracer(tracer))
      yield* until(Effect.map(worker.inFlight, (n) => n === 2), "two jobs in flight")
      yield* tick("20 millis")
      yield* until(Effect.map(worker.stats, (stats) => stats.completed + stats.failed === 2), "two outcomes")

      const jobSpans = spans.filter((span) => span.name === "camunda.job")
      expect(jobSpans).toHaveLength(2)
      expect(jobSpans.map((span) => span.attributes.get("camunda.job.outcome")).sort()).toEqual(["completeJob", "failJob"])
      expect(jobSpans.every((span) => span.attributes.get("camunda.job.type") === "observed" && span.status._tag === "Ended")).toBe(true)
      expect(jobSpans.every((span) => span.kind === "consumer" && span.parent._tag === "None")).toBe(true)
      // the acknowledgement's operation span is a child of the job span
      const completeSpan = spans.find((span) => span.name === "camunda.completeJob")!
      expect(completeSpan.parent._tag === "Some" && jobSpans.some((span) => span.spanId === (completeSpan.parent as any).value.spanId))
        .toBe(true)

      expect((yield* Metric.value(tagged(JobWorker.metrics.activated))).count).toBe(2)
      expect((yield* Metric.value(tagged(JobWorker.metrics.completed))).count).toBe(1)
      expect((yield* Metric.value(tagged(JobWorker.metrics.failed))).count).toBe(1)
      expect((yield* Metric.value(tagged(JobWorker.metrics.errored))).count).toBe(0)
      expect((yield* Metric.value(tagged(JobWorker.metrics.inFlight))).value).toBe(0)
      const durations = yield* Metric.value(tagged(JobWorker.metrics.handlerDuration).pipe(Metric.tagged("time_unit", "milliseconds")))
      expect(durations.count).toBe(2)
      expect(durations.min).toBeGreaterThanOrEqual(20)
      yield* close
    }).pipe(Effect.provide(layer), quiet)
  })

  it.effect("with tracing off (Effect.withTracerEnabled(false)) jobs are worked without any span", () => {
    const { layer } = recordedEngine()
    return Effect.gen(function*() {
      const { spans, tracer } = yield* recordingTracer
      yield* deploy("untraced", "untraced")
      yield* start("untraced", {})
      const { close, worker } = yield* startWorker({ type: "untraced", handler: () => Effect.void }).pipe(
        Effect.withTracerEnabled(false),
        Effect.withTracer(tracer)
      )
      yield* until(Effect.map(worker.stats, (stats) => stats.completed === 1), "the job completed")
      expect(spans).toEqual([])
      yield* close
    }).pipe(Effect.provide(layer), quiet)
  })

  it.effect("JobWorker.layer runs the worker while the layer is in use", () => {
    const { layer, recorder } = recordedEngine()
    return Effect.gen(function*() {
      yield* deploy("layered", "layered")
      const instance = yield* start("layered")
      const done = yield* Deferred.make<void>()
      yield* Effect.scoped(
        Layer.build(JobWorker.layer({ type: "layered", handler: () => Effect.asVoid(Deferred.succeed(done, undefined)) })).pipe(
          Effect.zipRight(Deferred.await(done)),
          Effect.zipRight(until(Effect.map(stateOf(instance), (state) => state === "COMPLETED"), "the completion"))
        )
      )
      // released: no further activation
      const requests = sentOf(recorder, "activateJobs").length
      yield* start("layered")
      yield* Effect.repeatN(settle, 10)
      expect(sentOf(recorder, "activateJobs")).toHaveLength(requests)
    }).pipe(Effect.provide(layer))
  })

  it.effect("an acknowledgement that fails ambiguously (500) is repeated by the client's retry policy", () => {
    // a client whose policy allows 3 attempts without delays
    const { layer, recorder } = recordedEngine({}, { retry: Retry.policy({ maxAttempts: 3, jitter: "none", baseDelay: 0 }) })
    return Effect.gen(function*() {
      yield* deploy("ambiguous", "ambiguous")
      const instance = yield* start("ambiguous")
      const engine = yield* TestEngine.TestEngine
      yield* engine.failNext("completeJob", 1, 500)
      const { close, worker } = yield* startWorker({ type: "ambiguous", handler: () => Effect.void })
      yield* until(Effect.map(worker.stats, (stats) => stats.completed === 1), "the completion")
      expect(sentOf(recorder, "completeJob").map((sent) => sent.status)).toEqual([500, 204])
      expect(yield* stateOf(instance)).toBe("COMPLETED")
      expect((yield* worker.stats).acknowledgementFailures).toBe(0)
      yield* close
    }).pipe(Effect.provide(layer), quiet)
  })

  it("types: the handler's services are the worker's requirements; any error type is accepted", () => {
    class Payments extends Context.Tag("Payments")<Payments, { readonly charge: Effect.Effect<void> }>() {}
    const worker = JobWorker.make({
      type: "t",
      variables: Schema.Struct({ amount: Schema.Number }),
      handler: (job) => {
        expectTypeOf(job.variables).toEqualTypeOf<{ readonly amount: number }>()
        expectTypeOf(job.customHeaders).toEqualTypeOf<Record<string, unknown>>()
        return job.variables.amount > 100
          ? JobWorker.bpmnError({ code: "TOO_MUCH" })
          : job.variables.amount < 0
          ? JobWorker.fail({ message: "negative" })
          : Effect.flatMap(Payments, (payments) => Effect.as(payments.charge, { charged: true }))
      }
    })
    expectTypeOf(worker).toEqualTypeOf<Effect.Effect<JobWorker.JobWorker, never, CamundaClient.CamundaClient | Scope.Scope | Payments>>()
    expectTypeOf(JobWorker.layer({ type: "t", handler: () => Effect.void })).toEqualTypeOf<
      Layer.Layer<never, never, CamundaClient.CamundaClient>
    >()
    // @ts-expect-error a handler must succeed with an object of variables or nothing
    JobWorker.make({ type: "t", handler: () => Effect.succeed(42) })
  })

  it.scopedLive("over HTTP (TestEngine.serve, UndiciHttpClient): completes jobs, and closing aborts the pending long poll at once", () =>
    Effect.gen(function*() {
      const { url } = yield* TestEngine.serve({ port: 0 })
      const client = CamundaClient.layer({ restAddress: url }).pipe(Layer.provide(UndiciHttpClient.layer()))
      yield* Effect.gen(function*() {
        yield* deploy("served", "served")
        const first = yield* start("served")
        const { close, worker } = yield* startWorker({ type: "served", pollTimeout: "30 seconds", handler: () => Effect.succeed({ ok: true }) })
        yield* Effect.repeat(Effect.flatMap(Effect.sleep("20 millis"), () => stateOf(first)), { until: (state) => state === "COMPLETED", times: 250 })
        expect(yield* stateOf(first)).toBe("COMPLETED")
        // the worker now waits in a 30 s long poll; closing returns at once
        yield* Effect.sleep("100 millis")
        const started = Date.now()
        yield* close
        expect(Date.now() - started).toBeLessThan(2_000)
        expect((yield* worker.stats).completed).toBe(1)
        // the aborted poll took nothing: a job created now is there for the next activation
        yield* Effect.sleep("200 millis")
        const later = yield* start("served")
        const [job] = yield* activate("served")
        expect(job?.processInstanceKey).toBe(later)
      }).pipe(Effect.provide(client))
    }))

  it.effect("Retry.activationBackoff: 100 ms doubling to 10 s, jittered down to no less than half, Retry-After honoured, forever", () =>
    Effect.gen(function*() {
      const attempts: Array<number> = []
      const failing = Effect.flatMap(Clock.currentTimeMillis, (now) => {
        attempts.push(now)
        // the 12th failure asks for 45 s
        return Effect.fail(attempts.length === 12 ? { retryAfter: Duration.seconds(45) } : { title: "RESOURCE_EXHAUSTED" })
      })
      const fiber = yield* Effect.fork(Effect.retry(failing, Retry.activationBackoff))
      for (let i = 0; i < 400 && attempts.length < 30; i++) yield* TestClock.adjust("1 second")
      expect(attempts.length).toBeGreaterThanOrEqual(30)
      const delays = attempts.slice(1).map((at, n) => at - attempts[n]!)
      delays.forEach((delay, n) => {
        const nominal = Math.min(100 * 2 ** n, 10_000)
        if (n === 11) expect(delay).toBeGreaterThanOrEqual(45_000)
        else {
          expect(delay).toBeGreaterThanOrEqual(nominal / 2)
          expect(delay).toBeLessThanOrEqual(nominal)
        }
      })
      // it never gives up
      expect(fiber.unsafePoll()).toBeNull()
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("invalid options are a defect with a clear message", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(JobWorker.make({ type: "x", maxJobsActive: 0, handler: () => Effect.void })))
      expect(Exit.isFailure(exit) && String(exit.cause)).toContain("maxJobsActive must be a whole number ≥ 1")
      const before = yield* Effect.exit(
        Effect.scoped(JobWorker.make({ type: "x", timeout: "5 seconds", extendTimeout: { before: "5 seconds" }, handler: () => Effect.void }))
      )
      expect(Exit.isFailure(before) && String(before.cause)).toContain("must be shorter than the timeout")
    }).pipe(Effect.provide(recordedEngine().layer)))
})
