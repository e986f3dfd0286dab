/**
 * The engine behind the REST API: each supported operation's handler, keyed by
 * `operationId`. Inputs arrive decoded by the operation's own generated schema.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { ModelError, parseBpmn } from "./bpmn.js"
import { badRequest, defaultTenant, type Engine, EngineFailure, type Instance, notFound } from "./engine.js"
import {
  activatedJobRecord,
  elementInstanceRecord,
  incidentRecord,
  jobRecord,
  pick,
  processDefinitionRecord,
  processInstanceRecord,
  userTaskRecord,
  variableRecords
} from "./records.js"
import { matches, search } from "./search.js"

/** Faults the engine injects, for tests and benchmarks. */
export interface Faults {
  /** Commands in flight beyond this many are answered 503 `RESOURCE_EXHAUSTED`. */
  capacity: number | undefined
  /** Added to every answer, on the Clock. */
  latency: Duration.Duration | undefined
  /** operationId → the statuses its next requests are answered with, in order. */
  readonly scripted: Map<string, Array<number>>
}

/** The engine, its clock and the faults to inject, as seen by one request. */
export interface EngineContext {
  readonly engine: Engine
  /** Engine time: the pinned time (`PUT /clock`) or Effect's `Clock`. */
  readonly now: Effect.Effect<number>
  readonly pin: (millis: number | undefined) => void
  readonly faults: Faults
  /** Commands being handled right now (for `capacity`). */
  inFlight: number
}

type Input = Record<string, any>
export type Handler = (input: Input, context: EngineContext) => Effect.Effect<unknown, EngineFailure>

/** Runs a synchronous engine command at the current engine time. */
const command = (f: (input: Input, engine: Engine, now: number) => unknown): Handler => (input, context) =>
  Effect.flatMap(context.now, (now) =>
    Effect.try({
      try: () => {
        context.engine.advanceTo(now)
        return f(input, context.engine, now)
      },
      catch: (error) => {
        if (error instanceof EngineFailure) return error
        throw error
      }
    }))

const tenantOf = (input: Input): string => input["tenantId"] ?? defaultTenant

const found = <A>(value: A | undefined, what: string): A => {
  if (value === undefined) throw notFound(`no ${what}`)
  return value
}

/** Waits until the engine changes or `millis` pass on the Clock, whichever comes first. */
const changeOrTimeout = (engine: Engine, millis: number) =>
  Effect.race(
    Effect.async<void>((resume) => {
      const unsubscribe = engine.onChange(() => resume(Effect.void))
      return Effect.sync(unsubscribe)
    }),
    Effect.sleep(Duration.millis(Math.max(0, millis)))
  )

/** A request's deadline on Effect's Clock: request timeouts are the gateway's, whatever the engine's (pinned) time. */
const requestDeadline = (millis: number) => Effect.map(Clock.currentTimeMillis, (now) => now + millis)

const pastDeadline = (deadline: number) => Effect.map(Clock.currentTimeMillis, (now) => now >= deadline)

/**
 * Waits until the engine changes, the request deadline passes (Effect's Clock), or the next
 * timer, retry back-off or job timeout is due (engine time), whichever comes first; then
 * processes what is due.
 */
const awaitChange = (context: EngineContext, deadline: number) =>
  Effect.gen(function*() {
    const clockNow = yield* Clock.currentTimeMillis
    const engineNow = yield* context.now
    const due = context.engine.nextDue(engineNow)
    yield* changeOrTimeout(context.engine, Math.min(deadline - clockNow, due === undefined ? Infinity : due - engineNow))
    context.engine.advanceTo(yield* context.now)
  })

const deploy: Handler = (input, context) =>
  Effect.gen(function*() {
    const files = input["resources"] as ReadonlyArray<Blob>
    const resources = yield* Effect.forEach(files, (file, index) =>
      Effect.tryPromise({
        try: async () => {
          const name = file instanceof File ? file.name : `resource-${index}.bpmn`
          if (!/\.bpmn$/i.test(name)) throw badRequest(`${name}: the test engine deploys BPMN resources (.bpmn) only`)
          const xml = await file.text()
          try {
            return { name, xml, models: await parseBpmn(xml) }
          } catch (error) {
            if (error instanceof ModelError) throw badRequest(`${name}: ${error.message}`)
            throw error
          }
        },
        catch: (error) => {
          if (error instanceof EngineFailure) return error
          throw error
        }
      }))
    const tenantId = tenantOf(input)
    const result = context.engine.deploy(resources, tenantId)
    return {
      deploymentKey: result.deploymentKey,
      tenantId,
      deployments: result.definitions.map((definition) => ({
        processDefinition: {
          processDefinitionId: definition.id,
          processDefinitionKey: definition.key,
          processDefinitionVersion: definition.version,
          resourceName: definition.resourceName,
          tenantId: definition.tenantId
        },
        decisionDefinition: null,
        decisionRequirements: null,
        form: null,
        resource: null
      }))
    }
  })

const resolveDefinition = (input: Input, engine: Engine) => {
  if (input["processDefinitionKey"] !== undefined) {
    return found(engine.definitions.get(input["processDefinitionKey"]), `process definition with key ${input["processDefinitionKey"]}`)
  }
  const id = input["processDefinitionId"] as string
  const version = input["processDefinitionVersion"] as number | undefined
  const definition = version === undefined || version < 0
    ? engine.latestDefinition(id, tenantOf(input))
    : [...engine.definitions.values()].find((d) => d.id === id && d.version === version && d.tenantId === tenantOf(input))
  return found(definition, `process definition with id ${id}${version === undefined ? "" : ` version ${version}`}`)
}

const instanceResult = (engine: Engine, instance: Instance, fetchVariables?: ReadonlyArray<string>) => ({
  processInstanceKey: instance.key,
  processDefinitionKey: instance.definition.key,
  processDefinitionId: instance.definition.id,
  processDefinitionVersion: instance.definition.version,
  tenantId: instance.definition.tenantId,
  variables: pick(engine.variablesOf(instance), fetchVariables),
  tags: [],
  businessId: null
})

const createProcessInstance: Handler = (input, context) =>
  Effect.gen(function*() {
    const instance = (yield* command((input, engine, now) =>
      engine.createInstance(resolveDefinition(input, engine), input["variables"] ?? {}, now)
    )(input, context)) as Instance
    if (input["awaitCompletion"] !== true) return instanceResult(context.engine, instance)
    const timeout = (input["requestTimeout"] as number | undefined) || 10_000
    const deadline = yield* requestDeadline(timeout)
    while (instance.state === "ACTIVE") {
      if (yield* pastDeadline(deadline)) {
        return yield* Effect.fail(
          new EngineFailure(504, "DEADLINE_EXCEEDED", `process instance ${instance.key} did not complete within ${timeout} ms`)
        )
      }
      yield* awaitChange(context, deadline)
    }
    return instanceResult(context.engine, instance, input["fetchVariables"])
  })

const activateJobs: Handler = (input, context) =>
  Effect.gen(function*() {
    const requestTimeout = (input["requestTimeout"] as number | undefined) ?? 0
    const longPoll = requestTimeout >= 0
    const deadline = yield* requestDeadline(requestTimeout === 0 ? 10_000 : requestTimeout)
    const request = {
      type: input["type"] as string,
      worker: (input["worker"] as string | undefined) ?? "",
      timeout: (input["timeout"] as number | undefined) ?? 300_000,
      maxJobsToActivate: (input["maxJobsToActivate"] as number | undefined) ?? 32,
      tenantIds: input["tenantIds"] as ReadonlyArray<string> | undefined
    }
    for (;;) {
      const now = yield* context.now
      context.engine.advanceTo(now)
      const jobs = context.engine.activateJobs(request, now)
      if (jobs.length > 0 || !longPoll || (yield* pastDeadline(deadline))) {
        return { jobs: jobs.map((job) => activatedJobRecord(context.engine, job, input["fetchVariable"])) }
      }
      yield* awaitChange(context, deadline)
    }
  })

const searchRequest = (input: Input) => ({ filter: input["filter"], sort: input["sort"], page: input["page"] })

/** `[{ name, value }]` filters: every one must match a variable of `variables` (values as JSON). */
const variablesMatch = (variables: Readonly<Record<string, unknown>>, condition: unknown): boolean =>
  (condition as ReadonlyArray<{ name: string; value: unknown }>).every(({ name, value }) =>
    name in variables && matches(JSON.stringify(variables[name]), value)
  )

/** The variables of the process instance a record belongs to. */
const processVariables = (engine: Engine, processInstanceKey: unknown): Readonly<Record<string, unknown>> => {
  const instance = engine.instances.get(processInstanceKey as string)
  return instance === undefined ? {} : engine.variablesOf(instance)
}

/** The local variables of the element instance a record belongs to. */
const localVariables = (engine: Engine, elementInstanceKey: unknown): Readonly<Record<string, unknown>> => {
  const elementInstance = engine.elementInstances.get(elementInstanceKey as string)
  return elementInstance === undefined
    ? {}
    : Object.fromEntries([...elementInstance.variables].map(([name, { value }]) => [name, value]))
}

/** All variables of all process instances. */
const allVariables = (engine: Engine) => [...engine.instances.values()].flatMap((instance) => variableRecords(engine, instance))

const incidentsOf = (engine: Engine, test: (incident: ReturnType<typeof incidentRecord>) => boolean) =>
  [...engine.incidents.values()].map(incidentRecord).filter(test)

const setClock: Handler = (input, context) =>
  Effect.sync(() => {
    context.pin(input["timestamp"] as number)
    context.engine.advanceTo(input["timestamp"] as number)
  })

/** The handlers, by operationId. Operations not listed answer 501. */
export const handlers: Readonly<Record<string, Handler>> = {
  getTopology: () =>
    Effect.succeed({
      brokers: [{
        nodeId: 0,
        host: "localhost",
        port: 26501,
        partitions: [{ partitionId: 1, role: "leader", health: "healthy" }],
        version: "8.9.0"
      }],
      clusterId: "effect-camunda-test-engine",
      clusterSize: 1,
      partitionsCount: 1,
      replicationFactor: 1,
      gatewayVersion: "8.9.0",
      lastCompletedChangeId: "-1"
    }),
  getStatus: () => Effect.void,
  pinClock: setClock,
  resetClock: (_, context) =>
    Effect.sync(() => {
      context.pin(undefined)
    }),
  createDeployment: deploy,
  searchProcessDefinitions: command((input, engine) =>
    search([...engine.definitions.values()].map(processDefinitionRecord), searchRequest(input), {
      isLatestVersion: (row, condition) =>
        matches(engine.latestDefinition(row.processDefinitionId, row.tenantId)?.key === row.processDefinitionKey, condition)
    })
  ),
  getProcessDefinition: command((input, engine) =>
    processDefinitionRecord(found(engine.definitions.get(input["processDefinitionKey"]), `process definition ${input["processDefinitionKey"]}`))
  ),
  getProcessDefinitionXML: command((input, engine) =>
    found(engine.definitions.get(input["processDefinitionKey"]), `process definition ${input["processDefinitionKey"]}`).xml
  ),
  createProcessInstance,
  getProcessInstance: command((input, engine) =>
    processInstanceRecord(engine, found(engine.instances.get(input["processInstanceKey"]), `process instance ${input["processInstanceKey"]}`))
  ),
  searchProcessInstances: command((input, engine) =>
    search([...engine.instances.values()].map((instance) => processInstanceRecord(engine, instance)), searchRequest(input), {
      variables: (row, condition) => variablesMatch(processVariables(engine, row.processInstanceKey), condition)
    })
  ),
  searchProcessInstanceIncidents: command((input, engine) => {
    found(engine.instances.get(input["processInstanceKey"]), `process instance ${input["processInstanceKey"]}`)
    return search(incidentsOf(engine, (incident) => incident.processInstanceKey === input["processInstanceKey"]), searchRequest(input))
  }),
  cancelProcessInstance: command((input, engine, now) => engine.cancelInstance(input["processInstanceKey"], now)),
  searchElementInstances: command((input, engine) =>
    search([...engine.elementInstances.values()].map(elementInstanceRecord), searchRequest(input))
  ),
  getElementInstance: command((input, engine) =>
    elementInstanceRecord(found(engine.elementInstances.get(input["elementInstanceKey"]), `element instance ${input["elementInstanceKey"]}`))
  ),
  searchElementInstanceIncidents: command((input, engine) => {
    found(engine.elementInstances.get(input["elementInstanceKey"]), `element instance ${input["elementInstanceKey"]}`)
    return search(incidentsOf(engine, (incident) => incident.elementInstanceKey === input["elementInstanceKey"]), searchRequest(input))
  }),
  createElementInstanceVariables: command((input, engine) =>
    engine.updateVariables(input["elementInstanceKey"], input["variables"] ?? {}, input["local"] === true)
  ),
  activateJobs,
  completeJob: command((input, engine, now) => engine.completeJob(input["jobKey"], input["variables"] ?? {}, now)),
  failJob: command((input, engine, now) =>
    engine.failJob(input["jobKey"], {
      retries: input["retries"] ?? 0,
      errorMessage: input["errorMessage"],
      retryBackOff: input["retryBackOff"] ?? 0,
      variables: input["variables"] ?? {}
    }, now)
  ),
  throwJobError: command((input, engine, now) =>
    engine.throwJobError(input["jobKey"], input["errorCode"], input["errorMessage"], input["variables"] ?? {}, now)
  ),
  updateJob: command((input, engine, now) => engine.updateJob(input["jobKey"], input["changeset"] ?? {}, now)),
  searchJobs: command((input, engine) => search([...engine.jobs.values()].map(jobRecord), searchRequest(input))),
  searchUserTasks: command((input, engine) =>
    search([...engine.userTasks.values()].map(userTaskRecord), searchRequest(input), {
      processInstanceVariables: (row, condition) => variablesMatch(processVariables(engine, row.processInstanceKey), condition),
      localVariables: (row, condition) => variablesMatch(localVariables(engine, row.elementInstanceKey), condition)
    })
  ),
  getUserTask: command((input, engine) =>
    userTaskRecord(found(engine.userTasks.get(input["userTaskKey"]), `user task ${input["userTaskKey"]}`))
  ),
  assignUserTask: command((input, engine) => {
    const assignee = input["assignee"] as string | undefined
    if (assignee === undefined || assignee.trim() === "") throw badRequest("The assignee must not be empty or null")
    engine.assignUserTask(input["userTaskKey"], assignee, input["allowOverride"] ?? true)
  }),
  unassignUserTask: command((input, engine) => engine.unassignUserTask(input["userTaskKey"])),
  updateUserTask: command((input, engine) => engine.updateUserTask(input["userTaskKey"], input["changeset"] ?? {})),
  completeUserTask: command((input, engine, now) => engine.completeUserTask(input["userTaskKey"], input["variables"] ?? {}, now)),
  searchIncidents: command((input, engine) => search([...engine.incidents.values()].map(incidentRecord), searchRequest(input))),
  getIncident: command((input, engine) =>
    incidentRecord(found(engine.incidents.get(input["incidentKey"]), `incident ${input["incidentKey"]}`))
  ),
  resolveIncident: command((input, engine, now) => engine.resolveIncident(input["incidentKey"], now)),
  searchVariables: command((input, engine) => search(allVariables(engine), searchRequest(input))),
  getVariable: command((input, engine) => {
    const variable = allVariables(engine).find((v) => v.variableKey === input["variableKey"])
    const { isTruncated: _, ...record } = found(variable, `variable ${input["variableKey"]}`)
    return record
  }),
  publishMessage: command((input, engine, now) => {
    const correlation = engine.publishMessage({
      name: input["name"],
      correlationKey: input["correlationKey"] ?? "",
      ttl: input["timeToLive"] ?? 0,
      messageId: input["messageId"] || undefined,
      variables: input["variables"] ?? {},
      tenantId: tenantOf(input)
    }, now)
    return { messageKey: correlation.messageKey, tenantId: tenantOf(input) }
  }),
  correlateMessage: command((input, engine, now) => {
    const correlation = engine.correlateMessage({
      name: input["name"],
      correlationKey: input["correlationKey"] ?? "",
      variables: input["variables"] ?? {},
      tenantId: tenantOf(input)
    }, now)
    return { messageKey: correlation.messageKey, processInstanceKey: correlation.processInstanceKey, tenantId: tenantOf(input) }
  })
}

/** The engine's time: pinned, or Effect's Clock. */
export const engineTime = (pinned: () => number | undefined): Effect.Effect<number> =>
  Effect.map(Clock.currentTimeMillis, (now) => pinned() ?? now)
