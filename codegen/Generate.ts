/**
 * The generator as a pure function: an OpenAPI document in, the files of
 * `src/generated/` out (path relative to that folder → source text).
 */
import type { Document } from "./OpenApi.js"
import { OperationEmitter, type OperationModel, readOperations } from "./OperationEmitter.js"
import { SchemaEmitter } from "./SchemaEmitter.js"
import { banner, docComment } from "./Source.js"

const schemaFile = (emitter: SchemaEmitter, file: "Keys" | "Models", source: string): string => {
  const header = file === "Keys"
    ? "Branded keys and identifiers (`x-semantic-type`) and the schemas they are built from."
    : "The component schemas of the API (everything but the branded keys)."
  return [
    banner(source),
    docComment(`${header}\n\n@since 0.1.0`),
    `import * as S from "effect/Schema"`,
    `import * as P from "../../internal/primitives.js"`,
    ...(file === "Models" ? [`import * as Keys from "./Keys.js"`] : []),
    ...emitter.ordered(file).map((name) => emitter.declaration(name))
  ].join("\n\n") + "\n"
}

const groupByModule = (models: ReadonlyArray<OperationModel>) => {
  const groups = new Map<string, { tag: string; models: Array<OperationModel> }>()
  for (const model of models) {
    const group = groups.get(model.module)
    if (group === undefined) groups.set(model.module, { tag: model.tag, models: [model] })
    else if (group.tag !== model.tag) throw new Error(`Tags "${group.tag}" and "${model.tag}" both map to module ${model.module}`)
    else group.models.push(model)
  }
  return new Map([...groups].sort(([a], [b]) => a.localeCompare(b)))
}

/** Generates every file for `document`; `source` names the spec in the banners. */
export const generate = (document: Document, source: string): ReadonlyMap<string, string> => {
  const schemas = new SchemaEmitter(document)
  const operations = new OperationEmitter(document, schemas)
  const models = readOperations(document)
  const modules = groupByModule(models)
  const files = new Map<string, string>()
  files.set("schemas/Keys.ts", schemaFile(schemas, "Keys", source))
  files.set("schemas/Models.ts", schemaFile(schemas, "Models", source))
  for (const [module, { tag, models: group }] of modules) files.set(`${module}.ts`, operations.module(tag, group, source))
  files.set("operations.ts", operations.registry(models, source))
  files.set(
    "index.ts",
    [
      banner(source),
      docComment(`Every operation module, the schemas and the registry.\n\n@since 0.1.0`),
      ...[...modules.keys()].map((module) =>
        `${docComment(`Operations tagged "${modules.get(module)!.tag}".\n\n@since 0.1.0`)}\nexport * as ${module} from "./${module}.js"`
      ),
      `${docComment("Branded keys (`x-semantic-type`).\n\n@since 0.1.0")}\nexport * as Keys from "./schemas/Keys.js"`,
      `${docComment("Component schemas.\n\n@since 0.1.0")}\nexport * as Models from "./schemas/Models.js"`,
      `${docComment("The registry of operations.\n\n@since 0.1.0")}\nexport { operations, type OperationId } from "./operations.js"`
    ].join("\n\n") + "\n"
  )
  return files
}
