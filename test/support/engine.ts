/**
 * The embedded engine under the public client, for tests.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as path from "node:path"
import { CamundaClient, Keys, ProcessInstance, Resource } from "effect-camunda"
import * as TestEngine from "effect-camunda/testkit"

/** A client on a fresh in-memory engine. */
export const engineLayer = () => CamundaClient.layer().pipe(Layer.provide(TestEngine.layer()))

/** A BPMN file of examples/bpmn as a File part. */
export const bpmnFile = (name: string) =>
  new File([fs.readFileSync(path.resolve(import.meta.dirname, "../../examples/bpmn", name), "utf8")], name)

/** A BPMN document from a string. */
export const bpmn = (name: string, xml: string) => new File([xml], name)

/** Deploys files and starts one instance of `processDefinitionId`. */
export const deployAndStart = (files: ReadonlyArray<File>, processDefinitionId: string, variables: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    yield* Resource.createDeployment({ resources: files })
    return yield* ProcessInstance.createProcessInstance({
      processDefinitionId: Keys.ProcessDefinitionId.make(processDefinitionId),
      variables
    })
  })
