/**
 * The embedded engine under the public client, for tests.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as path from "node:path"
import { CamundaClient, Retry, Job, Keys, ProcessInstance, Resource, UserTask } from "effect-camunda"
import * as TestEngine from "effect-camunda/testkit"

/** A client on a fresh in-memory engine; the engine's `TestEngine` service is provided too. */
export const engineLayer = (options: TestEngine.Options = {}) =>
  // no client retries: the engine tests look at every answer as the engine sent it
  CamundaClient.layer({ retry: Retry.none }).pipe(Layer.provideMerge(TestEngine.layer(options)))

/** A BPMN file of examples/bpmn as a File part. */
export const bpmnFile = (name: string) =>
  new File([fs.readFileSync(path.resolve(import.meta.dirname, "../../examples/bpmn", name), "utf8")], name)

/** A BPMN file of test/bpmn as a File part. */
export const testBpmn = (name: string) =>
  new File([fs.readFileSync(path.resolve(import.meta.dirname, "../bpmn", name), "utf8")], name)

/** A BPMN document from a string. */
export const bpmn = (name: string, xml: string) => new File([xml], name)

/** A one-process BPMN document around `body` (the flow elements of process `id`). */
export const processXml = (id: string, body: string, preamble = "") =>
  `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions_${id}" targetNamespace="http://bpmn.io/schema/bpmn">
  ${preamble}
  <bpmn:process id="${id}" isExecutable="true">
    ${body}
  </bpmn:process>
</bpmn:definitions>`

/** A process `id` with one user task between its start and end events. */
export const userTaskProcess = (id: string) =>
  processXml(
    id,
    `<bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />
    <bpmn:userTask id="task" name="Task"><bpmn:extensionElements><zeebe:userTask /></bpmn:extensionElements></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end" />
    <bpmn:endEvent id="end" />`
  )

/** Deploys files and starts one instance of `processDefinitionId`. */
export const deployAndStart = (files: ReadonlyArray<File>, processDefinitionId: string, variables: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    yield* Resource.createDeployment({ resources: files })
    return yield* ProcessInstance.createProcessInstance({
      processDefinitionId: Keys.ProcessDefinitionId.make(processDefinitionId),
      variables
    })
  })

/** Starts one more instance of a deployed process. */
export const start = (processDefinitionId: string, variables: Record<string, unknown> = {}) =>
  ProcessInstance.createProcessInstance({ processDefinitionId: Keys.ProcessDefinitionId.make(processDefinitionId), variables })

/** Activates jobs of `type` without waiting (`requestTimeout: -1`). */
export const activate = (type: string, maxJobsToActivate = 10, timeout = 60_000) =>
  Effect.map(
    Job.activateJobs({ type, maxJobsToActivate, timeout, worker: "test-worker", requestTimeout: -1 }),
    (result) => result.jobs
  )

/** Lets other fibers and pending promises run (one macrotask). */
export const settle = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/** Runs `effect` until it succeeds, settling in between (for work forked fibers do). */
export const eventually = <A, E, R>(effect: Effect.Effect<A, E, R>, tries = 50): Effect.Effect<A, E, R> =>
  Effect.catchAll(effect, (error) => (tries <= 1 ? Effect.fail(error) : Effect.zipRight(settle, eventually(effect, tries - 1))))

/** Activates the one job of `type` there must be. */
export const activateOne = (type: string) =>
  Effect.flatMap(activate(type, 1), (jobs) =>
    jobs.length === 1 ? Effect.succeed(jobs[0]!) : Effect.fail(new Error(`expected one job of type ${type}, got ${jobs.length}`)))

/** Completes the one job of `type` there must be. */
export const completeOne = (type: string, variables: Record<string, unknown> = {}) =>
  Effect.flatMap(activateOne(type), (job) => Job.completeJob({ jobKey: job.jobKey, variables }))

/** The open user task of a process instance. */
export const openTaskOf = (processInstanceKey: Keys.ProcessInstanceKey) =>
  Effect.flatMap(
    UserTask.searchUserTasks({ filter: { processInstanceKey, state: "CREATED" } }),
    (result) =>
      result.items.length === 1
        ? Effect.succeed(result.items[0]!)
        : Effect.fail(new Error(`expected one open user task, got ${result.items.length}`))
  )

/** The state of a process instance. */
export const stateOf = (processInstanceKey: Keys.ProcessInstanceKey) =>
  Effect.map(ProcessInstance.getProcessInstance({ processInstanceKey }), (instance) => instance.state)
