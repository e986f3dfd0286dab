/**
 * Deploying BPMN, DMN and form resources, answered by a plain summary.
 *
 * `deployResources` sends content you hold in memory; `deployFiles` reads files through
 * `@effect/platform`'s `FileSystem` (on Node: `effect-camunda/Node`), all of them before
 * anything is sent. Either way the answer lists the processes, decisions, decision
 * requirements, forms and other resources the deployment created, with their branded
 * keys.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Deployment } from "effect-camunda"
 * import * as Node from "effect-camunda/Node"
 *
 * const program = Effect.gen(function*() {
 *   const deployed = yield* Deployment.deployFiles(["bpmn/order.bpmn", "forms/review.form"])
 *   for (const process of deployed.processes) {
 *     console.log(`${process.processDefinitionId} v${process.version}: ${process.processDefinitionKey}`)
 *   }
 * }).pipe(Effect.provide(Node.layer))
 * ```
 *
 * @since 0.1.0
 */
import * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { CamundaClient } from "./CamundaClient.js"
import { createDeployment } from "./generated/Resource.js"
import type * as Keys from "./generated/schemas/Keys.js"
import type * as Models from "./generated/schemas/Models.js"

/**
 * One resource to deploy: a `File` (its name is kept), or a name and its content. The
 * cluster tells BPMN, DMN and forms apart by the name's extension (`.bpmn`, `.dmn`,
 * `.form`), so a bare `Blob` without a name is not accepted.
 *
 * @since 0.1.0
 * @category models
 */
export type Part = File | {
  readonly name: string
  readonly content: string | Uint8Array | Blob
}

/**
 * Where the resources go.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The tenant to deploy to; the cluster's default tenant when left out. */
  readonly tenantId?: Keys.TenantId | undefined
}

/**
 * A deployed process definition.
 *
 * @since 0.1.0
 * @category models
 */
export interface DeployedProcess {
  readonly processDefinitionId: Keys.ProcessDefinitionId
  readonly processDefinitionKey: Keys.ProcessDefinitionKey
  /** `processDefinitionVersion` in the API's answer. */
  readonly version: number
  readonly resourceName: string
  readonly tenantId: Keys.TenantId
}

/**
 * A deployed decision definition.
 *
 * @since 0.1.0
 * @category models
 */
export interface DeployedDecision {
  readonly decisionDefinitionId: Keys.DecisionDefinitionId
  readonly decisionDefinitionKey: Keys.DecisionDefinitionKey
  readonly version: number
  /** The DMN name of the decision. */
  readonly name: string
  readonly decisionRequirementsId: string
  readonly decisionRequirementsKey: Keys.DecisionRequirementsKey
  readonly tenantId: Keys.TenantId
}

/**
 * A deployed decision requirements graph (the DRD of a `.dmn` resource).
 *
 * @since 0.1.0
 * @category models
 */
export interface DeployedDecisionRequirements {
  readonly decisionRequirementsId: string
  readonly decisionRequirementsKey: Keys.DecisionRequirementsKey
  /** `decisionRequirementsName` in the API's answer. */
  readonly name: string
  readonly version: number
  readonly resourceName: string
  readonly tenantId: Keys.TenantId
}

/**
 * A deployed form.
 *
 * @since 0.1.0
 * @category models
 */
export interface DeployedForm {
  readonly formId: Keys.FormId
  readonly formKey: Keys.FormKey
  readonly version: number
  readonly resourceName: string
  readonly tenantId: Keys.TenantId
}

/**
 * Any other deployed resource (e.g. an RPA script).
 *
 * @since 0.1.0
 * @category models
 */
export interface DeployedResource {
  readonly resourceId: string
  readonly resourceKey: Models.ResourceKey
  readonly version: number
  readonly resourceName: string
  readonly tenantId: Keys.TenantId
}

/**
 * What a deployment created, by kind, in the order of the API's answer.
 *
 * @since 0.1.0
 * @category models
 */
export interface Summary {
  readonly deploymentKey: Keys.DeploymentKey
  readonly tenantId: Keys.TenantId
  readonly processes: ReadonlyArray<DeployedProcess>
  readonly decisions: ReadonlyArray<DeployedDecision>
  readonly decisionRequirements: ReadonlyArray<DeployedDecisionRequirements>
  readonly forms: ReadonlyArray<DeployedForm>
  readonly resources: ReadonlyArray<DeployedResource>
}

/**
 * The errors of `createDeployment`.
 *
 * @since 0.1.0
 * @category errors
 */
export type DeploymentError = Effect.Effect.Error<ReturnType<typeof createDeployment>>

/**
 * A file of {@link deployFiles} could not be read (missing, a directory, no permission).
 * Raised before anything is sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class ResourceFileError extends Schema.TaggedError<ResourceFileError>()("ResourceFileError", {
  /** The path as given. */
  path: Schema.String,
  /** Why: the platform's `SystemError` reason (`NotFound`, `PermissionDenied`, …), or `BadArgument`. */
  reason: Schema.Union(PlatformError.SystemErrorReason, Schema.Literal("BadArgument")),
  /** The platform's description of the failure. */
  description: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `ResourceFileError: cannot read ${this.path}: ${this.reason}${this.description === "" ? "" : ` (${this.description})`}`
  }
}

/**
 * The summary of a `createDeployment` answer, for callers of the operation itself.
 *
 * @since 0.1.0
 * @category constructors
 */
export const summarize = (result: Models.DeploymentResult): Summary => {
  const processes: Array<DeployedProcess> = []
  const decisions: Array<DeployedDecision> = []
  const decisionRequirements: Array<DeployedDecisionRequirements> = []
  const forms: Array<DeployedForm> = []
  const resources: Array<DeployedResource> = []
  for (const deployed of result.deployments) {
    const process = deployed.processDefinition
    if (process !== null) {
      processes.push({
        processDefinitionId: process.processDefinitionId,
        processDefinitionKey: process.processDefinitionKey,
        version: process.processDefinitionVersion,
        resourceName: process.resourceName,
        tenantId: process.tenantId
      })
    }
    const decision = deployed.decisionDefinition
    if (decision !== null) {
      decisions.push({
        decisionDefinitionId: decision.decisionDefinitionId,
        decisionDefinitionKey: decision.decisionDefinitionKey,
        version: decision.version,
        name: decision.name,
        decisionRequirementsId: decision.decisionRequirementsId,
        decisionRequirementsKey: decision.decisionRequirementsKey,
        tenantId: decision.tenantId
      })
    }
    const requirements = deployed.decisionRequirements
    if (requirements !== null) {
      decisionRequirements.push({
        decisionRequirementsId: requirements.decisionRequirementsId,
        decisionRequirementsKey: requirements.decisionRequirementsKey,
        name: requirements.decisionRequirementsName,
        version: requirements.version,
        resourceName: requirements.resourceName,
        tenantId: requirements.tenantId
      })
    }
    const form = deployed.form
    if (form !== null) {
      forms.push({
        formId: form.formId,
        formKey: form.formKey,
        version: form.version,
        resourceName: form.resourceName,
        tenantId: form.tenantId
      })
    }
    const resource = deployed.resource
    if (resource !== null) {
      resources.push({
        resourceId: resource.resourceId,
        resourceKey: resource.resourceKey,
        version: resource.version,
        resourceName: resource.resourceName,
        tenantId: resource.tenantId
      })
    }
  }
  return {
    deploymentKey: result.deploymentKey,
    tenantId: result.tenantId,
    processes,
    decisions,
    decisionRequirements,
    forms,
    resources
  }
}

const toFile = (part: Part): File =>
  part instanceof File
    ? part
    : new File([typeof part.content === "string" || part.content instanceof Blob ? part.content : part.content as Uint8Array<ArrayBuffer>], part.name)

/**
 * Deploys resources held in memory, all or nothing, and summarizes what was created.
 *
 * @example
 * ```ts
 * import { Deployment } from "effect-camunda"
 *
 * declare const orderXml: string
 *
 * // processes[0].processDefinitionKey is a Keys.ProcessDefinitionKey
 * const deployed = Deployment.deployResources([
 *   { name: "order.bpmn", content: orderXml },
 *   new File([JSON.stringify({ id: "review", components: [] })], "review.form")
 * ])
 * ```
 *
 * @since 0.1.0
 * @category deploying
 */
export const deployResources = (
  parts: Iterable<Part>,
  options: Options = {}
): Effect.Effect<Summary, DeploymentError, CamundaClient> =>
  Effect.suspend(() => {
    const resources = Array.from(parts, toFile)
    return createDeployment(options.tenantId === undefined ? { resources } : { resources, tenantId: options.tenantId })
  }).pipe(Effect.map(summarize))

const basename = (path: string): string => path.split(/[\\/]/).filter((segment) => segment !== "").pop() ?? path

const fileError = (path: string) => (error: PlatformError.PlatformError): ResourceFileError =>
  new ResourceFileError({
    path,
    reason: error._tag === "SystemError" ? error.reason : "BadArgument",
    description: error.description ?? "",
    cause: error
  })

/**
 * Reads each file through `FileSystem` (every one before anything is sent), names each
 * part by the file's base name, and deploys them as {@link deployResources} does. A file
 * that cannot be read fails with {@link ResourceFileError} and sends nothing.
 *
 * @since 0.1.0
 * @category deploying
 */
export const deployFiles = (
  paths: Iterable<string>,
  options: Options = {}
): Effect.Effect<Summary, DeploymentError | ResourceFileError, CamundaClient | FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    Effect.forEach(paths, (path) =>
      fs.readFile(path).pipe(
        Effect.map((bytes) => new File([bytes as Uint8Array<ArrayBuffer>], basename(path))),
        Effect.mapError(fileError(path))
      ))).pipe(Effect.flatMap((files) => deployResources(files, options)))
