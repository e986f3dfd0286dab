/**
 * How every example runs: on the embedded engine (`effect-camunda/testkit`) by default,
 * on a real cluster when `CAMUNDA_REST_ADDRESS` (or `ZEEBE_REST_ADDRESS`) is set.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as path from "node:path"
import { CamundaClient, Resource } from "effect-camunda"
import * as TestEngine from "effect-camunda/testkit"

/** True when the examples talk to a real cluster. */
export const onCluster = (): boolean =>
  process.env["CAMUNDA_REST_ADDRESS"] !== undefined || process.env["ZEEBE_REST_ADDRESS"] !== undefined

/** Provides the client: configured from the environment for a cluster, else on a fresh embedded engine. */
export const provideClient = <A, E>(program: Effect.Effect<A, E, CamundaClient.CamundaClient>) =>
  onCluster()
    ? Effect.provide(program, CamundaClient.layerConfig().pipe(Layer.provide(FetchHttpClient.layer)))
    : Effect.provide(program, CamundaClient.layer().pipe(Layer.provideMerge(TestEngine.layer())))

/** The embedded engine's fault controls, when the example runs on it. */
export const engine = Effect.serviceOption(TestEngine.TestEngine)

/** Deploys BPMN files from examples/bpmn. */
export const deploy = (...names: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const files = names.map((name) =>
      new File([fs.readFileSync(path.resolve(import.meta.dirname, "bpmn", name), "utf8")], name, { type: "application/xml" })
    )
    const deployment = yield* Resource.createDeployment({ resources: files })
    for (const { processDefinition } of deployment.deployments) {
      if (processDefinition !== null) {
        yield* Console.log(`deployed ${processDefinition.processDefinitionId} v${processDefinition.processDefinitionVersion}`)
      }
    }
    return deployment
  })

/** Runs an example program and exits non-zero on failure. */
export const run = async (program: Effect.Effect<unknown, unknown, CamundaClient.CamundaClient>): Promise<void> => {
  console.log(onCluster() ? "running against the cluster at CAMUNDA_REST_ADDRESS" : "running on the embedded engine (set CAMUNDA_REST_ADDRESS to use a cluster)")
  const exit = await Effect.runPromiseExit(provideClient(program))
  if (exit._tag === "Failure") {
    console.error(exit.cause.toString())
    process.exitCode = 1
  }
}
