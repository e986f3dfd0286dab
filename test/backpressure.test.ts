/**
 * The adaptive concurrency gate: no limit while healthy, multiplicative shrink on
 * backpressure, additive recovery, a floor, a bounded queue with a typed error, one permit
 * per logical call across its retries, drain operations that never wait, interruptible
 * waiting, and observable state.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import type * as Tracer from "effect/Tracer"
import { Backpressure, CamundaClient, Job, Keys, ProcessInstance, Retry, UserTask } from "effect-camunda"
import * as CamundaError from "effect-camunda/CamundaError"
import { sampleSuccessBody } from "./support/mockHttp.js"
import { recordingTracer } from "./support/tracing.js"

/** One request the server holds until the test answers it (or drops it: a transport failure). */
interface Pending {
  readonly path: string
  readonly answer: (response: Response) => Effect.Effect<void>
  readonly drop: Effect.Effect<void>
}

/** A server that parks every request until the test answers it. */
const heldServer = Effect.gen(function*() {
  const pending: Array<Pending> = []
  const sent: Array<string> = []
  const client = HttpClient.make((request, url) =>
    Effect.flatMap(Deferred.make<Response, HttpClientError.RequestError>(), (deferred) => {
      sent.push(url.pathname)
      const entry: Pending = {
        path: url.pathname,
        answer: (response) => Effect.asVoid(Deferred.succeed(deferred, response)),
        drop: Effect.asVoid(
          Deferred.fail(deferred, new HttpClientError.RequestError({ request, reason: "Transport", cause: new Error("ECONNRESET") }))
        )
      }
      pending.push(entry)
      return Deferred.await(deferred).pipe(
        Effect.map((response) => HttpClientResponse.fromWeb(request, response)),
        // an aborted request leaves the server too
        Effect.onInterrupt(() => Effect.sync(() => pending.includes(entry) && pending.splice(pending.indexOf(entry), 1)))
      )
    })
  )
  return { pending, sent, layer: Layer.succeed(HttpClient.HttpClient, client) }
})

const created = () => sampleSuccessBody(ProcessInstance.createProcessInstance)

const exhausted = () =>
  new Response(
    JSON.stringify({ type: "about:blank", title: "RESOURCE_EXHAUSTED", status: 503, detail: "busy", instance: "/v2/process-instances" }),
    { status: 503, headers: { "content-type": "application/problem+json" } }
  )

const badRequest = () =>
  new Response(
    JSON.stringify({ type: "about:blank", title: "INVALID_ARGUMENT", status: 400, detail: "no such process", instance: "/v2/process-instances" }),
    { status: 400, headers: { "content-type": "application/problem+json" } }
  )

const start = ProcessInstance.createProcessInstance({ processDefinitionId: Keys.ProcessDefinitionId.make("order") })

/** Lets forked fibers and the held server's bookkeeping run. */
const settle = Effect.repeatN(Effect.yieldNow(), 20)

/** Settles until `condition` holds (a bounded number of macrotasks). */
const waitFor = <E, R>(condition: Effect.Effect<boolean, E, R>, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 200; i++) {
      if (yield* condition) return
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
    }
    return yield* Effect.dieMessage(`gave up waiting for ${what}`)
  })

/** Waits until the gate has seen `n` signals in all. */
const signalsSeen = (n: number) =>
  waitFor(Effect.flatMap(CamundaClient.CamundaClient, (client) => Effect.map(client.gate.state, (state) => state.signals >= n)), `${n} signals`)

const gateOf = Effect.map(CamundaClient.CamundaClient, (client) => client.gate)

const limitOf = Effect.flatMap(gateOf, (gate) => Effect.map(gate.state, (state) => Option.getOrUndefined(state.limit)))

/** Runs `test` against a client with `options` on the held server. */
const withHeldServer = <A, E>(
  options: Parameters<typeof CamundaClient.layer>[0],
  test: (server: Effect.Effect.Success<typeof heldServer>) => Effect.Effect<A, E, CamundaClient.CamundaClient>
) =>
  Effect.flatMap(heldServer, (server) =>
    Effect.provide(
      test(server),
      CamundaClient.layer({ restAddress: "http://camunda.test", retry: Retry.none, ...options }).pipe(Layer.provide(server.layer))
    ))

/** The gate's BALANCED profile with another start window. */
const slowStart = (startWindow: number) => ({ backpressure: { ...Backpressure.balanced, startWindow } })

/** The gate's BALANCED profile sending every burst at once: for the tests of how it shrinks and grows. */
const noStartWindow = { backpressure: { ...Backpressure.balanced, startWindow: undefined } }

/** How many requests are on the wire once `step` is done and the client has settled. */
const onTheWireAfter = <E, R>(server: { readonly pending: Array<Pending> }, step: Effect.Effect<void, E, R>) =>
  Effect.zipRight(Effect.zipRight(step, settle), Effect.sync(() => server.pending.length))

/**
 * How many requests are on the wire at first, then after each round in which every held
 * request is answered with success, until none is left.
 */
const onTheWireByRound = (server: { readonly pending: Array<Pending> }) =>
  Effect.gen(function*() {
    const onTheWire: Array<number> = [yield* onTheWireAfter(server, Effect.void)]
    while (server.pending.length > 0) {
      onTheWire.push(yield* onTheWireAfter(server, answer(server, server.pending.length, created)))
    }
    return onTheWire
  })

/** Answers the first `n` held requests with `response`. */
const answer = (server: { readonly pending: Array<Pending> }, n: number, response: () => Response) =>
  Effect.suspend(() => Effect.forEach(server.pending.splice(0, n), (entry) => entry.answer(response()), { discard: true }))

describe("Backpressure gate", () => {
  it.scoped("sets no limit while the cluster is healthy: a burst is all on the wire after a few round trips", () =>
    withHeldServer({}, (server) =>
      Effect.gen(function*() {
        // the default start window (16) doubles with each round trip answered
        const burst = yield* Effect.forEach(Array.from({ length: 200 }), () => Effect.fork(start))
        expect(yield* onTheWireByRound(server)).toEqual([16, 32, 64, 88, 0])
        yield* Fiber.joinAll(burst)
        expect(yield* limitOf).toBeUndefined()
        // once the cluster has served 88 at once, a burst of up to twice that goes out at once
        const next = yield* Effect.forEach(Array.from({ length: 176 }), () => Effect.fork(start))
        expect(yield* onTheWireAfter(server, Effect.void)).toBe(176)
        yield* answer(server, 176, created)
        yield* Fiber.joinAll(next)
        expect(yield* limitOf).toBeUndefined()
        expect(yield* Effect.flatMap(gateOf, (gate) => gate.inFlight)).toBe(0)
      })))

  it.scoped("without a start window (startWindow: undefined) the whole burst goes at once", () =>
    withHeldServer(noStartWindow, (server) =>
      Effect.gen(function*() {
        const fibers = yield* Effect.forEach(Array.from({ length: 200 }), () => Effect.fork(start))
        expect(yield* onTheWireAfter(server, Effect.void)).toBe(200)
        expect(yield* limitOf).toBeUndefined()
        yield* answer(server, 200, created)
        yield* Fiber.joinAll(fibers)
        expect(yield* Effect.flatMap(gateOf, (gate) => gate.inFlight)).toBe(0)
      })))

  it.scoped("slow start (startWindow): an unlimited gate lets the window out, doubling with each round trip served", () =>
    withHeldServer(slowStart(4), (server) =>
      Effect.gen(function*() {
        const fibers = yield* Effect.forEach(Array.from({ length: 20 }), () => Effect.fork(start))
        // 4 at first; every round trip served doubles the window: 8, then 16
        expect(yield* onTheWireByRound(server)).toEqual([4, 8, 8, 0])
        expect(server.sent).toHaveLength(20)
        // a window, not a limit: the gate stays unlimited and nobody was refused
        expect(yield* limitOf).toBeUndefined()
        yield* Fiber.joinAll(fibers)
      })))

  it.scoped("slow start: an answer that is not a success (400) also shows the cluster served that many", () =>
    withHeldServer(slowStart(2), (server) =>
      Effect.gen(function*() {
        const fibers = yield* Effect.forEach(Array.from({ length: 8 }), () => Effect.fork(Effect.either(start)))
        expect(yield* onTheWireAfter(server, Effect.void)).toBe(2)
        // two answers without a refusal, neither a success: the window becomes 4
        expect(yield* onTheWireAfter(server, answer(server, 2, badRequest))).toBe(4)
        expect(yield* onTheWireAfter(server, answer(server, 4, created))).toBe(2)
        yield* answer(server, 2, created)
        yield* Fiber.joinAll(fibers)
      })))

  it.scoped("slow start: a transport failure is no answer, the window stays", () =>
    withHeldServer(slowStart(2), (server) =>
      Effect.gen(function*() {
        const fibers = yield* Effect.forEach(Array.from({ length: 6 }), () => Effect.fork(Effect.either(start)))
        expect(yield* onTheWireAfter(server, Effect.void)).toBe(2)
        // two more go out in place of the two that failed, not four
        const dropTwo = Effect.suspend(() => Effect.forEach(server.pending.splice(0, 2), (entry) => entry.drop, { discard: true }))
        expect(yield* onTheWireAfter(server, dropTwo)).toBe(2)
        expect(yield* onTheWireAfter(server, answer(server, 2, created))).toBe(2)
        yield* answer(server, 2, created)
        const outcomes = yield* Fiber.joinAll(fibers)
        expect(outcomes.filter((outcome) => outcome._tag === "Left").map((outcome) => outcome.left._tag)).toEqual([
          "TransportError",
          "TransportError"
        ])
      })))

  it.scoped("shrinks multiplicatively on backpressure, once per generation, never below the floor", () =>
    withHeldServer(noStartWindow, (server) =>
      Effect.gen(function*() {
        const fibers = yield* Effect.forEach(Array.from({ length: 50 }), () => Effect.fork(Effect.either(start)))
        yield* settle
        // 50 on the wire when the cluster first says no: the limit becomes 50 × 0.9
        yield* answer(server, 1, exhausted)
        yield* signalsSeen(1)
        expect(yield* limitOf).toBe(45)
        // the rest of that first burst comes back while the wire empties: 90 % of the 40 left
        yield* answer(server, 9, exhausted)
        yield* signalsSeen(10)
        expect(yield* limitOf).toBe(36)
        yield* answer(server, 40, created)
        yield* Fiber.joinAll(fibers)

        // later, one decrease per generation: each round fills the gate and is told off twice,
        // and the second refusal (sent before the decrease) says nothing new
        const limits: Array<number> = []
        let limit = 36
        let signals = 10
        while (limits.at(-1) !== 1 || limits.at(-2) !== 1) {
          const round = yield* Effect.forEach(Array.from({ length: limit }), () => Effect.fork(Effect.either(start)))
          yield* settle
          expect(server.pending.length).toBe(limit)
          const refusals = Math.min(2, limit)
          yield* answer(server, 1, exhausted)
          yield* signalsSeen(signals + 1)
          yield* answer(server, refusals - 1, exhausted)
          yield* signalsSeen(signals += refusals)
          yield* answer(server, limit - refusals, created)
          yield* Fiber.joinAll(round)
          limit = (yield* limitOf)!
          limits.push(limit)
        }
        expect(limits).toEqual([32, 28, 25, 22, 19, 17, 15, 13, 11, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1])
        const state = yield* Effect.flatMap(gateOf, (gate) => gate.state)
        expect(state.signals).toBe(signals)
      })))

  it.scoped("a refusal of a call sent above the limit the first burst's refusals have lowered since does not shrink it again", () =>
    withHeldServer(noStartWindow, (server) =>
      Effect.gen(function*() {
        const burst = yield* Effect.forEach(Array.from({ length: 50 }), () => Effect.fork(Effect.either(start)))
        yield* settle
        yield* answer(server, 1, exhausted)
        yield* signalsSeen(1)
        expect(yield* limitOf).toBe(45)
        // 20 of the burst are served: 10 later calls go out under the limit of 45, 39 on the wire
        const later = yield* Effect.forEach(Array.from({ length: 10 }), () => Effect.fork(Effect.either(start)))
        expect(yield* onTheWireAfter(server, answer(server, 20, created))).toBe(39)
        // the rest of the first burst's refusals lower the limit below what the later calls went out with
        yield* answer(server, 9, exhausted)
        yield* signalsSeen(10)
        const lowered = (yield* limitOf)!
        expect(lowered).toBeLessThan(30)
        // a later call refused: counted, but it went out under 45 and says nothing about the limit now
        const laterOne = server.pending.splice(20, 1)[0]!
        yield* laterOne.answer(exhausted())
        yield* signalsSeen(11)
        expect(yield* limitOf).toBe(lowered)
        yield* answer(server, server.pending.length, created)
        yield* Fiber.joinAll(burst)
        yield* Fiber.joinAll(later)
      })))

  it.scoped("recovers fast up to where the cluster said no, probes beyond slowly, lifts the limit after a quiet period", () =>
    withHeldServer(noStartWindow, (server) =>
      Effect.gen(function*() {
        /** `n` calls at once, all answered with success. */
        const succeed = (n: number) =>
          Effect.gen(function*() {
            const fibers = yield* Effect.forEach(Array.from({ length: n }), () => Effect.fork(start))
            yield* settle
            yield* answer(server, n, created)
            yield* Fiber.joinAll(fibers)
          })
        // refused at 20 on the wire: 18
        const first = yield* Effect.forEach(Array.from({ length: 20 }), () => Effect.fork(Effect.either(start)))
        yield* settle
        yield* answer(server, 1, exhausted)
        yield* signalsSeen(1)
        yield* answer(server, 19, created)
        yield* Fiber.joinAll(first)
        expect(yield* limitOf).toBe(18)
        // the successes of calls sent before the decrease do not count; a window of 18 later ones adds a permit
        yield* succeed(17)
        expect(yield* limitOf).toBe(18)
        yield* succeed(1)
        expect(yield* limitOf).toBe(19)
        // 19 is just below where the cluster said no: the next permit only after the probe interval
        yield* succeed(19)
        yield* succeed(19)
        expect(yield* limitOf).toBe(19)
        yield* TestClock.adjust("2 seconds")
        yield* succeed(19)
        expect(yield* limitOf).toBe(20)
        yield* TestClock.adjust("30 seconds")
        yield* succeed(1)
        expect(yield* limitOf).toBeUndefined()
      })))

  it.scoped("queues calls beyond the limit and lets them in as permits come back", () =>
    withHeldServer({}, (server) =>
      Effect.gen(function*() {
        yield* limitTo(server, 2)
        const fibers = yield* Effect.forEach(Array.from({ length: 5 }), () => Effect.fork(start))
        yield* settle
        expect(server.pending.length).toBe(2)
        expect((yield* Effect.flatMap(gateOf, (gate) => gate.state)).waiting).toBe(3)
        while (server.pending.length > 0) {
          yield* answer(server, 1, created)
          yield* settle
          // never more on the wire than the limit, which grows by one per window of successes
          expect(server.pending.length).toBeLessThanOrEqual((yield* limitOf)!)
        }
        yield* Fiber.joinAll(fibers)
        expect((yield* Effect.flatMap(gateOf, (gate) => gate.state)).waiting).toBe(0)
      })))

  it.scoped("refuses a call with BackpressureQueueFull when the queue is full, sending nothing", () =>
    withHeldServer({ backpressure: { ...Backpressure.balanced, maxWaiters: 2 } }, (server) =>
      Effect.gen(function*() {
        yield* limitTo(server, 1)
        const held = yield* Effect.forEach(Array.from({ length: 3 }), () => Effect.fork(start))
        yield* settle
        const sentBefore = server.sent.length
        const refused = yield* Effect.flip(start)
        expect(refused).toBeInstanceOf(CamundaError.BackpressureQueueFull)
        expect(refused._tag).toBe("BackpressureQueueFull")
        expect(refused.message).toBe(
          "BackpressureQueueFull [createProcessInstance]: 2 calls already wait for one of 1 permits"
        )
        expect(server.sent.length).toBe(sentBefore)
        for (let i = 0; i < 3; i++) {
          yield* answer(server, 1, created)
          yield* settle
        }
        yield* Fiber.joinAll(held)
      })))

  it.scoped("holds one permit per logical call across its retries", () =>
    withHeldServer({ retry: Retry.policy({ maxAttempts: 5, jitter: "none" }) }, (server) =>
      Effect.gen(function*() {
        yield* limitTo(server, 1)
        const retried = yield* Effect.fork(start)
        const queued = yield* Effect.fork(start)
        yield* settle
        expect(server.pending.length).toBe(1)
        // the first call is told to back off: it keeps its permit while it waits, the other one still queues
        yield* answer(server, 1, exhausted)
        yield* signalsSeen(2)
        yield* settle
        expect(server.pending.length).toBe(0)
        expect((yield* Effect.flatMap(gateOf, (gate) => gate.state)).waiting).toBe(1)
        // the back-off ends on the clock; the retry goes out, the queued call still waits
        yield* waitFor(Effect.zipRight(TestClock.adjust("10 millis"), Effect.sync(() => server.pending.length === 1)), "the retry")
        expect((yield* Effect.flatMap(gateOf, (gate) => gate.state)).waiting).toBe(1)
        yield* answer(server, 1, created)
        yield* Fiber.join(retried)
        yield* settle
        expect(server.pending.length).toBe(1)
        yield* answer(server, 1, created)
        yield* Fiber.join(queued)
      })))

  it.scoped("after a decrease, the retries of calls in excess go on the wire only as earlier attempts come back", () =>
    withHeldServer({ retry: Retry.policy({ maxAttempts: 5, jitter: "none" }) }, (server) =>
      Effect.gen(function*() {
        yield* limitTo(server, 10)
        const calls = yield* Effect.forEach(Array.from({ length: 10 }), () => Effect.fork(start))
        yield* settle
        expect(server.pending.length).toBe(10)
        // three refusals: the limit becomes 9; ten calls still hold permits, seven attempts are on the wire
        yield* answer(server, 3, exhausted)
        yield* signalsSeen(4)
        expect(yield* limitOf).toBe(9)
        // after their back-off only two of the three retries fit under the limit
        yield* TestClock.adjust("100 millis")
        yield* waitFor(Effect.sync(() => server.pending.length === 9), "two retries")
        yield* settle
        expect(server.pending.length).toBe(9)
        // one answer frees a place on the wire for the third
        yield* answer(server, 1, created)
        yield* settle
        expect(server.pending.length).toBe(9)
        while (server.pending.length > 0) {
          yield* answer(server, server.pending.length, created)
          yield* settle
        }
        yield* Fiber.joinAll(calls)
      })))

  it.scoped("lets calls that drain work, job activation and reads through a full gate", () =>
    withHeldServer({}, (server) =>
      Effect.gen(function*() {
        yield* limitTo(server, 1)
        const holder = yield* Effect.fork(start)
        const waiting = yield* Effect.fork(start)
        yield* settle
        expect(server.pending.length).toBe(1)
        const jobKey = Keys.JobKey.make("2251799813685260")
        const drains = yield* Effect.fork(
          Effect.all([
            Job.completeJob({ jobKey }),
            Job.failJob({ jobKey, retries: 1 }),
            Job.throwJobError({ jobKey, errorCode: "E" }),
            UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("2251799813685261") }),
            Job.activateJobs({ type: "t", maxJobsToActivate: 1, timeout: 1000 }),
            UserTask.searchUserTasks()
          ], { concurrency: "unbounded" })
        )
        yield* settle
        expect(server.pending.map((entry) => entry.path).sort()).toEqual([
          "/v2/jobs/2251799813685260/completion",
          "/v2/jobs/2251799813685260/error",
          "/v2/jobs/2251799813685260/failure",
          "/v2/jobs/activation",
          "/v2/process-instances",
          "/v2/user-tasks/2251799813685261/completion",
          "/v2/user-tasks/search"
        ])
        yield* Fiber.interrupt(drains)
        yield* answer(server, 1, created)
        yield* settle
        yield* answer(server, 1, created)
        yield* Fiber.join(holder)
        yield* Fiber.join(waiting)
      })))

  it.scoped("waiting is interruptible and an interrupted call gives its permit back", () =>
    withHeldServer({}, (server) =>
      Effect.gen(function*() {
        yield* limitTo(server, 1)
        const running = yield* Effect.fork(start)
        const waiting = yield* Effect.fork(start)
        yield* settle
        const gate = yield* gateOf
        expect((yield* gate.state).waiting).toBe(1)
        yield* Fiber.interrupt(waiting)
        expect((yield* gate.state).waiting).toBe(0)
        expect(yield* gate.inFlight).toBe(1)
        // interrupting the running call aborts its request and returns the permit
        yield* Fiber.interrupt(running)
        expect(yield* gate.inFlight).toBe(0)
        expect(server.pending.length).toBe(0)
        const next = yield* Effect.fork(start)
        yield* settle
        expect(server.pending.length).toBe(1)
        yield* answer(server, 1, created)
        yield* Fiber.join(next)
      })))

  it.scoped("a wait for a permit and a retry are events on the operation's span", () =>
    withHeldServer({ retry: Retry.policy({ maxAttempts: 3, jitter: "none" }) }, (server) =>
      Effect.gen(function*() {
        yield* limitTo(server, 1)
        const { spans, tracer } = yield* recordingTracer
        const first = yield* Effect.fork(Effect.withTracer(start, tracer))
        const second = yield* Effect.fork(Effect.withTracer(start, tracer))
        yield* settle
        yield* answer(server, 1, exhausted)
        yield* waitFor(Effect.zipRight(TestClock.adjust("10 millis"), Effect.sync(() => server.pending.length === 1)), "the retry")
        yield* answer(server, 1, created)
        yield* waitFor(Effect.sync(() => server.pending.length === 1), "the second call")
        yield* answer(server, 1, created)
        yield* Fiber.join(first)
        yield* Fiber.join(second)
        const eventsOf = (span: Tracer.Span) => (span as unknown as { events: Array<[string, bigint, Record<string, unknown>]> }).events
        const [retried, waited] = spans.filter((span) => span.name === "camunda.createProcessInstance")
        expect(eventsOf(retried!).map(([name]) => name)).toEqual(["camunda.retry"])
        expect(eventsOf(waited!).map(([name, , attributes]) => [name, attributes])).toEqual([
          ["camunda.backpressure.wait", { "camunda.backpressure.position": 1, "camunda.backpressure.limit": 1 }]
        ])
      })))

  it.scoped("LEGACY observes and counts, and never limits", () =>
    withHeldServer({ backpressure: "LEGACY" }, (server) =>
      Effect.gen(function*() {
        const signalsBefore = (yield* Metric.value(Backpressure.metrics.signals)).count
        const fibers = yield* Effect.forEach(Array.from({ length: 10 }), () => Effect.fork(Effect.either(start)))
        yield* settle
        yield* answer(server, 10, exhausted)
        yield* Fiber.joinAll(fibers)
        const state = yield* Effect.flatMap(gateOf, (gate) => gate.state)
        expect(state).toMatchObject({ profile: "LEGACY", signals: 10, waiting: 0 })
        expect(Option.isNone(state.limit)).toBe(true)
        expect((yield* Metric.value(Backpressure.metrics.signals)).count - signalsBefore).toBe(10)
      })))

  it.scoped("publishes every change of its state as a stream", () =>
    withHeldServer({}, (server) =>
      Effect.gen(function*() {
        const gate = yield* gateOf
        const seen = yield* Effect.fork(Stream.runCollect(Stream.take(Backpressure.changes(gate), 2)))
        yield* settle
        const fibers = yield* Effect.forEach(Array.from({ length: 10 }), () => Effect.fork(Effect.either(start)))
        yield* settle
        yield* answer(server, 1, exhausted)
        yield* settle
        const states = Chunk.toReadonlyArray(yield* Fiber.join(seen))
        expect(states[0]).toMatchObject({ limit: Option.none(), signals: 0 })
        expect(states.at(-1)).toMatchObject({ limit: Option.some(9), signals: 1 })
        yield* answer(server, 9, created)
        yield* Fiber.joinAll(fibers)
      })))
})

/** Brings the gate's limit down to `n` (from `n / 0.9` calls on the wire) and leaves nothing in flight. */
const limitTo = (server: { readonly pending: Array<Pending> }, n: number) =>
  Effect.gen(function*() {
    const inFlight = Math.ceil(n / 0.9)
    const fibers = yield* Effect.forEach(
      Array.from({ length: inFlight }),
      () => Effect.fork(Effect.exit(CamundaClient.withRetry(start, Retry.none)))
    )
    yield* settle
    const signals = (yield* Effect.flatMap(gateOf, (gate) => gate.state)).signals
    yield* answer(server, 1, exhausted)
    yield* signalsSeen(signals + 1)
    yield* answer(server, inFlight - 1, created)
    const exits = yield* Fiber.joinAll(fibers)
    expect(exits.filter(Exit.isFailure).length).toBe(1)
    expect(yield* limitOf).toBe(n)
  })
