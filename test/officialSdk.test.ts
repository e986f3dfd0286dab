/**
 * The loopback face of the test engine, driven by the official Camunda SDK
 * (`@camunda8/orchestration-cluster-api`): deploy, start, find and complete the user task,
 * run a job worker, and see instances complete — with nothing but loopback requests.
 *
 * `it.scopedLive`: the served engine runs on the live Clock (the SDK waits in real time),
 * and the server closes with the test's scope.
 */
import { type CamundaClient, createCamundaClient } from "@camunda8/orchestration-cluster-api"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestEngine from "effect-camunda/testkit"
import * as path from "node:path"
import { quietSdkConfig } from "../support/officialSdk.js"

const orderBpmn = path.resolve(import.meta.dirname, "..", "examples", "bpmn", "order.bpmn")

/**
 * An SDK client for `url` that reads no `CAMUNDA_*` environment (so no OAuth endpoint,
 * no support log file), authenticates with nothing, validates requests and answers
 * strictly against its own schemas, and refuses any request that is not for `url`.
 */
const sdkClient = (url: string) => {
  const seen: Array<string> = []
  const { host } = new URL(url)
  const camunda = createCamundaClient({
    env: {},
    config: {
      ...quietSdkConfig(url),
      CAMUNDA_SDK_HTTP_RETRY_MAX_ATTEMPTS: 1,
      CAMUNDA_SDK_VALIDATION: "req:strict,res:strict"
    },
    fetch: (input, init) => {
      const target = new URL(input instanceof Request ? input.url : String(input))
      seen.push(`${input instanceof Request ? input.method : init?.method ?? "GET"} ${target.host}${target.pathname}`)
      if (target.host !== host) {
        return Promise.reject(new Error(`the SDK tried to reach ${target.href}, which is not the loopback engine`))
      }
      return fetch(input, init)
    }
  })
  return { camunda, seen, host }
}

/** An SDK call as an Effect (its promises are thenables with `cancel`). */
const call = <A>(f: () => PromiseLike<A>) => Effect.promise(() => Promise.resolve(f()))

/** The engine is consistent at once: read without polling. */
const immediately = { consistency: { waitUpToMs: 0 } }

/** Serves a fresh engine, deploys order.bpmn with the SDK and starts `order-approval`. */
const started = Effect.gen(function*() {
  const { url } = yield* TestEngine.serve({ port: 0 })
  const client = sdkClient(url)
  const { camunda } = client
  const deployment = yield* call(() => camunda.deployResourcesFromFiles([orderBpmn]))
  expect(deployment.processes.map((process) => process.processDefinitionId)).toEqual(["order-approval"])
  const created = yield* call(() =>
    camunda.createProcessInstance({ processDefinitionId: "order-approval" as never, variables: { orderId: "o-1" } })
  )
  expect(created.processDefinitionId).toBe("order-approval")
  return { ...client, created }
})

const reviewTask = (camunda: CamundaClient, processInstanceKey: string) =>
  Effect.gen(function*() {
    const tasks = yield* call(() => camunda.searchUserTasks({ filter: { processInstanceKey: processInstanceKey as never } }, immediately))
    expect(tasks.items).toHaveLength(1)
    expect(tasks.items[0]).toMatchObject({ elementId: "review", state: "CREATED", candidateGroups: ["sales"] })
    return tasks.items[0]!
  })

describe("official SDK against TestEngine.serve", () => {
  it.scopedLive("deploys, starts, completes the user task (rejected) and sees the instance complete", () =>
    Effect.gen(function*() {
      const { camunda, created, host, seen } = yield* started
      const topology = yield* call(() => camunda.getTopology())
      expect(topology.brokers).toHaveLength(1)

      const task = yield* reviewTask(camunda, created.processInstanceKey)
      yield* call(() => camunda.completeUserTask({ userTaskKey: task.userTaskKey, variables: { approved: false } }))

      const instance = yield* call(() => camunda.getProcessInstance({ processInstanceKey: created.processInstanceKey }, immediately))
      expect(instance.state).toBe("COMPLETED")
      expect(seen).toContain(`POST ${host}/v2/deployments`)
      expect(seen.every((request) => request.split(" ")[1]!.startsWith(`${host}/v2/`))).toBe(true)
    }))

  it.scopedLive("approved: the SDK's job worker long-polls, takes the ship-order job and completes it", () =>
    Effect.gen(function*() {
      const { camunda, created } = yield* started
      const handled: Array<unknown> = []
      yield* Effect.acquireRelease(
        Effect.sync(() =>
          camunda.createJobWorker({
            jobType: "ship-order",
            jobTimeoutMs: 30_000,
            pollTimeoutMs: 5_000,
            maxParallelJobs: 1,
            jobHandler: (job) => {
              handled.push({ variables: job.variables, customHeaders: job.customHeaders })
              return job.complete({ shipped: true })
            }
          })
        ),
        (worker) => Effect.sync(() => worker.stop())
      )

      const task = yield* reviewTask(camunda, created.processInstanceKey)
      yield* call(() => camunda.completeUserTask({ userTaskKey: task.userTaskKey, variables: { approved: true } }))

      const instance = yield* call(() =>
        camunda.getProcessInstance({ processInstanceKey: created.processInstanceKey }, {
          consistency: { waitUpToMs: 10_000, pollIntervalMs: 20, predicate: (instance) => instance.state === "COMPLETED" }
        })
      )
      expect(instance.state).toBe("COMPLETED")
      expect(handled).toEqual([{ variables: { orderId: "o-1", approved: true }, customHeaders: { carrier: "post" } }])
    }))

  it.scopedLive("a long poll the client cancels takes no job: the next activation gets it", () =>
    Effect.gen(function*() {
      const { camunda, created } = yield* started
      const abandoned = camunda.activateJobs({ type: "ship-order", timeout: 30_000, maxJobsToActivate: 1, requestTimeout: 10_000 })
      const settled = abandoned.then(() => "answered" as const, () => "cancelled" as const)
      yield* Effect.sleep("100 millis")
      abandoned.cancel()
      expect(yield* Effect.promise(() => settled)).toBe("cancelled")
      yield* Effect.sleep("300 millis") // for the server to see the connection close

      const task = yield* reviewTask(camunda, created.processInstanceKey)
      yield* call(() => camunda.completeUserTask({ userTaskKey: task.userTaskKey, variables: { approved: true } }))

      const { jobs } = yield* call(() =>
        camunda.activateJobs({ type: "ship-order", timeout: 30_000, maxJobsToActivate: 1, requestTimeout: 1_000 })
      )
      expect(jobs).toHaveLength(1)
      expect(jobs[0]!.elementId).toBe("ship")
    }))

  it.live("closing the scope ends a pending long poll at once and frees the port", () =>
    Effect.gen(function*() {
      const pending = yield* Effect.scoped(Effect.gen(function*() {
        const { camunda, url } = yield* Effect.map(TestEngine.serve({ port: 0 }), (served) => ({ ...sdkClient(served.url), url: served.url }))
        const poll = camunda.activateJobs({ type: "nothing", timeout: 1_000, maxJobsToActivate: 1, requestTimeout: 30_000 })
        yield* Effect.sleep("100 millis")
        return { poll: poll.then(() => "answered", (error: unknown) => `failed: ${String(error)}`), url }
      }))
      const started = Date.now()
      expect(yield* Effect.promise(() => pending.poll)).toMatch(/^failed/)
      expect(Date.now() - started).toBeLessThan(2_000)
      const refused = yield* Effect.promise(() => fetch(`${pending.url}/v2/topology`).then(() => "answered", () => "refused"))
      expect(refused).toBe("refused")
    }))
})
