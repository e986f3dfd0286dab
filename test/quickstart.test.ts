/**
 * The README's quick start against any Orchestration Cluster API: here Prism, a validating
 * mock of the 8.9 spec, and a scripted conflict.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import { afterAll, beforeAll } from "vitest"
import { CamundaClient, Keys } from "effect-camunda"
import { approve } from "../examples/quickstart.js"
import { defaultSpecPath, type Prism, startPrism } from "../support/prism.js"
import { mockHttp, problem } from "./support/mockHttp.js"

describe("quick start", () => {
  it.effect("catches Conflict when the task moved on", () => {
    const http = mockHttp(() => problem(409, { title: "INVALID_STATE", status: 409, detail: "the task is already completing" }))
    return approve(Keys.UserTaskKey.make("42")).pipe(
      Effect.map((outcome) => expect(outcome).toBe("user task 42 was not completed: the task is already completing")),
      Effect.provide(http.layer())
    )
  })

  describe.skipIf(!fs.existsSync(defaultSpecPath))("against Prism", () => {
    let prism: Prism
    beforeAll(async () => {
      prism = await startPrism()
    })
    afterAll(() => prism?.stop())

    it.live("completes a user task", () =>
      approve(Keys.UserTaskKey.make("2251799813685249")).pipe(
        Effect.map((outcome) => expect(outcome).toBe("completed user task 2251799813685249")),
        Effect.provide(CamundaClient.layer({ restAddress: prism.url }).pipe(Layer.provide(FetchHttpClient.layer)))
      ))
  })
})
