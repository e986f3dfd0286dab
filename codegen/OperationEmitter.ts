/**
 * Turns the operations of the spec into one module per tag (one arrow function per
 * operation) and the registry `operations`.
 */
import {
  deref,
  type Document,
  httpMethods,
  type MediaType,
  type OperationObject,
  type Parameter,
  type SchemaObject
} from "./OpenApi.js"
import * as Backpressure from "../src/Backpressure.js"
import { type Field, type SchemaEmitter } from "./SchemaEmitter.js"
import { banner, docComment, identifier, pascalCase, propertyKey, typeDeclaration, upperFirst } from "./Source.js"

/** One operation, read off the spec into what the templates print. */
export interface OperationModel {
  readonly operationId: string
  readonly tag: string
  readonly module: string
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
  readonly path: string
  readonly operation: OperationObject
  readonly parameters: ReadonlyArray<Parameter>
  readonly body: { readonly kind: "Json" | "Multipart"; readonly schema: SchemaObject; readonly required: boolean } | undefined
  readonly successes: ReadonlyArray<{ readonly status: number; readonly media: string | undefined; readonly schema: SchemaObject | undefined }>
  readonly declaredErrors: ReadonlyArray<number>
  readonly eventuallyConsistent: boolean
  readonly safeToRepeat: boolean
}

const firstMedia = (content: Readonly<Record<string, MediaType>> | undefined) => {
  const entries = Object.entries(content ?? {})
  return entries.length === 0 ? undefined : entries[0]!
}

const isJson = (media: string) => media === "application/json" || media.endsWith("+json")

/** Reads every operation of the document, in spec order. */
export const readOperations = (document: Document): ReadonlyArray<OperationModel> => {
  const models: Array<OperationModel> = []
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of httpMethods) {
      const operation = item[method] as OperationObject | undefined
      if (operation === undefined) continue
      const tag = operation.tags?.[0] ?? "Default"
      const parameters = (operation.parameters ?? []).map((parameter) => deref(document, parameter))
        .filter((parameter) => parameter.in === "path" || parameter.in === "query")
      const requestBody = operation.requestBody === undefined ? undefined : deref(document, operation.requestBody)
      const bodyMedia = firstMedia(requestBody?.content)
      const body = bodyMedia === undefined || bodyMedia[1].schema === undefined ? undefined : {
        kind: bodyMedia[0].startsWith("multipart/") ? "Multipart" as const : "Json" as const,
        schema: bodyMedia[1].schema,
        required: requestBody?.required === true
      }
      const successes = Object.entries(operation.responses).filter(([status]) => /^2\d\d$/.test(status))
        .map(([status, response]) => {
          const media = firstMedia(deref(document, response).content)
          return { status: Number(status), media: media?.[0], schema: media?.[1].schema }
        })
      const declaredErrors = Object.keys(operation.responses).filter((status) => /^[45]\d\d$/.test(status))
        .map(Number).sort((a, b) => a - b)
      const eventuallyConsistent = operation["x-eventually-consistent"] === true
      models.push({
        operationId: operation.operationId,
        tag,
        module: pascalCase(tag),
        method: method.toUpperCase() as OperationModel["method"],
        path,
        operation,
        parameters,
        body,
        successes,
        declaredErrors,
        eventuallyConsistent,
        safeToRepeat: method === "get" || eventuallyConsistent
      })
    }
  }
  return models
}

interface Printed {
  readonly declarations: ReadonlyArray<string>
  readonly inputType: string
  readonly inputConst: string | undefined
}

export class OperationEmitter {
  constructor(readonly document: Document, readonly schemas: SchemaEmitter) {}

  /** A path parameter must not be empty (`/roles//users` is another resource): strings get `minLength(1)`. */
  private parameterExpression(parameter: Parameter): string {
    const schema = parameter.schema ?? { type: "string" }
    const expression = this.schemas.expression(schema, "Module", 2)
    const resolved = deref(this.document, schema)
    const isString = resolved.type === "string" || (resolved.type === undefined && resolved.oneOf === undefined)
    const guarded = parameter.in === "path" && isString && this.schemas.minLength(schema) < 1
    return guarded ? `/*#__PURE__*/ ${expression}.pipe(/*#__PURE__*/ S.minLength(1))` : expression
  }

  private parameterFields(model: OperationModel): ReadonlyArray<Field> {
    return model.parameters.map((parameter) => ({
      name: parameter.name,
      expression: this.parameterExpression(parameter),
      required: parameter.in === "path" || parameter.required === true,
      description: parameter.description
    }))
  }

  /** The top-level field names of a body, across the members of a union. */
  private bodyFieldNames(body: SchemaObject): ReadonlySet<string> {
    const resolved = deref(this.document, body)
    const members = resolved.oneOf ?? resolved.anyOf ?? [body]
    return new Set(members.flatMap((member) => this.schemas.objectFields(member, "Module", 0).map((f) => f.name)))
  }

  /** The body field the client's default tenant fills when the caller leaves it out. */
  private tenantField(model: OperationModel): "tenantId" | "tenantIds" | undefined {
    // the Tenant operations name the tenant they manage, not the tenant they act in
    if (model.body === undefined || model.tag === "Tenant") return undefined
    const names = this.bodyFieldNames(model.body.schema)
    return names.has("tenantId") ? "tenantId" : names.has("tenantIds") ? "tenantIds" : undefined
  }

  /** Flattening needs distinct names: a body field named like a parameter could not be told apart. */
  private assertNoNameClash(model: OperationModel, body: SchemaObject): void {
    const bodyNames = this.bodyFieldNames(body)
    const clashes = model.parameters.map((parameter) => parameter.name).filter((name) => bodyNames.has(name))
    if (clashes.length > 0) {
      throw new Error(`${model.operationId}: body fields ${clashes.join(", ")} have the names of parameters`)
    }
  }

  /** The flattened input: path and query parameters beside the body's fields. */
  private input(model: OperationModel): Printed {
    const name = `${upperFirst(model.operationId)}Input`
    const parameters = this.parameterFields(model)
    const declare = (expression: string): Printed => ({
      declarations: [
        `${docComment(`The input of {@link ${model.operationId}}.`)}\nexport const ${name} = ${expression}`,
        `${docComment(`The input of {@link ${model.operationId}}.`)}\n${typeDeclaration(name, expression)}`
      ],
      inputType: name,
      inputConst: name
    })
    const body = model.body
    if (body !== undefined) this.assertNoNameClash(model, body.schema)
    if (body === undefined) {
      if (parameters.length === 0) return { declarations: [], inputType: "void", inputConst: undefined }
      return declare(`/*#__PURE__*/ S.Struct(${this.schemas.printFields(parameters, 0)})`)
    }
    const named = body.schema.$ref !== undefined && this.schemas.isPlainStruct(body.schema)
    if (!named && !this.schemas.isUnion(body.schema) && !this.schemas.admitsExtraKeys(body.schema)) {
      const fields = [...parameters, ...this.schemas.objectFields(body.schema, "Module", 2)]
      return declare(`/*#__PURE__*/ S.Struct(${this.schemas.printFields(fields, 0)})`)
    }
    // A named body is referenced, not spread: reading `.fields` in a spread is a side effect
    // to a bundler, which would then keep every input schema.
    const bodyExpression = this.schemas.expression(body.schema, "Module", 2)
    if (parameters.length === 0) return declare(bodyExpression)
    return declare(`/*#__PURE__*/ S.extend(/*#__PURE__*/ S.Struct(${this.schemas.printFields(parameters, 0)}), ${bodyExpression})`)
  }

  /** Success bodies: the descriptor entries, the result type, and any inline schema declarations. */
  private successes(model: OperationModel) {
    const declarations: Array<string> = []
    const entries: Array<string> = []
    const types = new Set<string>()
    const accepted = new Set<string>()
    for (const success of model.successes) {
      if (success.media === undefined) {
        entries.push(`${success.status}: { _tag: "Empty" }`)
        types.add("void")
      } else if (isJson(success.media) && success.schema !== undefined) {
        const ref = success.schema.$ref
        let schemaName: string
        if (ref !== undefined && ref.startsWith("#/components/schemas/")) {
          schemaName = this.schemas.expression(success.schema, "Module", 2)
        } else {
          schemaName = `${upperFirst(model.operationId)}Response`
          if (!declarations.some((declaration) => declaration.includes(`export const ${schemaName} =`))) {
            const expression = this.schemas.expression(success.schema, "Module", 0)
            declarations.push(
              `${docComment(`The success body of {@link ${model.operationId}}.`)}\nexport const ${schemaName} = ${expression}`,
              `${docComment(`The success body of {@link ${model.operationId}}.`)}\n${typeDeclaration(schemaName, expression)}`
            )
          }
        }
        entries.push(`${success.status}: { _tag: "Json", schema: ${schemaName} }`)
        types.add(schemaName)
        accepted.add("application/json")
      } else if (success.media.startsWith("text/")) {
        entries.push(`${success.status}: { _tag: "Text", mediaType: ${JSON.stringify(success.media)} }`)
        types.add("string")
        accepted.add(success.media)
      } else {
        entries.push(`${success.status}: { _tag: "Binary", mediaType: ${JSON.stringify(success.media)} }`)
        types.add("Uint8Array")
        accepted.add(success.media)
      }
    }
    if (entries.length === 0) {
      entries.push(`204: { _tag: "Empty" }`)
      types.add("void")
    }
    // every answer may also be a problem document
    accepted.add("application/problem+json")
    return { declarations, entries, type: [...types].join(" | "), accept: [...accepted].join(", ") }
  }

  private operationDoc(model: OperationModel): string {
    const { operation } = model
    const parts = [operation.summary ?? model.operationId]
    if (operation.description !== undefined && operation.description.trim() !== operation.summary) {
      parts.push("", operation.description.trim())
    }
    parts.push("", `\`${model.method} ${model.path}\``)
    if (model.eventuallyConsistent) parts.push("", "Eventually consistent: reads secondary storage, which may lag behind commands.")
    if (operation.deprecated === true) parts.push("", "@deprecated")
    parts.push("", `@since ${operation["x-added-in-version"] ?? "0.1.0"}`, `@category ${model.tag}`)
    return docComment(parts.join("\n"))
  }

  /** The source of one operation. */
  operation(model: OperationModel): string {
    const input = this.input(model)
    const success = this.successes(model)
    const errors = model.declaredErrors.length === 0 ? "never" : model.declaredErrors.join(" | ")
    // a call that may wait for a backpressure permit may also be refused one
    const gated = Backpressure.isGated(model) ? ", true" : ""
    const descriptor = [
      `operationId: ${JSON.stringify(model.operationId)}`,
      `tag: ${JSON.stringify(model.tag)}`,
      `method: ${JSON.stringify(model.method)}`,
      `path: ${JSON.stringify(model.path)}`,
      `pathParams: ${JSON.stringify(model.parameters.filter((p) => p.in === "path").map((p) => p.name))}`,
      `queryParams: ${JSON.stringify(model.parameters.filter((p) => p.in === "query").map((p) => p.name))}`,
      `requestBody: ${JSON.stringify(model.body?.kind ?? "None")}`,
      `bodyRequired: ${model.body?.required === true}`,
      `input: ${input.inputConst ?? "undefined"}`,
      `responses: { ${success.entries.join(", ")} }`,
      `accept: ${JSON.stringify(success.accept)}`,
      `declaredErrors: [${model.declaredErrors.join(", ")}]`,
      `eventuallyConsistent: ${model.eventuallyConsistent}`,
      `safeToRepeat: ${model.safeToRepeat}`
    ]
    if (model.body?.kind === "Multipart") descriptor.push("encodeMultipart: Multipart.encode")
    if (Backpressure.isGated(model)) descriptor.push("gated: true")
    const tenantField = this.tenantField(model)
    if (tenantField !== undefined) descriptor.push(`tenantField: ${JSON.stringify(tenantField)}`)
    return [
      ...input.declarations,
      ...success.declarations,
      `${this.operationDoc(model)}\nexport const ${identifier(model.operationId)} = /*#__PURE__*/ Operation.make<${input.inputType}, ${success.type}, ${errors}${gated}>({\n  ${
        descriptor.join(",\n  ")
      }\n})`
    ].join("\n\n")
  }

  /** The source of one tag module. */
  module(tag: string, models: ReadonlyArray<OperationModel>, source: string): string {
    return [
      banner(source),
      docComment(`The operations tagged "${tag}".\n\n@since 0.1.0`),
      `import * as S from "effect/Schema"`,
      `import * as Operation from "../internal/operation.js"`,
      // only the modules with a multipart operation bring its encoder
      ...(models.some((model) => model.body?.kind === "Multipart") ? [`import * as Multipart from "../internal/multipart.js"`] : []),
      `import * as P from "../internal/primitives.js"`,
      `import * as Keys from "./schemas/Keys.js"`,
      `import * as Models from "./schemas/Models.js"`,
      ...models.map((model) => this.operation(model))
    ].join("\n\n") + "\n"
  }

  /** The registry: every operation's static facts, as plain data. */
  registry(models: ReadonlyArray<OperationModel>, source: string): string {
    const entries = models.map((model) =>
      `  ${propertyKey(model.operationId)}: {\n    ${
        [
          `operationId: ${JSON.stringify(model.operationId)}`,
          `module: ${JSON.stringify(model.module)}`,
          `tag: ${JSON.stringify(model.tag)}`,
          `method: ${JSON.stringify(model.method)}`,
          `path: ${JSON.stringify(model.path)}`,
          `declaredErrors: [${model.declaredErrors.join(", ")}]`,
          `eventuallyConsistent: ${model.eventuallyConsistent}`,
          `safeToRepeat: ${model.safeToRepeat}`,
          `deprecated: ${model.operation.deprecated === true}`,
          `addedInVersion: ${JSON.stringify(model.operation["x-added-in-version"] ?? "")}`
        ].join(",\n    ")
      }\n  }`
    )
    return [
      banner(source),
      docComment(
        `Every operation of the API by \`operationId\`: method, path template, tag, declared error statuses and\nconsistency. Plain data: importing it pulls in no schema.\n\n@since 0.1.0`
      ),
      `import type { OperationInfo } from "../Operation.js"`,
      `${docComment("The registry of operations.\n\n@since 0.1.0\n@category registry")}\nexport const operations = {\n${
        entries.join(",\n")
      }\n} as const satisfies Record<string, OperationInfo>`,
      `${docComment("The `operationId` of every operation.\n\n@since 0.1.0\n@category registry")}\nexport type OperationId = keyof typeof operations`
    ].join("\n\n") + "\n"
  }
}
