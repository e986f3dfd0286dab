/**
 * The API's view of engine objects: the success bodies of the 8.9 spec, field for field.
 */
import type { Definition, ElementInstance, Engine, Incident, Instance, Job, Scope, UserTask } from "./engine.js"

const iso = (millis: number | undefined): string | null => (millis === undefined ? null : new Date(millis).toISOString())

/** `ProcessDefinitionResult`. */
export const processDefinitionRecord = (definition: Definition) => ({
  processDefinitionKey: definition.key,
  processDefinitionId: definition.id,
  name: definition.name ?? null,
  resourceName: definition.resourceName,
  version: definition.version,
  versionTag: null,
  tenantId: definition.tenantId,
  hasStartForm: false,
  state: "ACTIVE"
})

/** `ProcessInstanceResult`. */
export const processInstanceRecord = (engine: Engine, instance: Instance) => ({
  processInstanceKey: instance.key,
  processDefinitionKey: instance.definition.key,
  processDefinitionId: instance.definition.id,
  processDefinitionName: instance.definition.name ?? null,
  processDefinitionVersion: instance.definition.version,
  processDefinitionVersionTag: null,
  startDate: iso(instance.startDate)!,
  endDate: iso(instance.endDate),
  state: instance.state,
  hasIncident: engine.hasIncident(instance),
  tenantId: instance.definition.tenantId,
  parentProcessInstanceKey: null,
  parentElementInstanceKey: null,
  rootProcessInstanceKey: null,
  tags: [],
  businessId: null
})

/** `ElementInstanceResult`. */
export const elementInstanceRecord = (elementInstance: ElementInstance) => ({
  elementInstanceKey: elementInstance.key,
  processInstanceKey: elementInstance.instance.key,
  processDefinitionKey: elementInstance.instance.definition.key,
  processDefinitionId: elementInstance.instance.definition.id,
  elementId: elementInstance.element.id,
  elementName: elementInstance.element.name ?? elementInstance.element.id,
  type: elementInstance.element.type,
  state: elementInstance.state,
  startDate: iso(elementInstance.startDate)!,
  endDate: iso(elementInstance.endDate),
  hasIncident: elementInstance.incidentKey !== undefined,
  incidentKey: elementInstance.incidentKey ?? null,
  tenantId: elementInstance.instance.definition.tenantId,
  rootProcessInstanceKey: null
})

/** `UserTaskResult`. */
export const userTaskRecord = (task: UserTask) => {
  const { element, instance } = task.elementInstance
  return {
    userTaskKey: task.key,
    name: element.name ?? null,
    state: task.state,
    assignee: task.assignee ?? null,
    elementId: element.id,
    elementInstanceKey: task.elementInstance.key,
    candidateGroups: [...task.candidateGroups],
    candidateUsers: [...task.candidateUsers],
    processDefinitionId: instance.definition.id,
    processDefinitionKey: instance.definition.key,
    processDefinitionVersion: instance.definition.version,
    processInstanceKey: instance.key,
    rootProcessInstanceKey: null,
    processName: instance.definition.name ?? null,
    creationDate: iso(task.creationDate)!,
    completionDate: iso(task.completionDate),
    followUpDate: task.followUpDate ?? null,
    dueDate: task.dueDate ?? null,
    tenantId: instance.definition.tenantId,
    externalFormReference: null,
    formKey: null,
    customHeaders: { ...task.customHeaders },
    priority: task.priority,
    tags: []
  }
}

/** Only the variables named in `names` (all when there are none). */
export const pick = (variables: Readonly<Record<string, unknown>>, names: ReadonlyArray<string> | undefined) =>
  names === undefined || names.length === 0
    ? { ...variables }
    : Object.fromEntries(names.filter((name) => name in variables).map((name) => [name, variables[name]]))

/** `ActivatedJobResult`: what a worker receives, with the variables its element sees. */
export const activatedJobRecord = (engine: Engine, job: Job, fetchVariable: ReadonlyArray<string> | undefined) => {
  const { element, instance } = job.elementInstance
  return {
    jobKey: job.key,
    type: job.type,
    processInstanceKey: instance.key,
    processDefinitionKey: instance.definition.key,
    processDefinitionId: instance.definition.id,
    processDefinitionVersion: instance.definition.version,
    elementId: element.id,
    elementInstanceKey: job.elementInstance.key,
    customHeaders: { ...job.customHeaders },
    worker: job.worker,
    retries: job.retries,
    deadline: job.deadline,
    variables: pick(engine.visibleVariables(job.elementInstance), fetchVariable),
    tenantId: instance.definition.tenantId,
    kind: "BPMN_ELEMENT",
    listenerEventType: "UNSPECIFIED",
    userTask: null,
    tags: [],
    rootProcessInstanceKey: null
  }
}

/** `JobSearchResult`: `state` is the last thing that happened to the job. */
export const jobRecord = (job: Job) => {
  const { element, instance } = job.elementInstance
  return {
    jobKey: job.key,
    type: job.type,
    worker: job.worker,
    state: job.event,
    kind: "BPMN_ELEMENT",
    listenerEventType: "UNSPECIFIED",
    retries: job.retries,
    isDenied: null,
    deniedReason: null,
    hasFailedWithRetriesLeft: job.failedWithRetriesLeft,
    errorCode: job.errorCode ?? null,
    errorMessage: job.errorMessage ?? null,
    customHeaders: { ...job.customHeaders },
    deadline: job.state === "ACTIVATED" ? iso(job.deadline) : null,
    endTime: iso(job.endTime),
    processDefinitionId: instance.definition.id,
    processDefinitionKey: instance.definition.key,
    processInstanceKey: instance.key,
    rootProcessInstanceKey: null,
    elementId: element.id,
    elementInstanceKey: job.elementInstance.key,
    tenantId: instance.definition.tenantId,
    creationTime: iso(job.creationTime),
    lastUpdateTime: iso(job.lastUpdateTime)
  }
}

/** `IncidentResult`. */
export const incidentRecord = (incident: Incident) => {
  const { element, instance } = incident.elementInstance
  return {
    incidentKey: incident.key,
    processDefinitionKey: instance.definition.key,
    processDefinitionId: instance.definition.id,
    processInstanceKey: instance.key,
    rootProcessInstanceKey: null,
    errorType: incident.errorType,
    errorMessage: incident.errorMessage,
    elementId: element.id,
    elementInstanceKey: incident.elementInstance.key,
    creationTime: iso(incident.creationTime)!,
    state: incident.state,
    jobKey: incident.job?.key ?? null,
    tenantId: instance.definition.tenantId
  }
}

const scopeRecords = (instance: Instance, scopeKey: string, scope: Scope) =>
  [...scope].map(([name, { key, value }]) => ({
    variableKey: key,
    name,
    value: JSON.stringify(value),
    isTruncated: false,
    processInstanceKey: instance.key,
    rootProcessInstanceKey: null,
    scopeKey,
    tenantId: instance.definition.tenantId
  }))

/** The variables of a process instance: its own scope's, then each element instance's local ones. */
export const variableRecords = (engine: Engine, instance: Instance) => [
  ...scopeRecords(instance, instance.key, instance.variables),
  ...[...engine.elementInstances.values()]
    .filter((elementInstance) => elementInstance.instance === instance)
    .flatMap((elementInstance) => scopeRecords(instance, elementInstance.key, elementInstance.variables))
]
