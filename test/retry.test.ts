/**
 * Retries on backpressure, driven by TestClock: when each attempt goes out, the cap,
 * Retry-After, exhaustion, what is never retried, and the per-call override.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { CamundaClient, Cluster, Keys, Retry, UserTask } from "effect-camunda"
import { topologyBody } from "./support/mockHttp.js"
import { runWithClock } from "./support/clock.js"

type Answer = () => Response

const problem = (status: number, title: string, headers: Record<string, string> = {}, detail?: string): Answer => () =>
  new Response(JSON.stringify({ type: "about:blank", title, status, ...(detail === undefined ? {} : { detail }) }), {
    status,
    headers: { "content-type": "application/problem+json", ...headers }
  })
const noContent: Answer = () => new Response(null, { status: 204 })
const exhausted = problem(503, "RESOURCE_EXHAUSTED")

/** A client whose answers are scripted in order (the last repeats), recording each attempt's time on the Clock. */
const scripted = (answers: ReadonlyArray<Answer>, retry: Retry.Policy | undefined) => {
  const times: Array<number> = []
  const http = HttpClient.make((request) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      times.push(now)
      return HttpClientResponse.fromWeb(request, answers[Math.min(times.length - 1, answers.length - 1)]!())
    })
  )
  const layer = CamundaClient.layer({ restAddress: "http://camunda.test", ...(retry === undefined ? {} : { retry }) }).pipe(
    Layer.provide(Layer.succeed(HttpClient.HttpClient, http))
  )
  return { times, layer }
}

const exact = (settings: Parameters<typeof Retry.policy>[0]) => Retry.policy({ jitter: "none", ...settings })

const complete = UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("1") })


describe("backpressure retry", () => {
  it.effect("attempts go out at base, 2×base, 4×base … after each other", () => {
    const { layer, times } = scripted([exhausted, exhausted, exhausted, noContent], exact({ baseDelay: "100 millis" }))
    return Effect.gen(function*() {
      const result = yield* runWithClock(complete, "10 millis")
      expect(result._tag).toBe("Right")
      expect(times).toEqual([0, 100, 300, 700])
    }).pipe(Effect.provide(layer))
  })

  it.effect("delays are capped at maxDelay", () => {
    const { layer, times } = scripted([exhausted, exhausted, exhausted, exhausted, noContent], exact({ baseDelay: "100 millis", maxDelay: "250 millis" }))
    return Effect.gen(function*() {
      yield* runWithClock(complete, "10 millis")
      expect(times).toEqual([0, 100, 300, 550, 800])
    }).pipe(Effect.provide(layer))
  })

  it.effect("never sooner than Retry-After, in seconds or as an HTTP date", () => {
    const { layer, times } = scripted(
      [problem(429, "RESOURCE_EXHAUSTED", { "retry-after": "2" }), problem(429, "RESOURCE_EXHAUSTED", { "retry-after": new Date(5_000).toUTCString() }), noContent],
      exact({ baseDelay: "100 millis" })
    )
    return Effect.gen(function*() {
      yield* runWithClock(complete, "100 millis")
      expect(times).toEqual([0, 2_000, 5_000])
    }).pipe(Effect.provide(layer))
  })

  it.effect("exhaustion yields the typed error after maxAttempts attempts", () => {
    const { layer, times } = scripted([exhausted], exact({ maxAttempts: 3 }))
    return Effect.gen(function*() {
      const result = yield* runWithClock(complete)
      expect(result._tag).toBe("Left")
      if (result._tag === "Left") expect(result.left).toMatchObject({ _tag: "ServiceUnavailable", title: "RESOURCE_EXHAUSTED" })
      expect(times).toHaveLength(3)
    }).pipe(Effect.provide(layer))
  })

  it.effect("500 with RESOURCE_EXHAUSTED in its detail is backpressure (servers 8.8.0–8.8.2)", () => {
    const { layer, times } = scripted([problem(500, "Internal Server Error", {}, "RESOURCE_EXHAUSTED: partition full"), noContent], exact({}))
    return Effect.gen(function*() {
      expect((yield* runWithClock(complete))._tag).toBe("Right")
      expect(times).toHaveLength(2)
    }).pipe(Effect.provide(layer))
  })

  it.effect("the full-jitter default waits somewhere in [0, delay]", () => {
    const { layer, times } = scripted([exhausted, exhausted, noContent], undefined)
    return Effect.gen(function*() {
      expect((yield* runWithClock(complete, "5 millis"))._tag).toBe("Right")
      expect(times).toHaveLength(3)
      expect(times[1]! - times[0]!).toBeLessThanOrEqual(105)
      expect(times[2]! - times[1]!).toBeLessThanOrEqual(205)
    }).pipe(Effect.provide(layer))
  })
})

describe("what is never retried", () => {
  for (const [status, tag] of [[500, "InternalServerError"], [504, "GatewayTimeout"]] as const) {
    it.effect(`${status} on a command: one attempt, the typed error`, () => {
      const { layer, times } = scripted([problem(status, "INTERNAL"), noContent], exact({ retryTransientReads: true }))
      return Effect.gen(function*() {
        const result = yield* runWithClock(complete)
        expect(result._tag === "Left" && result.left._tag).toBe(tag)
        expect(times).toHaveLength(1)
      }).pipe(Effect.provide(layer))
    })
  }

  it.effect("a 500 on a read is retried only when the policy opts in", () => {
    const optedIn = scripted([problem(500, "INTERNAL"), () => Response.json(topologyBody)], exact({ retryTransientReads: true }))
    const notOptedIn = scripted([problem(500, "INTERNAL"), () => Response.json(topologyBody)], exact({}))
    return Effect.gen(function*() {
      expect((yield* runWithClock(Effect.provide(Cluster.getTopology(), optedIn.layer)))._tag).toBe("Right")
      expect(optedIn.times).toHaveLength(2)
      expect((yield* runWithClock(Effect.provide(Cluster.getTopology(), notOptedIn.layer)))._tag).toBe("Left")
      expect(notOptedIn.times).toHaveLength(1)
    })
  })
})

describe("configuration", () => {
  it.effect("CamundaClient.withRetry overrides the client's policy for one call, without rebuilding it", () => {
    const { layer, times } = scripted([exhausted, exhausted, noContent], undefined)
    return Effect.gen(function*() {
      const once = yield* runWithClock(CamundaClient.withRetry(complete, Retry.none))
      expect(once._tag).toBe("Left")
      expect(times).toHaveLength(1)
      const retried = yield* runWithClock(complete.pipe(CamundaClient.withRetry(exact({ maxAttempts: 2 }))))
      expect(retried._tag).toBe("Right")
      expect(times).toHaveLength(3)
    }).pipe(Effect.provide(layer))
  })

  it.effect("layerConfig reads CAMUNDA_SDK_HTTP_RETRY_*", () =>
    Effect.gen(function*() {
      const client = yield* CamundaClient.CamundaClient
      expect(client.config.retry.maxAttempts).toBe(4)
      expect(Duration.toMillis(client.config.retry.baseDelay)).toBe(250)
      expect(Duration.toMillis(client.config.retry.maxDelay)).toBe(2_000)
    }).pipe(
      Effect.provide(CamundaClient.layerConfig().pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, HttpClient.make(() => Effect.die("unused")))))),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([
        ["CAMUNDA_SDK_HTTP_RETRY_MAX_ATTEMPTS", "4"],
        ["CAMUNDA_SDK_HTTP_RETRY_BASE_DELAY_MS", "250"],
        ["CAMUNDA_SDK_HTTP_RETRY_MAX_DELAY_MS", "2000"]
      ])))
    ))

  it("isBackpressure classifies what 8.6–8.9 servers answer", () => {
    expect(Retry.isBackpressure({ _tag: "TooManyRequests" } as never)).toBe(true)
    expect(Retry.isBackpressure({ _tag: "ServiceUnavailable", title: "RESOURCE_EXHAUSTED" } as never)).toBe(true)
    expect(Retry.isBackpressure({ _tag: "ServiceUnavailable", title: "Service Unavailable" } as never)).toBe(false)
    expect(Retry.isBackpressure({ _tag: "InternalServerError", title: "x", detail: "RESOURCE_EXHAUSTED" } as never)).toBe(true)
    expect(Retry.isBackpressure({ _tag: "Conflict", title: "RESOURCE_EXHAUSTED" } as never)).toBe(false)
  })
})
