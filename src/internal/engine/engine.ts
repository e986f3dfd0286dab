/**
 * The in-memory engine: deployments, process instances, tokens through the supported
 * elements, jobs, user tasks, messages, timers and incidents. Every command is synchronous
 * and takes the current time, so the caller decides what the clock is (Effect's `Clock`).
 *
 * Variables live in two kinds of scope, as in Zeebe (without sub-processes): the process
 * instance, and each element instance (local variables: input mappings, `local` variable
 * updates, and results kept for output mappings). Results of jobs, user tasks and events
 * are propagated: a variable is updated in the innermost scope that has it, or created in
 * the process scope; when the element has output mappings, the results stay local and only
 * the mappings' targets are propagated.
 */
import type { ElementKind, ElementModel, MappingModel, ProcessModel } from "./bpmn.js"
import { addDuration, attributeValue, evaluateFeelResult, FeelError } from "./feel.js"

/** A refusal with the status and problem the API would answer. */
export class EngineFailure extends Error {
  constructor(readonly status: number, readonly title: string, readonly detail: string) {
    super(detail)
  }
}

/** 404 `NOT_FOUND`. */
export const notFound = (detail: string) => new EngineFailure(404, "NOT_FOUND", detail)
/** 409 `INVALID_STATE`. */
export const conflict = (detail: string) => new EngineFailure(409, "INVALID_STATE", detail)
/** 400 `INVALID_ARGUMENT`. */
export const badRequest = (detail: string) => new EngineFailure(400, "INVALID_ARGUMENT", detail)

/** The tenant of everything deployed or started without a tenant id. */
export const defaultTenant = "<default>"

/** A deployed process definition (one version of a BPMN process id). */
export interface Definition {
  readonly key: string
  readonly id: string
  readonly version: number
  readonly name: string | undefined
  readonly resourceName: string
  readonly tenantId: string
  readonly model: ProcessModel
  readonly xml: string
}

/** A variable of a scope: its key (stable across updates) and its value. */
export interface Variable {
  readonly key: string
  value: unknown
}

/** Variables by name. */
export type Scope = Map<string, Variable>

/** A process instance. */
export interface Instance {
  readonly key: string
  readonly definition: Definition
  state: "ACTIVE" | "COMPLETED" | "TERMINATED"
  /** The process scope. */
  readonly variables: Scope
  readonly startDate: number
  endDate: number | undefined
  /** Tokens waiting at parallel joins, by gateway id. */
  readonly joins: Map<string, number>
}

/** A token at (or past) an element of a process instance. */
export interface ElementInstance {
  readonly key: string
  readonly instance: Instance
  readonly element: ElementModel
  state: "ACTIVE" | "COMPLETED" | "TERMINATED"
  readonly startDate: number
  endDate: number | undefined
  incidentKey: string | undefined
  /** The local scope. */
  readonly variables: Scope
}

/** What searches report as a job's state: the last thing that happened to it. */
export type JobEvent = "CREATED" | "COMPLETED" | "FAILED" | "ERROR_THROWN" | "CANCELED" | "TIMED_OUT" | "RETRIES_UPDATED"

/** A job of a service task. */
export interface Job {
  readonly key: string
  readonly type: string
  readonly elementInstance: ElementInstance
  retries: number
  /** Lifecycle: workers can activate ACTIVATABLE jobs (once `activatableAt` has passed). */
  state: "ACTIVATABLE" | "ACTIVATED" | "FAILED" | "ERROR_THROWN" | "COMPLETED" | "CANCELED"
  event: JobEvent
  worker: string
  deadline: number
  activatableAt: number
  errorMessage: string | undefined
  errorCode: string | undefined
  failedWithRetriesLeft: boolean
  readonly customHeaders: Readonly<Record<string, string>>
  readonly creationTime: number
  lastUpdateTime: number
  endTime: number | undefined
}

/** A `zeebe:userTask`. */
export interface UserTask {
  readonly key: string
  readonly elementInstance: ElementInstance
  state: "CREATED" | "COMPLETED" | "CANCELED"
  assignee: string | undefined
  candidateGroups: ReadonlyArray<string>
  candidateUsers: ReadonlyArray<string>
  dueDate: string | undefined
  followUpDate: string | undefined
  priority: number
  readonly creationDate: number
  completionDate: number | undefined
  readonly formKey: string | undefined
  readonly customHeaders: Readonly<Record<string, string>>
}

/** An incident: a failure the instance waits on until it is resolved. */
export interface Incident {
  readonly key: string
  readonly elementInstance: ElementInstance
  readonly job: Job | undefined
  readonly errorType:
    | "JOB_NO_RETRIES"
    | "CONDITION_ERROR"
    | "UNHANDLED_ERROR_EVENT"
    | "EXTRACT_VALUE_ERROR"
    | "IO_MAPPING_ERROR"
  readonly errorMessage: string
  state: "ACTIVE" | "RESOLVED"
  readonly creationTime: number
  /** What resolving the incident retries. */
  readonly retry: (now: number) => void
}

/** The changes `updateUserTask` applies: `null`/absent leaves a field, `""` clears a date, `[]` clears a list. */
export interface UserTaskChangeset {
  readonly dueDate?: string | null | undefined
  readonly followUpDate?: string | null | undefined
  readonly candidateGroups?: ReadonlyArray<string> | null | undefined
  readonly candidateUsers?: ReadonlyArray<string> | null | undefined
  readonly priority?: number | null | undefined
}

interface Subscription {
  readonly elementInstance: ElementInstance
  readonly messageName: string
  readonly correlationKey: string
}

interface BufferedMessage {
  readonly key: string
  readonly messageId: string | undefined
  readonly name: string
  readonly correlationKey: string
  readonly variables: Readonly<Record<string, unknown>>
  readonly expiresAt: number
  readonly tenantId: string
  /** BPMN process ids it correlated with: a message correlates at most once per process. */
  readonly correlatedProcesses: Set<string>
}

interface Timer {
  readonly elementInstance: ElementInstance
  readonly dueAt: number
}

/** A message to correlate. */
export interface MessageInput {
  readonly name: string
  readonly correlationKey: string
  readonly variables: Readonly<Record<string, unknown>>
  readonly tenantId: string
}

/** What a message correlated with. */
export interface Correlation {
  readonly messageKey: string
  readonly processInstanceKey: string | undefined
}

/** The FEEL type name Zeebe reports for a value. */
const feelType = (value: unknown): string =>
  value === null || value === undefined
    ? "NULL"
    : Array.isArray(value)
    ? "ARRAY"
    : typeof value === "object"
    ? "OBJECT"
    : typeof value === "number"
    ? "NUMBER"
    : typeof value === "boolean"
    ? "BOOLEAN"
    : "STRING"

const withWarnings = (message: string, warnings: ReadonlyArray<string>): string =>
  warnings.length === 0 ? message : `${message} The evaluation reported the following warnings: ${warnings.join("; ")}`

/** An ISO-8601 date-time attribute value, normalized (`undefined` when null). */
const dateValue = (value: unknown, what: string): string | undefined => {
  if (value === null || value === undefined) return undefined
  const millis = typeof value === "string" ? Date.parse(value) : Number.NaN
  if (Number.isNaN(millis)) throw new FeelError(`Expected ${what} to be an ISO-8601 date-time, but was '${String(value)}'`)
  return new Date(millis).toISOString()
}

/** A list attribute: `a, b` when static, a list (or one string) when an expression. */
const listValue = (text: string | undefined, variables: Readonly<Record<string, unknown>>, what: string): ReadonlyArray<string> => {
  if (text === undefined) return []
  if (!text.trim().startsWith("=")) return text.split(",").map((part) => part.trim()).filter((part) => part.length > 0)
  const value = attributeValue(text, variables)
  if (value === null) return []
  if (typeof value === "string") return [value]
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value
  throw new FeelError(`Expected ${what} to be a list of strings, but was '${JSON.stringify(value)}'`)
}

/** A whole-number attribute within bounds. */
const integerValue = (text: string, variables: Readonly<Record<string, unknown>>, what: string, max: number): number => {
  const value = attributeValue(text, variables)
  const number = typeof value === "string" ? Number(value) : value
  if (typeof number !== "number" || !Number.isInteger(number) || number < 0 || number > max) {
    throw new FeelError(`Expected ${what} to be a whole number from 0 to ${max}, but was '${JSON.stringify(value)}'`)
  }
  return number
}

/** The engine state and its commands. */
export class Engine {
  private nextKey = 2251799813685249n
  readonly definitions = new Map<string, Definition>()
  readonly instances = new Map<string, Instance>()
  readonly elementInstances = new Map<string, ElementInstance>()
  /** The element instances of each process instance (so finding its active ones does not scan every instance's). */
  private readonly elementsOf = new Map<Instance, Array<ElementInstance>>()
  readonly jobs = new Map<string, Job>()
  /**
   * The jobs not yet completed or canceled, in creation order: what activation, time-outs and
   * termination look at, so their cost follows the open jobs rather than every job ever made.
   */
  private readonly openJobs = new Set<Job>()
  /** No activated job times out before this (a lower bound), so `advanceTo` scans the jobs only from then on. */
  private earliestDeadline = Infinity
  readonly userTasks = new Map<string, UserTask>()
  readonly incidents = new Map<string, Incident>()
  private readonly subscriptions: Array<Subscription> = []
  private readonly messages: Array<BufferedMessage> = []
  private readonly timers: Array<Timer> = []
  private readonly listeners = new Set<() => void>()

  /** A fresh key (a 64-bit number as a string, like Zeebe's). */
  key(): string {
    return String(this.nextKey++)
  }

  /** Called whenever jobs may have become activatable or instances may have ended (long polls wait on it). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener()
  }

  // --- deployments ------------------------------------------------------------------------

  /** Deploys parsed resources; a resource identical to the latest version keeps that version. */
  deploy(resources: ReadonlyArray<{ name: string; xml: string; models: ReadonlyArray<ProcessModel> }>, tenantId: string) {
    const deployed: Array<Definition> = []
    for (const resource of resources) {
      for (const model of resource.models) {
        const latest = this.latestDefinition(model.id, tenantId)
        if (latest !== undefined && latest.xml === resource.xml) {
          deployed.push(latest)
          continue
        }
        const definition: Definition = {
          key: this.key(),
          id: model.id,
          version: (latest?.version ?? 0) + 1,
          name: model.name,
          resourceName: resource.name,
          tenantId,
          model,
          xml: resource.xml
        }
        this.definitions.set(definition.key, definition)
        deployed.push(definition)
      }
    }
    return { deploymentKey: this.key(), definitions: deployed }
  }

  /** The latest version of process `id` of a tenant. */
  latestDefinition(id: string, tenantId: string): Definition | undefined {
    let latest: Definition | undefined
    for (const definition of this.definitions.values()) {
      if (definition.id === id && definition.tenantId === tenantId && (latest === undefined || definition.version > latest.version)) {
        latest = definition
      }
    }
    return latest
  }

  // --- process instances ------------------------------------------------------------------

  /** Starts an instance at the none start event (or at `startAt`, a message start event). */
  createInstance(definition: Definition, variables: Readonly<Record<string, unknown>>, now: number, startAt?: string): Instance {
    const start = startAt ?? definition.model.startEvent
    if (start === undefined) throw badRequest(`process ${definition.id} has no none start event`)
    const instance: Instance = {
      key: this.key(),
      definition,
      state: "ACTIVE",
      variables: new Map(),
      startDate: now,
      endDate: undefined,
      joins: new Map()
    }
    this.instances.set(instance.key, instance)
    this.setVariables(instance, variables)
    this.activate(instance, start, now)
    this.changed()
    return instance
  }

  /** Terminates an active instance and everything in it; 404 when it is not active. */
  cancelInstance(key: string, now: number): void {
    const instance = this.instances.get(key)
    if (instance === undefined || instance.state !== "ACTIVE") {
      throw notFound(`Expected to cancel a process instance with key '${key}', but no such process was found`)
    }
    for (const elementInstance of this.activeElements(instance)) this.terminate(elementInstance, now)
    instance.joins.clear()
    this.finish(instance, "TERMINATED", now)
  }

  /** The process scope's variables. */
  variablesOf(instance: Instance): Record<string, unknown> {
    return Object.fromEntries([...instance.variables].map(([name, { value }]) => [name, value]))
  }

  /** What an element instance sees: the process scope, overlaid with its local scope. */
  visibleVariables(elementInstance: ElementInstance): Record<string, unknown> {
    const visible = this.variablesOf(elementInstance.instance)
    for (const [name, { value }] of elementInstance.variables) visible[name] = value
    return visible
  }

  /** Sets variables in the process scope. */
  setVariables(instance: Instance, variables: Readonly<Record<string, unknown>>): void {
    for (const [name, value] of Object.entries(variables)) this.setVariable(instance.variables, name, value)
  }

  private setVariable(scope: Scope, name: string, value: unknown): void {
    const existing = scope.get(name)
    if (existing === undefined) scope.set(name, { key: this.key(), value })
    else existing.value = value
  }

  /** Updates each variable where it lives (the local scope first), or creates it in the process scope. */
  private propagate(elementInstance: ElementInstance, variables: Readonly<Record<string, unknown>>): void {
    for (const [name, value] of Object.entries(variables)) {
      this.setVariable(elementInstance.variables.has(name) ? elementInstance.variables : elementInstance.instance.variables, name, value)
    }
  }

  /**
   * `PUT /element-instances/{key}/variables`: `scopeKey` is a process instance (its scope) or an
   * element instance (`local`: its own scope, else propagated from it).
   */
  updateVariables(scopeKey: string, variables: Readonly<Record<string, unknown>>, local: boolean): void {
    const instance = this.instances.get(scopeKey)
    if (instance !== undefined) {
      if (instance.state !== "ACTIVE") throw notFound(`Expected to update variables for element with key '${scopeKey}', but no such element was found`)
      this.setVariables(instance, variables)
      return
    }
    const elementInstance = this.elementInstances.get(scopeKey)
    if (elementInstance === undefined || elementInstance.state !== "ACTIVE") {
      throw notFound(`Expected to update variables for element with key '${scopeKey}', but no such element was found`)
    }
    if (local) for (const [name, value] of Object.entries(variables)) this.setVariable(elementInstance.variables, name, value)
    else this.propagate(elementInstance, variables)
  }

  private activeElements(instance: Instance): Array<ElementInstance> {
    return (this.elementsOf.get(instance) ?? []).filter((e) => e.state === "ACTIVE")
  }

  private finish(instance: Instance, state: "COMPLETED" | "TERMINATED", now: number): void {
    instance.state = state
    instance.endDate = now
  }

  // --- token flow -------------------------------------------------------------------------

  private activate(instance: Instance, elementId: string, now: number): void {
    const element = instance.definition.model.elements.get(elementId)
    if (element === undefined) throw badRequest(`element ${elementId} does not exist in ${instance.definition.id}`)
    if (element.kind === "parallelGateway" && element.incoming > 1) {
      const arrived = (instance.joins.get(element.id) ?? 0) + 1
      if (arrived < element.incoming) {
        instance.joins.set(element.id, arrived)
        return
      }
      instance.joins.delete(element.id)
    }
    this.enter(this.elementInstance(instance, element, now), now)
  }

  private elementInstance(instance: Instance, element: ElementModel, now: number): ElementInstance {
    const elementInstance: ElementInstance = {
      key: this.key(),
      instance,
      element,
      state: "ACTIVE",
      startDate: now,
      endDate: undefined,
      incidentKey: undefined,
      variables: new Map()
    }
    this.elementInstances.set(elementInstance.key, elementInstance)
    const siblings = this.elementsOf.get(instance)
    if (siblings === undefined) this.elementsOf.set(instance, [elementInstance])
    else siblings.push(elementInstance)
    return elementInstance
  }

  /**
   * Runs `step`; a FEEL failure becomes an incident of `errorType` on the element, and
   * resolving it runs `retry`. Answers whether the step succeeded.
   */
  private attempt(
    elementInstance: ElementInstance,
    errorType: Incident["errorType"],
    now: number,
    step: () => void,
    retry: (now: number) => void
  ): boolean {
    try {
      step()
      return true
    } catch (error) {
      if (!(error instanceof FeelError)) throw error
      this.raiseIncident(elementInstance, undefined, errorType, error.message, now, retry)
      return false
    }
  }

  /** Input mappings, then the element's behaviour. */
  private enter(elementInstance: ElementInstance, now: number): void {
    const mapped = this.attempt(
      elementInstance,
      "IO_MAPPING_ERROR",
      now,
      () => this.applyInputs(elementInstance),
      (later) => this.enter(elementInstance, later)
    )
    if (mapped) this.behave(elementInstance, now)
  }

  /** What entering each waiting element does, and the incident a failure of it raises. */
  private readonly waitStates: Partial<
    Record<ElementKind, { readonly incident: Incident["errorType"]; readonly run: (e: ElementInstance, now: number) => void }>
  > = {
    serviceTask: { incident: "EXTRACT_VALUE_ERROR", run: (e, now) => this.createJob(e, now) },
    userTask: { incident: "EXTRACT_VALUE_ERROR", run: (e, now) => this.createUserTask(e, now) },
    messageCatchEvent: { incident: "EXTRACT_VALUE_ERROR", run: (e, now) => this.subscribe(e, now) },
    timerCatchEvent: { incident: "EXTRACT_VALUE_ERROR", run: (e, now) => this.schedule(e, now) },
    exclusiveGateway: { incident: "CONDITION_ERROR", run: (e, now) => this.chooseFlow(e, now) }
  }

  private behave(elementInstance: ElementInstance, now: number): void {
    const step = this.waitStates[elementInstance.element.kind]
    if (step === undefined) return this.complete(elementInstance, now)
    this.attempt(
      elementInstance,
      step.incident,
      now,
      () => step.run(elementInstance, now),
      (later) => this.behave(elementInstance, later)
    )
  }

  private mapped(mappings: ReadonlyArray<MappingModel>, variables: Readonly<Record<string, unknown>>): Array<[string, unknown]> {
    return mappings.map(({ source, target }) => {
      const trimmed = source.trim()
      const value = trimmed.startsWith("=") ? evaluateFeelResult(trimmed.slice(1), variables).value : source
      return [target, value]
    })
  }

  /** Sets `target` (`a` or a path `a.b.c`) in `variables`, copying the objects on the path. */
  private assign(variables: Record<string, unknown>, target: string, value: unknown): string {
    const [root, ...path] = target.split(".")
    if (path.length === 0) {
      variables[root!] = value
      return root!
    }
    const copy = (object: unknown): Record<string, unknown> =>
      typeof object === "object" && object !== null && !Array.isArray(object) ? { ...(object as Record<string, unknown>) } : {}
    const top = copy(variables[root!])
    let cursor = top
    for (const [index, name] of path.entries()) {
      if (index === path.length - 1) cursor[name] = value
      else cursor = cursor[name] = copy(cursor[name])
    }
    variables[root!] = top
    return root!
  }

  private applyInputs(elementInstance: ElementInstance): void {
    const { inputs } = elementInstance.element
    if (inputs.length === 0) return
    const visible = this.visibleVariables(elementInstance)
    const locals: Record<string, unknown> = {}
    for (const [target, value] of this.mapped(inputs, visible)) {
      const root = this.assign(visible, target, value)
      locals[root] = visible[root]
    }
    for (const [name, value] of Object.entries(locals)) this.setVariable(elementInstance.variables, name, value)
  }

  /** The variables an element completes with (a job's, a task's, a message's): kept local for output mappings, else propagated. */
  private setResult(elementInstance: ElementInstance, variables: Readonly<Record<string, unknown>>): void {
    if (elementInstance.element.outputs === undefined) this.propagate(elementInstance, variables)
    else for (const [name, value] of Object.entries(variables)) this.setVariable(elementInstance.variables, name, value)
  }

  /** Output mappings, then leave through every outgoing flow. */
  private complete(elementInstance: ElementInstance, now: number): void {
    const { outputs, outgoing } = elementInstance.element
    const mapped = outputs === undefined || this.attempt(elementInstance, "IO_MAPPING_ERROR", now, () => {
      const results: Record<string, unknown> = {}
      for (const [target, value] of this.mapped(outputs, this.visibleVariables(elementInstance))) {
        const merged = { ...this.variablesOf(elementInstance.instance), ...results }
        const root = this.assign(merged, target, value)
        results[root] = merged[root]
      }
      this.setVariables(elementInstance.instance, results)
    }, (later) => this.complete(elementInstance, later))
    if (mapped) this.leave(elementInstance, outgoing.map((flow) => flow.target), now)
  }

  private leave(elementInstance: ElementInstance, targets: ReadonlyArray<string>, now: number): void {
    elementInstance.state = "COMPLETED"
    elementInstance.endDate = now
    for (const target of targets) this.activate(elementInstance.instance, target, now)
    const { instance } = elementInstance
    if (
      instance.state === "ACTIVE" && targets.length === 0 && instance.joins.size === 0 &&
      this.activeElements(instance).length === 0
    ) {
      this.finish(instance, "COMPLETED", now)
    }
  }

  /** Zeebe's exclusive gateway: the first flow whose condition is true, else the default flow. */
  private chooseFlow(elementInstance: ElementInstance, now: number): void {
    const { element } = elementInstance
    const only = element.outgoing.length === 1 ? element.outgoing[0]! : undefined
    if (only !== undefined && only.condition === undefined) return this.leave(elementInstance, [only.target], now)
    const variables = this.visibleVariables(elementInstance)
    const warnings: Array<string> = []
    for (const flow of element.outgoing) {
      if (flow.id === element.defaultFlow || flow.condition === undefined) continue
      const result = evaluateFeelResult(flow.condition, variables)
      warnings.push(...result.warnings)
      if (typeof result.value !== "boolean") {
        throw new FeelError(withWarnings(
          `Expected result of the expression '${flow.condition}' to be 'BOOLEAN', but was '${feelType(result.value)}'.`,
          result.warnings
        ))
      }
      if (result.value) return this.leave(elementInstance, [flow.target], now)
    }
    const fallback = element.outgoing.find((flow) => flow.id === element.defaultFlow)
    if (fallback === undefined) {
      throw new FeelError(withWarnings("Expected at least one condition to evaluate to true, or to have a default flow.", warnings))
    }
    this.leave(elementInstance, [fallback.target], now)
  }

  private terminate(elementInstance: ElementInstance, now: number): void {
    elementInstance.state = "TERMINATED"
    elementInstance.endDate = now
    for (const job of this.openJobs) {
      if (job.elementInstance === elementInstance && job.endTime === undefined) {
        job.state = "CANCELED"
        job.endTime = now
        this.openJobs.delete(job)
        this.touch(job, "CANCELED", now)
      }
    }
    for (const task of this.userTasks.values()) {
      if (task.elementInstance === elementInstance && task.state === "CREATED") task.state = "CANCELED"
    }
    for (const incident of this.incidents.values()) {
      if (incident.elementInstance === elementInstance) incident.state = "RESOLVED"
    }
    elementInstance.incidentKey = undefined
    this.removeWhere(this.subscriptions, (s) => s.elementInstance === elementInstance)
    this.removeWhere(this.timers, (t) => t.elementInstance === elementInstance)
  }

  private removeWhere<A>(items: Array<A>, predicate: (item: A) => boolean): void {
    for (let i = items.length - 1; i >= 0; i--) if (predicate(items[i]!)) items.splice(i, 1)
  }

  // --- incidents --------------------------------------------------------------------------

  private raiseIncident(
    elementInstance: ElementInstance,
    job: Job | undefined,
    errorType: Incident["errorType"],
    errorMessage: string,
    now: number,
    retry: (now: number) => void
  ): Incident {
    const incident: Incident = {
      key: this.key(),
      elementInstance,
      job,
      errorType,
      errorMessage,
      state: "ACTIVE",
      creationTime: now,
      retry
    }
    this.incidents.set(incident.key, incident)
    elementInstance.incidentKey = incident.key
    return incident
  }

  /** Whether the instance has an active incident. */
  hasIncident(instance: Instance): boolean {
    for (const incident of this.incidents.values()) {
      if (incident.state === "ACTIVE" && incident.elementInstance.instance === instance) return true
    }
    return false
  }

  /** Marks the incident resolved and retries what failed (which may raise a new incident). */
  resolveIncident(key: string, now: number): void {
    const incident = this.incidents.get(key)
    if (incident === undefined || incident.state !== "ACTIVE") {
      throw notFound(`Expected to resolve incident with key '${key}', but no such incident was found`)
    }
    if (incident.errorType === "JOB_NO_RETRIES" && incident.job !== undefined && incident.job.retries <= 0) {
      throw conflict(
        `Expected to resolve incident with key '${key}', but job with key '${incident.job.key}' has no retries left; update its retries first`
      )
    }
    incident.state = "RESOLVED"
    incident.elementInstance.incidentKey = undefined
    incident.retry(now)
    this.changed()
  }

  // --- jobs -------------------------------------------------------------------------------

  private createJob(elementInstance: ElementInstance, now: number): void {
    const definition = elementInstance.element.job!
    const variables = this.visibleVariables(elementInstance)
    const type = attributeValue(definition.type, variables)
    if (typeof type !== "string" || type === "") {
      throw new FeelError(`Expected the job type to be a non-empty string, but was '${JSON.stringify(type)}'`)
    }
    const job: Job = {
      key: this.key(),
      type,
      elementInstance,
      retries: integerValue(definition.retries, variables, "the job retries", Number.MAX_SAFE_INTEGER),
      state: "ACTIVATABLE",
      event: "CREATED",
      worker: "",
      deadline: 0,
      activatableAt: now,
      errorMessage: undefined,
      errorCode: undefined,
      failedWithRetriesLeft: false,
      customHeaders: definition.headers,
      creationTime: now,
      lastUpdateTime: now,
      endTime: undefined
    }
    this.jobs.set(job.key, job)
    this.openJobs.add(job)
  }

  private touch(job: Job, event: JobEvent, now: number): void {
    job.event = event
    job.lastUpdateTime = now
  }

  private makeActivatable(job: Job, at: number): void {
    job.state = "ACTIVATABLE"
    job.activatableAt = at
  }

  /** Activates up to `maxJobsToActivate` activatable jobs of `type` (and tenants) for `timeout` ms. */
  activateJobs(
    request: { type: string; worker: string; timeout: number; maxJobsToActivate: number; tenantIds: ReadonlyArray<string> | undefined },
    now: number
  ): Array<Job> {
    const activated: Array<Job> = []
    for (const job of this.openJobs) {
      if (activated.length >= request.maxJobsToActivate) break
      if (job.type !== request.type || job.state !== "ACTIVATABLE" || job.activatableAt > now) continue
      const tenant = job.elementInstance.instance.definition.tenantId
      if (request.tenantIds !== undefined && request.tenantIds.length > 0 && !request.tenantIds.includes(tenant)) continue
      job.state = "ACTIVATED"
      job.worker = request.worker
      job.deadline = now + request.timeout
      this.earliestDeadline = Math.min(this.earliestDeadline, job.deadline)
      job.lastUpdateTime = now
      activated.push(job)
    }
    return activated
  }

  /** A job that exists (not completed, canceled, or of a finished element). */
  private existingJob(key: string): Job {
    const job = this.jobs.get(key)
    if (job === undefined || job.elementInstance.state !== "ACTIVE" || job.state === "COMPLETED" || job.state === "CANCELED") {
      throw notFound(`Expected to find job with key '${key}', but no such job was found`)
    }
    return job
  }

  /** A job a worker may complete, fail or throw an error for: activatable or activated. */
  private activeJob(key: string, action: string): Job {
    const job = this.existingJob(key)
    if (job.state !== "ACTIVATED" && job.state !== "ACTIVATABLE") {
      throw conflict(`Expected to ${action} job with key '${key}', but it is in state '${job.state}'`)
    }
    return job
  }

  /** Completes a job and its element with the job's variables. */
  completeJob(key: string, variables: Readonly<Record<string, unknown>>, now: number): void {
    const job = this.activeJob(key, "complete")
    job.state = "COMPLETED"
    job.endTime = now
    this.openJobs.delete(job)
    this.touch(job, "COMPLETED", now)
    this.setResult(job.elementInstance, variables)
    this.complete(job.elementInstance, now)
    this.changed()
  }

  /** Fails a job: retries left make it activatable again after the back-off, none raise an incident. Variables are set locally. */
  failJob(
    key: string,
    failure: { retries: number; errorMessage: string | undefined; retryBackOff: number; variables: Readonly<Record<string, unknown>> },
    now: number
  ): void {
    const job = this.activeJob(key, "fail")
    job.retries = failure.retries
    job.errorMessage = failure.errorMessage
    this.touch(job, "FAILED", now)
    for (const [name, value] of Object.entries(failure.variables)) this.setVariable(job.elementInstance.variables, name, value)
    if (failure.retries > 0) {
      job.failedWithRetriesLeft = true
      this.makeActivatable(job, now + failure.retryBackOff)
    } else {
      job.state = "FAILED"
      job.failedWithRetriesLeft = false
      this.raiseIncident(
        job.elementInstance,
        job,
        "JOB_NO_RETRIES",
        failure.errorMessage === undefined || failure.errorMessage === "" ? "No more retries left." : failure.errorMessage,
        now,
        (later) => this.makeActivatable(job, later)
      )
    }
    this.changed()
  }

  /** The error boundary event catching `errorCode` on the job's element: one for that code first, else a catch-all one. */
  private catcher(job: Job, errorCode: string): ElementModel | undefined {
    const { element, instance } = job.elementInstance
    const boundaries = instance.definition.model.boundaries.get(element.id) ?? []
    return boundaries.find((b) => b.errorCode === errorCode) ?? boundaries.find((b) => b.errorCode === undefined)
  }

  /** Throws a business error: the catching error boundary event takes over, else an UNHANDLED_ERROR_EVENT incident. */
  throwJobError(key: string, errorCode: string, errorMessage: string | undefined, variables: Readonly<Record<string, unknown>>, now: number) {
    const job = this.activeJob(key, "throw an error for")
    const boundary = this.catcher(job, errorCode)
    job.state = "ERROR_THROWN"
    job.errorCode = errorCode
    job.errorMessage = errorMessage
    this.touch(job, "ERROR_THROWN", now)
    if (boundary === undefined) {
      this.raiseIncident(
        job.elementInstance,
        job,
        "UNHANDLED_ERROR_EVENT",
        `Expected to throw an error event with the code '${errorCode}'${
          errorMessage === undefined ? "" : ` with message '${errorMessage}'`
        }, but it was not caught. No error events are available in the scope.`,
        now,
        (later) => this.makeActivatable(job, later)
      )
      return
    }
    job.endTime = now
    this.openJobs.delete(job)
    const { instance } = job.elementInstance
    this.terminate(job.elementInstance, now)
    this.catchEvent(instance, boundary.id, variables, now)
    this.changed()
  }

  /** Activates a catch event that was triggered with `variables`, which it completes with. */
  private catchEvent(instance: Instance, elementId: string, variables: Readonly<Record<string, unknown>>, now: number): void {
    const elementInstance = this.elementInstance(instance, instance.definition.model.elements.get(elementId)!, now)
    this.setResult(elementInstance, variables)
    this.complete(elementInstance, now)
  }

  /** Changes retries (a failed job takes new retries too, for its incident's resolution) or the activation timeout. */
  updateJob(key: string, changeset: { retries?: number | null | undefined; timeout?: number | null | undefined }, now: number): void {
    const job = this.existingJob(key)
    if (changeset.retries !== undefined && changeset.retries !== null) {
      if (changeset.retries < 1) {
        throw badRequest(`Expected to update retries for job with key '${key}' with a positive amount of retries, but was ${changeset.retries}`)
      }
      job.retries = changeset.retries
      this.touch(job, "RETRIES_UPDATED", now)
    }
    if (changeset.timeout !== undefined && changeset.timeout !== null) {
      if (job.state !== "ACTIVATED") throw conflict(`Expected to update the timeout of job with key '${key}', but it is not activated`)
      job.deadline = now + changeset.timeout
      this.earliestDeadline = Math.min(this.earliestDeadline, job.deadline)
      job.lastUpdateTime = now
    }
    this.changed()
  }

  // --- user tasks -------------------------------------------------------------------------

  private createUserTask(elementInstance: ElementInstance, now: number): void {
    const definition = elementInstance.element.userTask!
    const variables = this.visibleVariables(elementInstance)
    const assignee = definition.assignee === undefined ? null : attributeValue(definition.assignee, variables)
    if (assignee !== null && typeof assignee !== "string") {
      throw new FeelError(`Expected the assignee to be a string, but was '${JSON.stringify(assignee)}'`)
    }
    const date = (text: string | undefined, what: string) => text === undefined ? undefined : dateValue(attributeValue(text, variables), what)
    const task: UserTask = {
      key: this.key(),
      elementInstance,
      state: "CREATED",
      assignee: assignee === null || assignee === "" ? undefined : assignee,
      candidateGroups: listValue(definition.candidateGroups, variables, "the candidate groups"),
      candidateUsers: listValue(definition.candidateUsers, variables, "the candidate users"),
      dueDate: date(definition.dueDate, "the due date"),
      followUpDate: date(definition.followUpDate, "the follow-up date"),
      priority: definition.priority === undefined ? 50 : integerValue(definition.priority, variables, "the priority", 100),
      creationDate: now,
      completionDate: undefined,
      formKey: definition.formKey,
      customHeaders: definition.headers
    }
    this.userTasks.set(task.key, task)
  }

  /** A user task that can still be changed; completed and canceled tasks are gone, as in Zeebe (404). */
  openUserTask(key: string): UserTask {
    const task = this.userTasks.get(key)
    if (task === undefined || task.state !== "CREATED") {
      throw notFound(`Expected to find user task with key '${key}', but no such user task was found`)
    }
    return task
  }

  /** Assigns a task; with `allowOverride` false, a task assigned to someone else is a conflict (409). */
  assignUserTask(key: string, assignee: string, allowOverride: boolean): void {
    const task = this.openUserTask(key)
    if (!allowOverride && task.assignee !== undefined && task.assignee !== assignee) {
      throw conflict(`Expected to claim user task with key '${key}', but it has already been assigned to '${task.assignee}'`)
    }
    task.assignee = assignee
  }

  /** Removes the assignee. */
  unassignUserTask(key: string): void {
    this.openUserTask(key).assignee = undefined
  }

  /** Applies a changeset (see {@link UserTaskChangeset}). */
  updateUserTask(key: string, changeset: UserTaskChangeset): void {
    const task = this.openUserTask(key)
    const date = (value: string, what: string) => value === "" ? undefined : dateValue(value, what)
    try {
      if (changeset.dueDate !== undefined && changeset.dueDate !== null) task.dueDate = date(changeset.dueDate, "the due date")
      if (changeset.followUpDate !== undefined && changeset.followUpDate !== null) {
        task.followUpDate = date(changeset.followUpDate, "the follow-up date")
      }
    } catch (error) {
      if (error instanceof FeelError) throw badRequest(error.message)
      throw error
    }
    if (changeset.candidateGroups !== undefined && changeset.candidateGroups !== null) task.candidateGroups = changeset.candidateGroups
    if (changeset.candidateUsers !== undefined && changeset.candidateUsers !== null) task.candidateUsers = changeset.candidateUsers
    if (changeset.priority !== undefined && changeset.priority !== null) task.priority = changeset.priority
  }

  /** Completes a task and its element with the given variables. */
  completeUserTask(key: string, variables: Readonly<Record<string, unknown>>, now: number): void {
    const task = this.openUserTask(key)
    task.state = "COMPLETED"
    task.completionDate = now
    this.setResult(task.elementInstance, variables)
    this.complete(task.elementInstance, now)
    this.changed()
  }

  // --- messages ---------------------------------------------------------------------------

  /** Opens the subscription, or correlates right away with the first buffered message that matches (FIFO). */
  private subscribe(elementInstance: ElementInstance, now: number): void {
    const message = elementInstance.element.message!
    const expression = message.correlationKey ?? "\"\""
    const result = evaluateFeelResult(expression, this.visibleVariables(elementInstance))
    if (typeof result.value !== "string" && typeof result.value !== "number") {
      throw new FeelError(withWarnings(
        `Failed to extract the correlation key for '${expression}': The value must be either a string or a number, but was '${
          feelType(result.value)
        }'.`,
        result.warnings
      ))
    }
    const subscription: Subscription = { elementInstance, messageName: message.name, correlationKey: String(result.value) }
    const { instance } = elementInstance
    const buffered = this.messages.find((m) =>
      m.name === subscription.messageName && m.correlationKey === subscription.correlationKey && m.expiresAt > now &&
      m.tenantId === instance.definition.tenantId && !m.correlatedProcesses.has(instance.definition.id)
    )
    if (buffered === undefined) {
      this.subscriptions.push(subscription)
      return
    }
    buffered.correlatedProcesses.add(instance.definition.id)
    this.deliver(subscription, buffered.variables, now)
  }

  private deliver(subscription: Subscription, variables: Readonly<Record<string, unknown>>, now: number): void {
    this.setResult(subscription.elementInstance, variables)
    this.complete(subscription.elementInstance, now)
    this.changed()
  }

  /**
   * Correlates (at most once per process) with waiting instances and message start events;
   * buffers for `ttl` when positive. A `messageId` still buffered for the same name, correlation
   * key and tenant is refused (409).
   */
  publishMessage(message: MessageInput & { readonly ttl: number; readonly messageId: string | undefined }, now: number): Correlation {
    const { ttl, ...rest } = message
    const duplicate = rest.messageId !== undefined && this.messages.some((m) =>
      m.messageId === rest.messageId && m.name === rest.name && m.correlationKey === rest.correlationKey &&
      m.tenantId === rest.tenantId && m.expiresAt > now
    )
    if (duplicate) {
      throw new EngineFailure(
        409,
        "ALREADY_EXISTS",
        `Expected to publish a new message with id '${rest.messageId}', but a message with that id was already published`
      )
    }
    const messageKey = this.key()
    const correlatedProcesses = new Set<string>()
    const correlated = this.correlate(rest, correlatedProcesses, now)
    if (ttl > 0) this.messages.push({ ...rest, key: messageKey, expiresAt: now + ttl, correlatedProcesses })
    return { messageKey, processInstanceKey: correlated }
  }

  /** Correlates like a publication without buffering, or fails with 404 when nothing waits for the message. */
  correlateMessage(message: MessageInput, now: number): Correlation {
    const correlated = this.correlate(message, new Set(), now)
    if (correlated === undefined) {
      throw notFound(
        `Expected to find subscriptions for message with name '${message.name}' and correlation key '${message.correlationKey}', but none was found`
      )
    }
    return { messageKey: this.key(), processInstanceKey: correlated }
  }

  /** Delivers to one subscription per process, then starts processes with a matching message start event; answers the first instance. */
  private correlate(message: MessageInput, correlatedProcesses: Set<string>, now: number): string | undefined {
    let first: string | undefined
    for (const subscription of [...this.subscriptions]) {
      const { definition } = subscription.elementInstance.instance
      if (subscription.messageName !== message.name || subscription.correlationKey !== message.correlationKey) continue
      if (definition.tenantId !== message.tenantId || correlatedProcesses.has(definition.id)) continue
      correlatedProcesses.add(definition.id)
      this.removeWhere(this.subscriptions, (s) => s === subscription)
      this.deliver(subscription, message.variables, now)
      first ??= subscription.elementInstance.instance.key
    }
    for (const definition of this.latestDefinitions(message.tenantId)) {
      const start = definition.model.messageStarts.get(message.name)
      if (start === undefined || correlatedProcesses.has(definition.id)) continue
      correlatedProcesses.add(definition.id)
      const instance = this.createInstance(definition, message.variables, now, start)
      first ??= instance.key
    }
    return first
  }

  private latestDefinitions(tenantId: string): Array<Definition> {
    const ids = new Set([...this.definitions.values()].map((definition) => definition.id))
    return [...ids].flatMap((id) => this.latestDefinition(id, tenantId) ?? [])
  }

  // --- timers and time --------------------------------------------------------------------

  private schedule(elementInstance: ElementInstance, now: number): void {
    const timer = elementInstance.element.timer!
    const value = attributeValue(timer.value, this.visibleVariables(elementInstance))
    if (typeof value !== "string") {
      throw new FeelError(`Expected the timer ${timer.kind} to be an ISO-8601 ${timer.kind}, but was '${JSON.stringify(value)}'`)
    }
    const dueAt = timer.kind === "duration" ? addDuration(now, value) : Date.parse(value)
    if (Number.isNaN(dueAt)) throw new FeelError(`Expected the timer date to be an ISO-8601 date-time, but was '${value}'`)
    this.timers.push({ elementInstance, dueAt })
  }

  /** Fires due timers, times out jobs, expires buffered messages; called before every command and by long polls. */
  advanceTo(now: number): void {
    this.removeWhere(this.messages, (message) => message.expiresAt <= now)
    let changed = false
    if (now >= this.earliestDeadline) {
      let earliest = Infinity
      for (const job of this.openJobs) {
        if (job.state !== "ACTIVATED") continue
        if (job.deadline <= now) {
          this.makeActivatable(job, job.deadline)
          this.touch(job, "TIMED_OUT", job.deadline)
          changed = true
        } else {
          earliest = Math.min(earliest, job.deadline)
        }
      }
      this.earliestDeadline = earliest
    }
    const due = this.timers.filter((timer) => timer.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt)
    for (const timer of due) {
      this.removeWhere(this.timers, (t) => t === timer)
      if (timer.elementInstance.state === "ACTIVE") this.complete(timer.elementInstance, timer.dueAt)
      changed = true
    }
    if (changed) this.changed()
  }

  /** The next instant something is due (a timer, a job retry back-off or a job timeout), if any. */
  nextDue(now: number): number | undefined {
    const instants = [
      ...this.timers.map((timer) => timer.dueAt),
      ...[...this.openJobs].filter((job) => job.state === "ACTIVATABLE" && job.activatableAt > now).map((job) => job.activatableAt),
      ...[...this.openJobs].filter((job) => job.state === "ACTIVATED").map((job) => job.deadline)
    ]
    return instants.length === 0 ? undefined : Math.min(...instants)
  }
}
