/**
 * The generator's command line: `npm run generate [-- --spec <file> --out <dir>]`.
 *
 * Reads an OpenAPI bundle (default `../shared/camunda-api/rest-api-8.9.json`) and
 * replaces the contents of the output folder (default `src/generated`) with the
 * generated files.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import { generate } from "./Generate.js"
import type { Document } from "./OpenApi.js"

/** The default spec, relative to the project root. */
export const defaultSpec = "../shared/camunda-api/rest-api-8.9.json"

const argument = (args: ReadonlyArray<string>, name: string): string | undefined => {
  const index = args.indexOf(`--${name}`)
  return index === -1 ? undefined : args[index + 1]
}

/** Generates from `spec` into `out`, removing what was there before. */
export const run = (spec: string, out: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const document = JSON.parse(yield* fs.readFileString(spec)) as Document
    const files = generate(document, path.basename(spec))
    yield* fs.remove(out, { recursive: true }).pipe(Effect.catchTag("SystemError", () => Effect.void))
    for (const [file, content] of files) {
      const target = path.join(out, file)
      yield* fs.makeDirectory(path.dirname(target), { recursive: true })
      yield* fs.writeFileString(target, content)
    }
    yield* Effect.logInfo(`generated ${files.size} files from ${spec} into ${out}`)
  })

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2)
  run(argument(args, "spec") ?? defaultSpec, argument(args, "out") ?? "src/generated").pipe(
    Effect.provide(NodeContext.layer),
    NodeRuntime.runMain
  )
}
