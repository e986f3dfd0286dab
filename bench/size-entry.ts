/**
 * The smallest real program: one operation (`UserTask.completeUserTask`) on `FetchHttpClient`,
 * imported through the package barrel (`src/index.ts`) so that the bundle measured by
 * `bench/size.ts` shows what tree-shaking leaves of the 183 operations and their schemas.
 *
 * Only bundled, never run.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect, Layer } from "effect"
import { CamundaClient, Keys, UserTask } from "../src/index.js"

const client = CamundaClient.layer({ restAddress: "http://localhost:8080" }).pipe(Layer.provide(FetchHttpClient.layer))

UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("2251799813685249") }).pipe(
  Effect.provide(client),
  Effect.runPromise
)
