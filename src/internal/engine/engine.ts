/**
 * The in-memory engine: deployments, process instances, tokens through the supported
 * elements, jobs, user tasks, messages, timers and incidents. Every command is synchronous
 * and takes the current time, so the caller decides what the clock is (Effect's `Clock`).
 */
import type { ElementModel, ProcessModel } from "./bpmn.js"
import { addDuration, evaluateFeel, FeelError } from "./feel.js"

/** A refusal with the status and problem the API would answer. */
export class EngineFailure extends Error {
  constructor(readonly status: number, readonly title: string, readonly detail: string) {
    super(detail)
  }
}

export const notFound = (detail: string) => new EngineFailure(404, "NOT_FOUND", detail)
export const conflict = (detail: string) => new EngineFailure(409, "INVALID_STATE", detail)
export const badRequest = (detail: string) => new EngineFailure(400, "INVALID_ARGUMENT", detail)

export const defaultTenant = "<default>"

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

export interface Instance {
  readonly key: string
  readonly definition: Definition
  state: "ACTIVE" | "COMPLETED" | "TERMINATED"
  readonly variables: Map<string, { key: string; value: unknown }>
  readonly startDate: number
  endDate: number | undefined
  readonly joins: Map<string, number>
}

export interface ElementInstance {
  readonly key: string
  readonly instance: Instance
  readonly element: ElementModel
  state: "ACTIVE" | "COMPLETED" | "TERMINATED"
  readonly startDate: number
  endDate: number | undefined
  incidentKey: string | undefined
}

export interface Job {
  readonly key: string
  readonly type: string
  readonly elementInstance: ElementInstance
  retries: number
  state: "CREATED" | "ACTIVATED" | "FAILED" | "COMPLETED" | "ERROR_THROWN" | "CANCELED"
  worker: string
  deadline: number
  activatableAt: number
  errorMessage: string | undefined
  readonly customHeaders: Readonly<Record<string, string>>
}

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

export interface Incident {
  readonly key: string
  readonly elementInstance: ElementInstance
  readonly job: Job | undefined
  readonly errorType: "JOB_NO_RETRIES" | "CONDITION_ERROR" | "UNHANDLED_ERROR_EVENT" | "EXTRACT_VALUE_ERROR"
  readonly errorMessage: string
  state: "ACTIVE" | "RESOLVED"
  readonly creationTime: number
}

interface Subscription {
  readonly elementInstance: ElementInstance
  readonly messageName: string
  readonly correlationKey: string
}

interface BufferedMessage {
  readonly key: string
  readonly name: string
  readonly correlationKey: string
  readonly variables: Readonly<Record<string, unknown>>
  readonly expiresAt: number
  readonly tenantId: string
}

interface Timer {
  readonly elementInstance: ElementInstance
  readonly dueAt: number
}

/** What a message correlated with. */
export interface Correlation {
  readonly messageKey: string
  readonly processInstanceKey: string | undefined
}

export class Engine {
  private nextKey = 2251799813685249n
  readonly definitions = new Map<string, Definition>()
  readonly instances = new Map<string, Instance>()
  readonly elementInstances = new Map<string, ElementInstance>()
  readonly jobs = new Map<string, Job>()
  readonly userTasks = new Map<string, UserTask>()
  readonly incidents = new Map<string, Incident>()
  private readonly subscriptions: Array<Subscription> = []
  private readonly messages: Array<BufferedMessage> = []
  private readonly timers: Array<Timer> = []
  private readonly listeners = new Set<() => void>()

  key(): string {
    return String(this.nextKey++)
  }

  /** Called whenever jobs may have become activatable (long polling waits on it). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener()
  }

  // --- deployments ------------------------------------------------------------------------

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

  cancelInstance(key: string, now: number): void {
    const instance = this.instances.get(key)
    if (instance === undefined || instance.state !== "ACTIVE") throw notFound(`no active process instance with key ${key}`)
    for (const elementInstance of this.activeElements(instance)) this.terminate(elementInstance, now)
    this.finish(instance, "TERMINATED", now)
  }

  variablesOf(instance: Instance): Record<string, unknown> {
    return Object.fromEntries([...instance.variables].map(([name, { value }]) => [name, value]))
  }

  setVariables(instance: Instance, variables: Readonly<Record<string, unknown>>): void {
    for (const [name, value] of Object.entries(variables)) {
      const existing = instance.variables.get(name)
      instance.variables.set(name, { key: existing?.key ?? this.key(), value })
    }
  }

  private activeElements(instance: Instance): Array<ElementInstance> {
    return [...this.elementInstances.values()].filter((e) => e.instance === instance && e.state === "ACTIVE")
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
    const elementInstance: ElementInstance = {
      key: this.key(),
      instance,
      element,
      state: "ACTIVE",
      startDate: now,
      endDate: undefined,
      incidentKey: undefined
    }
    this.elementInstances.set(elementInstance.key, elementInstance)
    this.enter(elementInstance, now)
  }

  private enter(elementInstance: ElementInstance, now: number): void {
    const { element } = elementInstance
    switch (element.kind) {
      case "serviceTask":
        return this.createJob(elementInstance, now)
      case "userTask":
        return this.createUserTask(elementInstance, now)
      case "messageCatchEvent":
        return this.subscribe(elementInstance, now)
      case "timerCatchEvent":
        this.timers.push({ elementInstance, dueAt: addDuration(now, element.timerDuration ?? "PT0S") })
        return
      case "exclusiveGateway":
        return this.chooseFlow(elementInstance, now)
      default:
        this.leave(elementInstance, element.outgoing.map((flow) => flow.target), now)
    }
  }

  private leave(elementInstance: ElementInstance, targets: ReadonlyArray<string>, now: number): void {
    elementInstance.state = "COMPLETED"
    elementInstance.endDate = now
    for (const target of targets) this.activate(elementInstance.instance, target, now)
    const { instance } = elementInstance
    if (instance.state === "ACTIVE" && this.activeElements(instance).length === 0 && targets.length === 0) {
      this.finish(instance, "COMPLETED", now)
    }
  }

  private chooseFlow(elementInstance: ElementInstance, now: number): void {
    const { element, instance } = elementInstance
    try {
      const variables = this.variablesOf(instance)
      const taken = element.outgoing.find((flow) =>
        flow.id !== element.defaultFlow && flow.condition !== undefined && evaluateFeel(flow.condition, variables) === true
      ) ?? element.outgoing.find((flow) => flow.id === element.defaultFlow)
      if (taken === undefined) {
        throw new FeelError(`no outgoing sequence flow of ${element.id} had a true condition, and there is no default flow`)
      }
      this.leave(elementInstance, [taken.target], now)
    } catch (error) {
      if (!(error instanceof FeelError)) throw error
      this.raiseIncident(elementInstance, undefined, "CONDITION_ERROR", error.message, now)
    }
  }

  private terminate(elementInstance: ElementInstance, now: number): void {
    elementInstance.state = "TERMINATED"
    elementInstance.endDate = now
    for (const job of this.jobs.values()) {
      if (job.elementInstance === elementInstance && (job.state === "CREATED" || job.state === "ACTIVATED" || job.state === "FAILED")) {
        job.state = "CANCELED"
      }
    }
    for (const task of this.userTasks.values()) {
      if (task.elementInstance === elementInstance && task.state === "CREATED") task.state = "CANCELED"
    }
    for (const incident of this.incidents.values()) {
      if (incident.elementInstance === elementInstance) incident.state = "RESOLVED"
    }
    this.removeWhere(this.subscriptions, (s) => s.elementInstance === elementInstance)
    this.removeWhere(this.timers, (t) => t.elementInstance === elementInstance)
  }

  private removeWhere<A>(items: Array<A>, predicate: (item: A) => boolean): void {
    for (let i = items.length - 1; i >= 0; i--) if (predicate(items[i]!)) items.splice(i, 1)
  }

  private raiseIncident(
    elementInstance: ElementInstance,
    job: Job | undefined,
    errorType: Incident["errorType"],
    errorMessage: string,
    now: number
  ): Incident {
    const incident: Incident = { key: this.key(), elementInstance, job, errorType, errorMessage, state: "ACTIVE", creationTime: now }
    this.incidents.set(incident.key, incident)
    elementInstance.incidentKey = incident.key
    return incident
  }

  hasIncident(instance: Instance): boolean {
    for (const incident of this.incidents.values()) {
      if (incident.state === "ACTIVE" && incident.elementInstance.instance === instance) return true
    }
    return false
  }

  resolveIncident(key: string, now: number): void {
    const incident = this.incidents.get(key)
    if (incident === undefined) throw notFound(`no incident with key ${key}`)
    if (incident.state !== "ACTIVE") throw conflict(`incident ${key} is already resolved`)
    incident.state = "RESOLVED"
    incident.elementInstance.incidentKey = undefined
    if (incident.job !== undefined) {
      if (incident.job.retries <= 0) {
        incident.state = "ACTIVE"
        throw conflict(`job ${incident.job.key} has no retries left; update its retries before resolving the incident`)
      }
      incident.job.state = "CREATED"
      incident.job.activatableAt = now
      this.changed()
    } else if (incident.elementInstance.element.kind === "exclusiveGateway") {
      this.chooseFlow(incident.elementInstance, now)
    }
  }

  // --- jobs -------------------------------------------------------------------------------

  private createJob(elementInstance: ElementInstance, now: number): void {
    const definition = elementInstance.element.job!
    const job: Job = {
      key: this.key(),
      type: definition.type,
      elementInstance,
      retries: definition.retries,
      state: "CREATED",
      worker: "",
      deadline: 0,
      activatableAt: now,
      errorMessage: undefined,
      customHeaders: definition.headers
    }
    this.jobs.set(job.key, job)
  }

  private isActivatable(job: Job, now: number): boolean {
    if (job.state === "CREATED") return job.activatableAt <= now
    return job.state === "ACTIVATED" && job.deadline <= now
  }

  activateJobs(
    request: { type: string; worker: string; timeout: number; maxJobsToActivate: number; tenantIds: ReadonlyArray<string> | undefined },
    now: number
  ): Array<Job> {
    const activated: Array<Job> = []
    for (const job of this.jobs.values()) {
      if (activated.length >= request.maxJobsToActivate) break
      if (job.type !== request.type || !this.isActivatable(job, now)) continue
      const tenant = job.elementInstance.instance.definition.tenantId
      if (request.tenantIds !== undefined && request.tenantIds.length > 0 && !request.tenantIds.includes(tenant)) continue
      job.state = "ACTIVATED"
      job.worker = request.worker
      job.deadline = now + request.timeout
      activated.push(job)
    }
    return activated
  }

  private activeJob(key: string, _now: number): Job {
    const job = this.jobs.get(key)
    if (job === undefined || job.elementInstance.state !== "ACTIVE" || job.state === "CANCELED") {
      throw notFound(`no active job with key ${key}`)
    }
    if (job.state !== "ACTIVATED" && job.state !== "CREATED") {
      throw conflict(`job ${key} is ${job.state.toLowerCase()}, it cannot be changed`)
    }
    return job
  }

  completeJob(key: string, variables: Readonly<Record<string, unknown>>, now: number): void {
    const job = this.activeJob(key, now)
    job.state = "COMPLETED"
    this.setVariables(job.elementInstance.instance, variables)
    this.leave(job.elementInstance, job.elementInstance.element.outgoing.map((flow) => flow.target), now)
    this.changed()
  }

  failJob(
    key: string,
    failure: { retries: number; errorMessage: string | undefined; retryBackOff: number; variables: Readonly<Record<string, unknown>> },
    now: number
  ): void {
    const job = this.activeJob(key, now)
    job.retries = failure.retries
    job.errorMessage = failure.errorMessage
    this.setVariables(job.elementInstance.instance, failure.variables)
    if (failure.retries > 0) {
      job.state = "CREATED"
      job.activatableAt = now + failure.retryBackOff
    } else {
      job.state = "FAILED"
      this.raiseIncident(job.elementInstance, job, "JOB_NO_RETRIES", failure.errorMessage ?? "No more retries left.", now)
    }
    this.changed()
  }

  throwJobError(key: string, errorCode: string, errorMessage: string | undefined, variables: Readonly<Record<string, unknown>>, now: number) {
    const job = this.activeJob(key, now)
    const { element, instance } = job.elementInstance
    const boundary = (instance.definition.model.boundaries.get(element.id) ?? []).find((candidate) =>
      candidate.errorCode === undefined || candidate.errorCode === errorCode
    )
    job.state = "ERROR_THROWN"
    job.errorMessage = errorMessage
    if (boundary === undefined) {
      job.state = "FAILED"
      this.raiseIncident(
        job.elementInstance,
        job,
        "UNHANDLED_ERROR_EVENT",
        `Expected to throw an error event with the code '${errorCode}'${errorMessage === undefined ? "" : ` with message '${errorMessage}'`}, but it was not caught.`,
        now
      )
      return
    }
    this.setVariables(instance, variables)
    this.terminate(job.elementInstance, now)
    this.activate(instance, boundary.id, now)
    this.changed()
  }

  /** Changes retries or the activation timeout; a FAILED job (with an incident) takes new retries too. */
  updateJob(key: string, changeset: { retries?: number | undefined; timeout?: number | undefined }, now: number): void {
    const failed = this.jobs.get(key)
    const job = failed?.state === "FAILED" ? failed : this.activeJob(key, now)
    if (changeset.retries !== undefined) job.retries = changeset.retries
    if (changeset.timeout !== undefined && job.state === "ACTIVATED") job.deadline = now + changeset.timeout
  }

  // --- user tasks -------------------------------------------------------------------------

  private createUserTask(elementInstance: ElementInstance, now: number): void {
    const definition = elementInstance.element.userTask!
    const task: UserTask = {
      key: this.key(),
      elementInstance,
      state: "CREATED",
      assignee: definition.assignee,
      candidateGroups: definition.candidateGroups,
      candidateUsers: definition.candidateUsers,
      dueDate: definition.dueDate,
      followUpDate: definition.followUpDate,
      priority: definition.priority,
      creationDate: now,
      completionDate: undefined,
      formKey: definition.formKey,
      customHeaders: definition.headers
    }
    this.userTasks.set(task.key, task)
  }

  openUserTask(key: string): UserTask {
    const task = this.userTasks.get(key)
    if (task === undefined) throw notFound(`no user task with key ${key}`)
    if (task.state !== "CREATED") throw conflict(`user task ${key} is ${task.state.toLowerCase()}`)
    return task
  }

  assignUserTask(key: string, assignee: string, allowOverride: boolean): void {
    const task = this.openUserTask(key)
    if (!allowOverride && task.assignee !== undefined && task.assignee !== assignee) {
      throw conflict(`user task ${key} is already assigned to ${task.assignee}`)
    }
    task.assignee = assignee
  }

  unassignUserTask(key: string): void {
    this.openUserTask(key).assignee = undefined
  }

  completeUserTask(key: string, variables: Readonly<Record<string, unknown>>, now: number): void {
    const task = this.openUserTask(key)
    task.state = "COMPLETED"
    task.completionDate = now
    this.setVariables(task.elementInstance.instance, variables)
    this.leave(task.elementInstance, task.elementInstance.element.outgoing.map((flow) => flow.target), now)
    this.changed()
  }

  // --- messages and timers ----------------------------------------------------------------

  private subscribe(elementInstance: ElementInstance, now: number): void {
    const message = elementInstance.element.message!
    const variables = this.variablesOf(elementInstance.instance)
    let correlationKey: string
    try {
      const value = message.correlationKey === undefined ? "" : evaluateFeel(message.correlationKey, variables)
      correlationKey = typeof value === "string" ? value : JSON.stringify(value)
    } catch (error) {
      if (!(error instanceof FeelError)) throw error
      this.raiseIncident(elementInstance, undefined, "EXTRACT_VALUE_ERROR", error.message, now)
      return
    }
    const subscription: Subscription = { elementInstance, messageName: message.name, correlationKey }
    const buffered = this.messages.findIndex((m) =>
      m.name === subscription.messageName && m.correlationKey === correlationKey && m.expiresAt > now
    )
    if (buffered >= 0) {
      const [message] = this.messages.splice(buffered, 1)
      this.deliver(subscription, message!.variables, now)
    } else {
      this.subscriptions.push(subscription)
    }
  }

  private deliver(subscription: Subscription, variables: Readonly<Record<string, unknown>>, now: number): void {
    this.setVariables(subscription.elementInstance.instance, variables)
    const element = subscription.elementInstance.element
    this.leave(subscription.elementInstance, element.outgoing.map((flow) => flow.target), now)
    this.changed()
  }

  /** Correlates to every waiting instance (one subscription each) and message start event; buffers for `ttl` otherwise. */
  publishMessage(
    message: { name: string; correlationKey: string; ttl: number; variables: Readonly<Record<string, unknown>>; tenantId: string },
    now: number
  ): Correlation {
    const messageKey = this.key()
    const correlated = this.correlate(message, now, false)
    if (correlated === undefined && message.ttl > 0) {
      this.messages.push({ key: messageKey, ...message, expiresAt: now + message.ttl })
    }
    return { messageKey, processInstanceKey: correlated }
  }

  /** Correlates to one waiting instance or message start event, or fails with 404. */
  correlateMessage(
    message: { name: string; correlationKey: string; variables: Readonly<Record<string, unknown>>; tenantId: string },
    now: number
  ): Correlation {
    const correlated = this.correlate(message, now, true)
    if (correlated === undefined) {
      throw notFound(`no process instance waits for message '${message.name}' with correlation key '${message.correlationKey}'`)
    }
    return { messageKey: this.key(), processInstanceKey: correlated }
  }

  private correlate(
    message: { name: string; correlationKey: string; variables: Readonly<Record<string, unknown>>; tenantId: string },
    now: number,
    once: boolean
  ): string | undefined {
    let first: string | undefined
    const seen = new Set<Instance>()
    for (const subscription of [...this.subscriptions]) {
      if (subscription.messageName !== message.name || subscription.correlationKey !== message.correlationKey) continue
      if (seen.has(subscription.elementInstance.instance)) continue
      seen.add(subscription.elementInstance.instance)
      this.removeWhere(this.subscriptions, (s) => s === subscription)
      this.deliver(subscription, message.variables, now)
      first ??= subscription.elementInstance.instance.key
      if (once) return first
    }
    for (const definition of this.latestDefinitions(message.tenantId)) {
      const start = definition.model.messageStarts.get(message.name)
      if (start === undefined) continue
      const instance = this.createInstance(definition, message.variables, now, start)
      first ??= instance.key
      if (once) return first
    }
    return first
  }

  private latestDefinitions(tenantId: string): Array<Definition> {
    const ids = new Set([...this.definitions.values()].map((definition) => definition.id))
    return [...ids].flatMap((id) => this.latestDefinition(id, tenantId) ?? [])
  }

  /** Fires due timers, expires buffered messages; called before every command and by the ticker. */
  advanceTo(now: number): void {
    this.removeWhere(this.messages, (message) => message.expiresAt <= now)
    const due = this.timers.filter((timer) => timer.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt)
    for (const timer of due) {
      this.removeWhere(this.timers, (t) => t === timer)
      if (timer.elementInstance.state !== "ACTIVE") continue
      const element = timer.elementInstance.element
      this.leave(timer.elementInstance, element.outgoing.map((flow) => flow.target), timer.dueAt)
    }
    if (due.length > 0) this.changed()
  }

  /** The next instant something is due (a timer or a job retry back-off), if any. */
  nextDue(now: number): number | undefined {
    const instants = [
      ...this.timers.map((timer) => timer.dueAt),
      ...[...this.jobs.values()].filter((job) => job.state === "CREATED" && job.activatableAt > now).map((job) => job.activatableAt),
      ...[...this.jobs.values()].filter((job) => job.state === "ACTIVATED").map((job) => job.deadline)
    ]
    return instants.length === 0 ? undefined : Math.min(...instants)
  }
}
