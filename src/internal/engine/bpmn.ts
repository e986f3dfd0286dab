/**
 * BPMN XML (with Zeebe extensions) → the engine's process model, through `bpmn-moddle`
 * and `zeebe-bpmn-moddle`. Elements the engine cannot run are refused at deployment.
 */
import { BpmnModdle } from "bpmn-moddle"
import zeebe from "zeebe-bpmn-moddle/resources/zeebe.json" with { type: "json" }

/** How a sequence flow leaves its source. */
export interface FlowModel {
  readonly id: string
  readonly target: string
  /** A FEEL expression, without its leading `=`. */
  readonly condition: string | undefined
}

export interface JobDefinition {
  readonly type: string
  readonly retries: number
  readonly headers: Readonly<Record<string, string>>
}

export interface UserTaskDefinition {
  readonly assignee: string | undefined
  readonly candidateGroups: ReadonlyArray<string>
  readonly candidateUsers: ReadonlyArray<string>
  readonly dueDate: string | undefined
  readonly followUpDate: string | undefined
  readonly priority: number
  readonly formKey: string | undefined
  readonly headers: Readonly<Record<string, string>>
}

export type ElementKind =
  | "startEvent"
  | "endEvent"
  | "serviceTask"
  | "userTask"
  | "exclusiveGateway"
  | "parallelGateway"
  | "messageCatchEvent"
  | "timerCatchEvent"
  | "errorBoundaryEvent"

export interface ElementModel {
  readonly id: string
  readonly name: string | undefined
  readonly kind: ElementKind
  /** The API's element type, e.g. `SERVICE_TASK`. */
  readonly type: string
  readonly outgoing: ReadonlyArray<FlowModel>
  readonly incoming: number
  readonly defaultFlow: string | undefined
  readonly job: JobDefinition | undefined
  readonly userTask: UserTaskDefinition | undefined
  /** Message catch events and message start events: the message name and the correlation key expression. */
  readonly message: { readonly name: string; readonly correlationKey: string | undefined } | undefined
  /** Timer catch events: an ISO-8601 duration. */
  readonly timerDuration: string | undefined
  /** Error boundary events: the activity they are attached to and the error code they catch (any when undefined). */
  readonly attachedTo: string | undefined
  readonly errorCode: string | undefined
}

export interface ProcessModel {
  readonly id: string
  readonly name: string | undefined
  readonly elements: ReadonlyMap<string, ElementModel>
  /** The none start event. */
  readonly startEvent: string | undefined
  /** Message start events by message name. */
  readonly messageStarts: ReadonlyMap<string, string>
  /** Error boundary events by the activity they are attached to. */
  readonly boundaries: ReadonlyMap<string, ReadonlyArray<ElementModel>>
}

/** A model the engine refuses, with the reason. */
export class ModelError extends Error {}

type Node = Record<string, any>

const extension = (element: Node, type: string): Node | undefined =>
  (element.extensionElements?.values ?? []).find((value: Node) => value.$type === type)

const headersOf = (element: Node): Record<string, string> =>
  Object.fromEntries(
    (extension(element, "zeebe:TaskHeaders")?.values ?? []).map((header: Node) => [header.key, header.value])
  )

const feel = (expression: string | undefined): string | undefined =>
  expression === undefined ? undefined : expression.trim().replace(/^=/, "")

const list = (text: string | undefined): ReadonlyArray<string> =>
  text === undefined ? [] : text.split(",").map((part) => part.trim()).filter((part) => part.length > 0)

const jobDefinition = (element: Node): JobDefinition => {
  const definition = extension(element, "zeebe:TaskDefinition")
  if (definition?.type === undefined) throw new ModelError(`service task ${element.id} has no zeebe:taskDefinition type`)
  return { type: definition.type, retries: Number(definition.retries ?? 3), headers: headersOf(element) }
}

const userTaskDefinition = (element: Node): UserTaskDefinition => {
  const assignment = extension(element, "zeebe:AssignmentDefinition")
  const schedule = extension(element, "zeebe:TaskSchedule")
  const priority = extension(element, "zeebe:PriorityDefinition")
  const form = extension(element, "zeebe:FormDefinition")
  return {
    assignee: assignment?.assignee,
    candidateGroups: list(assignment?.candidateGroups),
    candidateUsers: list(assignment?.candidateUsers),
    dueDate: schedule?.dueDate,
    followUpDate: schedule?.followUpDate,
    priority: priority?.priority === undefined ? 50 : Number(priority.priority),
    formKey: form?.formKey,
    headers: headersOf(element)
  }
}

const eventDefinition = (element: Node): Node | undefined => element.eventDefinitions?.[0]

const classify = (element: Node): { kind: ElementKind; type: string } => {
  const definition = eventDefinition(element)
  switch (element.$type) {
    case "bpmn:StartEvent":
      if (definition === undefined || definition.$type === "bpmn:MessageEventDefinition") {
        return { kind: "startEvent", type: "START_EVENT" }
      }
      break
    case "bpmn:EndEvent":
      if (definition === undefined) return { kind: "endEvent", type: "END_EVENT" }
      break
    case "bpmn:ServiceTask":
      return { kind: "serviceTask", type: "SERVICE_TASK" }
    case "bpmn:UserTask":
      if (extension(element, "zeebe:UserTask") !== undefined) return { kind: "userTask", type: "USER_TASK" }
      throw new ModelError(`user task ${element.id} is a job-worker user task; the test engine runs zeebe:userTask only`)
    case "bpmn:ExclusiveGateway":
      return { kind: "exclusiveGateway", type: "EXCLUSIVE_GATEWAY" }
    case "bpmn:ParallelGateway":
      return { kind: "parallelGateway", type: "PARALLEL_GATEWAY" }
    case "bpmn:IntermediateCatchEvent":
      if (definition?.$type === "bpmn:MessageEventDefinition") return { kind: "messageCatchEvent", type: "INTERMEDIATE_CATCH_EVENT" }
      if (definition?.$type === "bpmn:TimerEventDefinition") return { kind: "timerCatchEvent", type: "INTERMEDIATE_CATCH_EVENT" }
      break
    case "bpmn:BoundaryEvent":
      if (definition?.$type === "bpmn:ErrorEventDefinition") return { kind: "errorBoundaryEvent", type: "BOUNDARY_EVENT" }
      break
  }
  const what = definition === undefined ? element.$type : `${element.$type} with ${definition.$type}`
  throw new ModelError(`element ${element.id} (${what}) is not supported by the test engine`)
}

const messageOf = (element: Node): ElementModel["message"] => {
  const message = eventDefinition(element)?.messageRef
  if (message === undefined) return undefined
  const subscription = extension(message, "zeebe:Subscription")
  return { name: message.name, correlationKey: feel(subscription?.correlationKey) }
}

const elementModel = (element: Node, flows: ReadonlyArray<Node>): ElementModel => {
  const { kind, type } = classify(element)
  const definition = eventDefinition(element)
  return {
    id: element.id,
    name: element.name,
    kind,
    type,
    outgoing: flows.filter((flow) => flow.sourceRef?.id === element.id).map((flow) => ({
      id: flow.id,
      target: flow.targetRef.id,
      condition: feel(flow.conditionExpression?.body)
    })),
    incoming: flows.filter((flow) => flow.targetRef?.id === element.id).length,
    defaultFlow: element.default?.id,
    job: kind === "serviceTask" ? jobDefinition(element) : undefined,
    userTask: kind === "userTask" ? userTaskDefinition(element) : undefined,
    message: kind === "messageCatchEvent" || kind === "startEvent" ? messageOf(element) : undefined,
    timerDuration: kind === "timerCatchEvent" ? definition?.timeDuration?.body?.trim() : undefined,
    attachedTo: element.attachedToRef?.id,
    errorCode: definition?.errorRef?.errorCode
  }
}

const processModel = (process: Node): ProcessModel => {
  const nodes: ReadonlyArray<Node> = process.flowElements ?? []
  const flows = nodes.filter((node) => node.$type === "bpmn:SequenceFlow")
  const elements = new Map<string, ElementModel>()
  for (const node of nodes) {
    if (node.$type !== "bpmn:SequenceFlow") elements.set(node.id, elementModel(node, flows))
  }
  const starts = [...elements.values()].filter((element) => element.kind === "startEvent")
  const boundaries = new Map<string, Array<ElementModel>>()
  for (const element of elements.values()) {
    if (element.kind !== "errorBoundaryEvent" || element.attachedTo === undefined) continue
    boundaries.set(element.attachedTo, [...(boundaries.get(element.attachedTo) ?? []), element])
  }
  return {
    id: process.id,
    name: process.name,
    elements,
    startEvent: starts.find((start) => start.message === undefined)?.id,
    messageStarts: new Map(starts.flatMap((start) => (start.message === undefined ? [] : [[start.message.name, start.id]]))),
    boundaries
  }
}

const moddle = new BpmnModdle({ zeebe })

/** Parses a BPMN document into the executable processes it defines. */
export const parseBpmn = async (xml: string): Promise<ReadonlyArray<ProcessModel>> => {
  let definitions: Node
  try {
    definitions = (await moddle.fromXML(xml)).rootElement as Node
  } catch (cause) {
    throw new ModelError(`the resource is not valid BPMN: ${cause instanceof Error ? cause.message : String(cause)}`)
  }
  const processes = (definitions.rootElements ?? []).filter((root: Node) => root.$type === "bpmn:Process")
  if (processes.length === 0) throw new ModelError("the resource defines no process")
  return processes.filter((process: Node) => process.isExecutable !== false).map(processModel)
}
