/**
 * BPMN XML (with Zeebe extensions) → the engine's process model, through `bpmn-moddle`
 * and `zeebe-bpmn-moddle`. Elements the engine cannot run are refused at deployment.
 *
 * Attributes Zeebe allows to be FEEL expressions (job type and retries, user task
 * assignment, schedule and priority, timer definitions, mapping sources) are kept as
 * written, `=` included; the engine evaluates them when the element is entered.
 */
import { BpmnModdle } from "bpmn-moddle"
import zeebe from "zeebe-bpmn-moddle/resources/zeebe.json" with { type: "json" }
import { addDuration, FeelError } from "./feel.js"

/** How a sequence flow leaves its source. */
export interface FlowModel {
  readonly id: string
  readonly target: string
  /** A FEEL expression, without its leading `=`. */
  readonly condition: string | undefined
}

/** A job worker's task: type and retries as written (static values or `=` FEEL expressions). */
export interface JobDefinition {
  readonly type: string
  readonly retries: string
  readonly headers: Readonly<Record<string, string>>
}

/** A `zeebe:userTask`: each attribute as written (static values or `=` FEEL expressions). */
export interface UserTaskDefinition {
  readonly assignee: string | undefined
  /** A comma-separated list, or an expression giving a list (or one string). */
  readonly candidateGroups: string | undefined
  readonly candidateUsers: string | undefined
  readonly dueDate: string | undefined
  readonly followUpDate: string | undefined
  readonly priority: string | undefined
  readonly formKey: string | undefined
  readonly headers: Readonly<Record<string, string>>
}

/** A `zeebe:input` or `zeebe:output`: the value of `source` (a FEEL expression after `=`, else a string) goes to `target`. */
export interface MappingModel {
  readonly source: string
  readonly target: string
}

/** A timer definition: an ISO-8601 duration or date-time, static or an `=` FEEL expression. */
export interface TimerModel {
  readonly kind: "duration" | "date"
  readonly value: string
}

/** What the engine does with an element. */
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
  /** Elements a token passes straight through: undefined and manual tasks, none intermediate throw events. */
  | "passThrough"

/** An element of a process, as the engine runs it. */
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
  /** Timer catch events: when they fire. */
  readonly timer: TimerModel | undefined
  /** Input mappings: local variables created when the element is entered. */
  readonly inputs: ReadonlyArray<MappingModel>
  /** Output mappings: when present, results stay local and only these are propagated on completion. */
  readonly outputs: ReadonlyArray<MappingModel> | undefined
  /** Error boundary events: the activity they are attached to and the error code they catch (any when undefined). */
  readonly attachedTo: string | undefined
  readonly errorCode: string | undefined
}

/** An executable process of a BPMN document. */
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

const isExpression = (text: string): boolean => text.trim().startsWith("=")

/** An attribute, or undefined when absent or blank. */
const present = (text: string | undefined): string | undefined => (text === undefined || text.trim() === "" ? undefined : text)

/** A static attribute must already be valid: `check` throws a `ModelError` when it is not. */
const staticValue = (text: string | undefined, check: (value: string) => void): string | undefined => {
  const value = present(text)
  if (value !== undefined && !isExpression(value)) check(value.trim())
  return value
}

const jobDefinition = (element: Node): JobDefinition => {
  const definition = extension(element, "zeebe:TaskDefinition")
  if (definition?.type === undefined || definition.type.trim() === "") {
    throw new ModelError(`service task ${element.id} has no zeebe:taskDefinition type`)
  }
  const retries = staticValue(definition.retries, (value) => {
    if (!/^\d+$/.test(value)) throw new ModelError(`service task ${element.id}: retries '${value}' is not a whole number`)
  })
  return { type: definition.type, retries: retries ?? "3", headers: headersOf(element) }
}

const checkDate = (what: string) => (value: string) => {
  if (Number.isNaN(Date.parse(value))) throw new ModelError(`${what} '${value}' is not an ISO-8601 date-time`)
}

const userTaskDefinition = (element: Node): UserTaskDefinition => {
  const assignment = extension(element, "zeebe:AssignmentDefinition")
  const schedule = extension(element, "zeebe:TaskSchedule")
  const priority = extension(element, "zeebe:PriorityDefinition")
  const form = extension(element, "zeebe:FormDefinition")
  return {
    assignee: present(assignment?.assignee),
    candidateGroups: present(assignment?.candidateGroups),
    candidateUsers: present(assignment?.candidateUsers),
    dueDate: staticValue(schedule?.dueDate, checkDate(`user task ${element.id}: due date`)),
    followUpDate: staticValue(schedule?.followUpDate, checkDate(`user task ${element.id}: follow-up date`)),
    priority: staticValue(priority?.priority, (value) => {
      if (!/^\d+$/.test(value) || Number(value) > 100) {
        throw new ModelError(`user task ${element.id}: priority '${value}' is not a whole number from 0 to 100`)
      }
    }),
    formKey: form?.formKey,
    headers: headersOf(element)
  }
}

const mappings = (parameters: ReadonlyArray<Node> | undefined, element: Node): ReadonlyArray<MappingModel> =>
  (parameters ?? []).map((parameter) => {
    if (typeof parameter.target !== "string" || parameter.target.trim() === "") {
      throw new ModelError(`element ${element.id}: a zeebe:ioMapping parameter has no target`)
    }
    return { source: parameter.source ?? "=null", target: parameter.target.trim() }
  })

const timerOf = (element: Node, definition: Node): TimerModel => {
  const duration: string | undefined = definition.timeDuration?.body?.trim()
  const date: string | undefined = definition.timeDate?.body?.trim()
  if (duration !== undefined && duration !== "") {
    staticValue(duration, (value) => {
      try {
        addDuration(0, value)
      } catch (error) {
        if (!(error instanceof FeelError)) throw error
        throw new ModelError(`timer ${element.id}: '${value}' is not an ISO-8601 duration`)
      }
    })
    return { kind: "duration", value: duration }
  }
  if (date !== undefined && date !== "") {
    staticValue(date, checkDate(`timer ${element.id}: date`))
    return { kind: "date", value: date }
  }
  throw new ModelError(`timer ${element.id} needs a timeDuration or a timeDate (cycles are not supported by the test engine)`)
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
    case "bpmn:Task":
      return { kind: "passThrough", type: "TASK" }
    case "bpmn:ManualTask":
      return { kind: "passThrough", type: "MANUAL_TASK" }
    case "bpmn:IntermediateThrowEvent":
      if (definition === undefined) return { kind: "passThrough", type: "INTERMEDIATE_THROW_EVENT" }
      break
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

const messageOf = (element: Node, kind: ElementKind): ElementModel["message"] => {
  const definition = eventDefinition(element)
  if (definition === undefined) return undefined
  const message = definition.messageRef
  if (message === undefined || typeof message.name !== "string" || message.name === "") {
    throw new ModelError(`message event ${element.id} refers to no message with a name`)
  }
  const subscription = extension(message, "zeebe:Subscription")
  if (kind === "messageCatchEvent" && (subscription?.correlationKey ?? "").trim() === "") {
    throw new ModelError(`message catch event ${element.id}: message ${message.name} has no zeebe:subscription correlationKey`)
  }
  return { name: message.name, correlationKey: feel(subscription?.correlationKey) }
}

/** Zeebe's rule: several outgoing flows of an exclusive gateway need a condition, except the default one. */
const checkGateway = (model: ElementModel): void => {
  if (model.kind !== "exclusiveGateway" || model.outgoing.length < 2) return
  for (const flow of model.outgoing) {
    if (flow.condition === undefined && flow.id !== model.defaultFlow) {
      throw new ModelError(`sequence flow ${flow.id} leaves exclusive gateway ${model.id} without a condition and is not its default flow`)
    }
  }
}

const elementModel = (element: Node, flows: ReadonlyArray<Node>): ElementModel => {
  const { kind, type } = classify(element)
  const definition = eventDefinition(element)
  const io = extension(element, "zeebe:IoMapping")
  const model: ElementModel = {
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
    message: kind === "messageCatchEvent" || kind === "startEvent" ? messageOf(element, kind) : undefined,
    timer: kind === "timerCatchEvent" ? timerOf(element, definition!) : undefined,
    inputs: mappings(io?.inputParameters, element),
    outputs: io?.outputParameters === undefined || io.outputParameters.length === 0 ? undefined : mappings(io.outputParameters, element),
    attachedTo: element.attachedToRef?.id,
    errorCode: definition?.errorRef?.errorCode
  }
  checkGateway(model)
  return model
}

/** Flow elements that carry no behaviour (data objects and stores). */
const inert = new Set(["bpmn:DataObject", "bpmn:DataObjectReference", "bpmn:DataStoreReference"])

const processModel = (process: Node): ProcessModel => {
  const nodes: ReadonlyArray<Node> = (process.flowElements ?? []).filter((node: Node) => !inert.has(node.$type))
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

/** A moddle message on one line: `unparsable content <x> detected (line: 0, column: 3, nested error: …)`. */
const readable = (message: string): string => {
  const [first, ...details] = message.split(/\n\s*/)
  return details.length === 0 ? first! : `${first} (${details.join(", ")})`
}

const invalid = (reasons: ReadonlyArray<string>) => new ModelError(`the resource is not valid BPMN: ${reasons.map(readable).join("; ")}`)

/** Parses a BPMN document into the executable processes it defines; what moddle warns about is an error. */
export const parseBpmn = async (xml: string): Promise<ReadonlyArray<ProcessModel>> => {
  let definitions: Node
  try {
    const parsed = await moddle.fromXML(xml)
    const warnings = parsed.warnings.map((warning) => warning instanceof Error ? warning.message : String((warning as Node)["message"] ?? warning))
    if (warnings.length > 0) throw invalid(warnings)
    definitions = parsed.rootElement as Node
  } catch (cause) {
    if (cause instanceof ModelError) throw cause
    throw invalid([cause instanceof Error ? cause.message : String(cause)])
  }
  if (definitions?.$type !== "bpmn:Definitions") throw invalid(["the root element is not bpmn:definitions"])
  const processes = (definitions.rootElements ?? []).filter((root: Node) => root.$type === "bpmn:Process")
  if (processes.length === 0) throw new ModelError("the resource defines no process")
  return processes.filter((process: Node) => process.isExecutable !== false).map(processModel)
}
