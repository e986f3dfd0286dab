/**
 * Node-only helpers (`effect-camunda/Node`): the `FileSystem` that
 * `Deployment.deployFiles` reads through, on Node. Kept out of the main entry so
 * browsers, Deno and Bun bundles never see Node code; needs the optional peer
 * dependency `@effect/platform-node`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Deployment } from "effect-camunda"
 * import * as Node from "effect-camunda/Node"
 *
 * const deployed = Deployment.deployFiles(["bpmn/order.bpmn"]).pipe(Effect.provide(Node.layer))
 * // or, the same:
 * const same = Node.deployFiles(["bpmn/order.bpmn"])
 * ```
 *
 * @since 0.1.0
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type { CamundaClient } from "./CamundaClient.js"
import * as Deployment from "./Deployment.js"

/**
 * Node's file system, as `@effect/platform`'s `FileSystem`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<FileSystem.FileSystem> = NodeFileSystem.layer

/**
 * `Deployment.deployFiles` on Node's file system.
 *
 * @since 0.1.0
 * @category deploying
 */
export const deployFiles = (
  paths: Iterable<string>,
  options: Deployment.Options = {}
): Effect.Effect<Deployment.Summary, Deployment.DeploymentError | Deployment.ResourceFileError, CamundaClient> =>
  Effect.provide(Deployment.deployFiles(paths, options), layer)
