/**
 * The fault suite: a real HTTP server on loopback, scripted per test, and the client on
 * `NodeHttpClient.layerUndici`. Each test is a row of RELIABILITY.md.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import { CamundaClient, Cluster, Keys, ProcessInstance, Retry, UserTask } from "effect-camunda"
import type * as CamundaConfig from "effect-camunda/CamundaConfig"
import { hang, jsonAnswer, loopback, noContent, problemAnswer, reset, type Script } from "./support/loopback.js"
import { topologyBody } from "./support/mockHttp.js"

const fast = Retry.policy({ baseDelay: "10 millis", maxDelay: "50 millis", jitter: "none" })

/** Runs `program` against a loopback server answering with `scripts`. */
const against = <A, E>(
  scripts: ReadonlyArray<Script>,
  program: Effect.Effect<A, E, CamundaClient.CamundaClient>,
  options: CamundaConfig.Options = {}
) =>
  Effect.gen(function*() {
    const server = yield* loopback(scripts)
    const result = yield* program.pipe(
      Effect.either,
      Effect.provide(CamundaClient.layer({ restAddress: server.url, retry: fast, ...options }).pipe(Layer.provide(NodeHttpClient.layerUndici)))
    )
    return { result, server }
  })

const complete = UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("1") })
const exhausted = problemAnswer(503, "RESOURCE_EXHAUSTED")

describe("fault suite (loopback HTTP server)", () => {
  it.scopedLive("503 RESOURCE_EXHAUSTED three times, then success: the command succeeds on the 4th attempt", () =>
    Effect.gen(function*() {
      const { result, server } = yield* against([exhausted, exhausted, exhausted, noContent], complete)
      expect(result._tag).toBe("Right")
      expect(server.arrivals).toHaveLength(4)
    }))

  it.scopedLive("429 with Retry-After in seconds: the next attempt waits at least that long", () =>
    Effect.gen(function*() {
      const { result, server } = yield* against([problemAnswer(429, "RESOURCE_EXHAUSTED", { headers: { "retry-after": "1" } }), noContent], complete)
      expect(result._tag).toBe("Right")
      expect(server.arrivals[1]!.at - server.arrivals[0]!.at).toBeGreaterThanOrEqual(950)
    }))

  it.scopedLive("429 with Retry-After as an HTTP date: the next attempt waits until then", () =>
    Effect.gen(function*() {
      const until = () => new Date(Date.now() + 2_000).toUTCString()
      const { result, server } = yield* against(
        [(request, response) => problemAnswer(429, "RESOURCE_EXHAUSTED", { headers: { "retry-after": until() } })(request, response), noContent],
        complete
      )
      expect(result._tag).toBe("Right")
      // an HTTP date has whole seconds: "now + 2 s" is at least 1 s away
      expect(server.arrivals[1]!.at - server.arrivals[0]!.at).toBeGreaterThanOrEqual(950)
    }))

  it.scopedLive("500 with RESOURCE_EXHAUSTED in its detail is backpressure: retried", () =>
    Effect.gen(function*() {
      const { result, server } = yield* against([problemAnswer(500, "Internal Server Error", { detail: "RESOURCE_EXHAUSTED" }), noContent], complete)
      expect(result._tag).toBe("Right")
      expect(server.arrivals).toHaveLength(2)
    }))

  for (const [status, tag] of [[500, "InternalServerError"], [502, "UnexpectedStatus"], [504, "GatewayTimeout"]] as const) {
    it.scopedLive(`plain ${status} on a command: one attempt, ${tag}`, () =>
      Effect.gen(function*() {
        const { result, server } = yield* against([problemAnswer(status, "UNAVAILABLE"), noContent], complete, {
          retry: Retry.policy({ ...fast, retryTransientReads: true })
        })
        expect(result._tag === "Left" && result.left._tag).toBe(tag)
        expect(server.arrivals).toHaveLength(1)
      }))
  }

  it.scopedLive("connection reset before any answer on a command: not repeated, TransportError", () =>
    Effect.gen(function*() {
      const { result, server } = yield* against([reset, noContent], complete, { retry: Retry.policy({ ...fast, retryTransientReads: true }) })
      expect(result._tag === "Left" && result.left).toMatchObject({ _tag: "TransportError", reason: "Transport" })
      expect(server.arrivals).toHaveLength(1)
    }))

  it.scopedLive("connection reset on a read with retryTransientReads: repeated, succeeds", () =>
    Effect.gen(function*() {
      const { result, server } = yield* against([reset, jsonAnswer(topologyBody)], Cluster.getTopology(), {
        retry: Retry.policy({ ...fast, retryTransientReads: true })
      })
      expect(result._tag).toBe("Right")
      expect(server.arrivals).toHaveLength(2)
    }))

  it.scopedLive("a server slower than the request timeout: TransportError Timeout, the connection is closed", () =>
    Effect.gen(function*() {
      const { result, server } = yield* against([hang], complete, { requestTimeout: "300 millis" })
      expect(result._tag === "Left" && result.left).toMatchObject({ _tag: "TransportError", reason: "Timeout" })
      yield* Effect.sleep("100 millis")
      expect(server.abandoned).toEqual(["/v2/user-tasks/1/completion"])
    }))

  it.scopedLive("malformed JSON in a success answer: DecodeError with the body", () =>
    Effect.gen(function*() {
      const { result } = yield* against([jsonAnswer("{\"brokers\": [", true)], Cluster.getTopology())
      expect(result._tag === "Left" && result.left).toMatchObject({ _tag: "DecodeError", body: "{\"brokers\": [" })
    }))

  it.scopedLive("interruption mid-request: the server sees the connection close", () =>
    Effect.gen(function*() {
      const server = yield* loopback([hang])
      const fiber = yield* complete.pipe(
        Effect.provide(CamundaClient.layer({ restAddress: server.url }).pipe(Layer.provide(NodeHttpClient.layerUndici))),
        Effect.fork
      )
      while (server.arrivals.length === 0) yield* Effect.sleep("10 millis")
      yield* Fiber.interrupt(fiber)
      yield* Effect.sleep("100 millis")
      expect(server.abandoned).toEqual(["/v2/user-tasks/1/completion"])
    }))

  it.scopedLive("interruption mid-request of a gated command: the connection closes and the permit is back", () =>
    Effect.gen(function*() {
      const server = yield* loopback([hang])
      yield* Effect.gen(function*() {
        const { gate } = yield* CamundaClient.CamundaClient
        const fiber = yield* Effect.fork(
          ProcessInstance.createProcessInstance({ processDefinitionId: Keys.ProcessDefinitionId.make("order") })
        )
        while (server.arrivals.length === 0) yield* Effect.sleep("10 millis")
        expect(yield* gate.inFlight).toBe(1)
        yield* Fiber.interrupt(fiber)
        expect(yield* gate.inFlight).toBe(0)
        yield* Effect.sleep("100 millis")
        expect(server.abandoned).toEqual(["/v2/process-instances"])
      }).pipe(Effect.provide(CamundaClient.layer({ restAddress: server.url }).pipe(Layer.provide(NodeHttpClient.layerUndici))))
    }))
})
