/**
 * Quick start: complete a user task, and recover when it can no longer be completed
 * (`Conflict`: another user or a listener moved it on) or does not exist (`NotFound`).
 *
 *   npm start [-- <userTaskKey>]                                      against a local mock of the API (Prism)
 *   CAMUNDA_REST_ADDRESS=http://localhost:8080 npm start -- <key>     against your cluster
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { CamundaClient, Keys, UserTask } from "effect-camunda"
import { startPrism } from "../support/prism.js"

/** Completes a user task with `approved: true` and says what happened. */
export const approve = (userTaskKey: Keys.UserTaskKey) =>
  UserTask.completeUserTask({ userTaskKey, variables: { approved: true } }).pipe(
    Effect.as(`completed user task ${userTaskKey}`),
    Effect.catchTags({
      Conflict: (conflict) => Effect.succeed(`user task ${userTaskKey} was not completed: ${conflict.detail ?? conflict.title}`),
      NotFound: () => Effect.succeed(`user task ${userTaskKey} does not exist (any more)`)
    })
  )

const main = (key: string) =>
  Effect.gen(function*() {
    const userTaskKey = yield* Schema.decode(Keys.UserTaskKey)(key)
    yield* Console.log(`completing user task ${userTaskKey}`)
    yield* Console.log(yield* approve(userTaskKey))
  })

if (import.meta.url === `file://${process.argv[1]}`) {
  const key = process.argv[2] ?? "2251799813685249"
  const configured = process.env["CAMUNDA_REST_ADDRESS"] !== undefined || process.env["ZEEBE_REST_ADDRESS"] !== undefined
  const prism = configured ? undefined : await startPrism()
  if (prism !== undefined) console.log(`CAMUNDA_REST_ADDRESS is not set: using a mock of the API (Prism) at ${prism.url}`)
  const client = prism === undefined ? CamundaClient.layerConfig() : CamundaClient.layer({ restAddress: prism.url })
  const exit = await main(key).pipe(Effect.provide(client.pipe(Layer.provide(FetchHttpClient.layer))), Effect.runPromiseExit)
  await prism?.stop()
  if (exit._tag === "Failure") {
    console.error(exit.cause.toString())
    process.exitCode = 1
  }
}
