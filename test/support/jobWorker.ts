/**
 * The embedded engine behind a recording `HttpClient`, for the job worker tests: every job
 * request the client sends (operation, job key, body, answer status), and an activation
 * outage that can be switched on and off.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import { CamundaClient, type CamundaConfig, Retry } from "effect-camunda"
import * as TestEngine from "effect-camunda/testkit"
import { settle } from "./engine.js"

/** One request the client sent. */
export interface Sent {
  readonly operation: "activateJobs" | "completeJob" | "failJob" | "throwJobError" | "updateJob" | "other"
  readonly jobKey: string | undefined
  readonly body: any
  /** The answer's status; undefined while pending or when the request was aborted. */
  status: number | undefined
}

export interface Recorder {
  readonly sent: Array<Sent>
  /** While true, every activation request is answered 503 RESOURCE_EXHAUSTED at once. */
  activationOutage: boolean
  /** Called when an activation request is sent (before it reaches the engine). */
  onActivation: ((body: any) => void) | undefined
}

const operationOf = (method: string, path: string): [Sent["operation"], string | undefined] => {
  if (method === "POST" && path.endsWith("/v2/jobs/activation")) return ["activateJobs", undefined]
  const command = /\/v2\/jobs\/([^/]+)\/(completion|failure|error)$/.exec(path)
  if (method === "POST" && command !== null) {
    const operation = command[2] === "completion" ? "completeJob" : command[2] === "failure" ? "failJob" : "throwJobError"
    return [operation, decodeURIComponent(command[1]!)]
  }
  const update = /\/v2\/jobs\/([^/]+)$/.exec(path)
  if (method === "PATCH" && update !== null) return ["updateJob", decodeURIComponent(update[1]!)]
  return ["other", undefined]
}

const outage = () =>
  new Response(
    JSON.stringify({ type: "about:blank", title: "RESOURCE_EXHAUSTED", status: 503, detail: "activation outage (test)" }),
    { status: 503, headers: { "content-type": "application/problem+json" } }
  )

/**
 * A client (no client retries unless `client` says so) on a fresh in-memory engine whose
 * requests are recorded; the `TestEngine` service is provided too.
 */
export const recordedEngine = (options: TestEngine.Options = {}, client: CamundaConfig.Options = {}) => {
  const recorder: Recorder = { sent: [], activationOutage: false, onActivation: undefined }
  const http = Layer.effect(
    HttpClient.HttpClient,
    Effect.map(TestEngine.TestEngine, (engine) =>
      HttpClient.transform(engine.httpClient, (response, request) => {
        const url = new URL(request.url)
        const [operation, jobKey] = operationOf(request.method, url.pathname)
        if (operation === "other") return response
        const body = request.body._tag === "Uint8Array" && request.body.body.length > 0
          ? JSON.parse(new TextDecoder().decode(request.body.body))
          : undefined
        const sent: Sent = { operation, jobKey, body, status: undefined }
        recorder.sent.push(sent)
        if (operation === "activateJobs") {
          recorder.onActivation?.(body)
          if (recorder.activationOutage) {
            sent.status = 503
            return Effect.succeed(HttpClientResponse.fromWeb(request, outage()))
          }
        }
        return Effect.tap(response, (answer) => {
          sent.status = answer.status
        })
      }))
  )
  const layer = CamundaClient.layer({ retry: Retry.none, ...client }).pipe(
    Layer.provide(http),
    Layer.provideMerge(TestEngine.layer(options))
  )
  return { recorder, layer }
}

/** Requests of one operation. */
export const sentOf = (recorder: Recorder, operation: Sent["operation"]) => recorder.sent.filter((sent) => sent.operation === operation)

/** Settles until `check` holds; fails after `rounds` rounds. */
export const until = <E, R>(check: Effect.Effect<boolean, E, R>, what: string, rounds = 2_000): Effect.Effect<void, E | Error, R> =>
  Effect.gen(function*() {
    for (let i = 0; i < rounds; i++) {
      if (yield* check) return
      yield* settle
    }
    return yield* Effect.fail(new Error(`timed out waiting for ${what}`))
  })

/** Moves the TestClock by `step`, then lets the forked fibers and in-memory requests run. */
export const tick = (step: Duration.DurationInput) =>
  Effect.zipRight(TestClock.adjust(step), Effect.repeatN(settle, 4))
