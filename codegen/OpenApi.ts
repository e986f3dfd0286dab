/**
 * The part of OpenAPI 3.0 the generator reads, and JSON-pointer resolution over a
 * whole document (the Camunda bundles point into `#/paths/…` as well as `#/components/…`).
 */

/** An OpenAPI 3.0 schema object (the members the generator understands). */
export interface SchemaObject {
  readonly $ref?: string
  readonly type?: "string" | "integer" | "number" | "boolean" | "array" | "object"
  readonly format?: string
  readonly description?: string
  readonly nullable?: boolean
  readonly enum?: ReadonlyArray<unknown>
  readonly pattern?: string
  readonly minLength?: number
  readonly maxLength?: number
  readonly minimum?: number
  readonly maximum?: number
  readonly exclusiveMinimum?: boolean
  readonly exclusiveMaximum?: boolean
  readonly minItems?: number
  readonly maxItems?: number
  readonly items?: SchemaObject
  readonly properties?: Readonly<Record<string, SchemaObject>>
  readonly required?: ReadonlyArray<string>
  readonly additionalProperties?: boolean | SchemaObject
  readonly allOf?: ReadonlyArray<SchemaObject>
  readonly oneOf?: ReadonlyArray<SchemaObject>
  readonly anyOf?: ReadonlyArray<SchemaObject>
  readonly discriminator?: { readonly propertyName: string; readonly mapping?: Readonly<Record<string, string>> }
  readonly deprecated?: boolean
  readonly "x-semantic-type"?: string
}

export interface MediaType {
  readonly schema?: SchemaObject
}

export interface Response {
  readonly $ref?: string
  readonly description?: string
  readonly content?: Readonly<Record<string, MediaType>>
}

export interface Parameter {
  readonly $ref?: string
  readonly name: string
  readonly in: "path" | "query" | "header" | "cookie"
  readonly required?: boolean
  readonly description?: string
  readonly schema?: SchemaObject
}

export interface RequestBody {
  readonly $ref?: string
  readonly required?: boolean
  readonly content: Readonly<Record<string, MediaType>>
}

export interface OperationObject {
  readonly operationId: string
  readonly tags?: ReadonlyArray<string>
  readonly summary?: string
  readonly description?: string
  readonly deprecated?: boolean
  readonly parameters?: ReadonlyArray<Parameter>
  readonly requestBody?: RequestBody
  readonly responses: Readonly<Record<string, Response>>
  readonly "x-eventually-consistent"?: boolean
  readonly "x-added-in-version"?: string
}

export interface Document {
  readonly openapi: string
  readonly paths: Readonly<Record<string, Readonly<Record<string, unknown>>>>
  readonly components?: { readonly schemas?: Readonly<Record<string, SchemaObject>> }
}

export const httpMethods = ["get", "put", "post", "delete", "patch"] as const

/** The component name a `$ref` names, when it points at `#/components/schemas/<name>`. */
export const componentName = (ref: string): string | undefined => {
  const match = /^#\/components\/schemas\/([^/]+)$/.exec(ref)
  return match === null ? undefined : decodePointerToken(match[1]!)
}

const decodePointerToken = (token: string): string => token.replace(/~1/g, "/").replace(/~0/g, "~")

/** Resolves a local JSON pointer (`#/a/b~1c`) anywhere in the document. */
export const resolvePointer = (document: Document, ref: string): unknown => {
  if (!ref.startsWith("#/")) throw new Error(`Only local $refs are supported, got ${ref}`)
  let node: unknown = document
  for (const token of ref.slice(2).split("/").map(decodePointerToken)) {
    if (typeof node !== "object" || node === null || !(token in node)) {
      throw new Error(`Unresolvable $ref ${ref} (no ${token})`)
    }
    node = (node as Record<string, unknown>)[token]
  }
  return node
}

/** Follows `$ref`s until an object without one is reached. */
export const deref = <T extends { readonly $ref?: string }>(document: Document, value: T): T => {
  let current = value
  const seen = new Set<string>()
  while (current.$ref !== undefined) {
    if (seen.has(current.$ref)) throw new Error(`Circular $ref ${current.$ref}`)
    seen.add(current.$ref)
    current = resolvePointer(document, current.$ref) as T
  }
  return current
}
