/**
 * Turns OpenAPI schemas into `effect/Schema` source text.
 *
 * Every call in the output carries `/*#__PURE__*\/`, so a bundler drops each schema no
 * operation of the program uses. `allOf` of objects is merged into one `Struct`; `oneOf`
 * becomes a `Union` whose members, under a `discriminator`, get the tag as a literal;
 * `x-semantic-type` components become branded strings.
 */
import { componentName, type Document, deref, type SchemaObject } from "./OpenApi.js"
import { docComment, identifier, propertyKey, typeDeclaration } from "./Source.js"

/** Where generated schemas live: the branded keys, the other component schemas, or an operation module. */
export type Scope = "Keys" | "Models" | "Module"

/** A field of an object schema, ready to print. */
export interface Field {
  readonly name: string
  readonly expression: string
  readonly required: boolean
  readonly description: string | undefined
}

const pure = (callee: string, args: ReadonlyArray<string>): string => `/*#__PURE__*/ ${callee}(${args.join(", ")})`

/** A schema expression before its refinements are applied: `base.pipe(...steps)`. */
interface Parts {
  readonly base: string
  readonly steps: ReadonlyArray<string>
}

const pipe = (base: string, steps: ReadonlyArray<string>): string => {
  if (steps.length === 0) return base
  const receiver = base.startsWith("/*#__PURE__*/") ? `(${base})` : base
  return `/*#__PURE__*/ ${receiver}.pipe(${steps.join(", ")})`
}

const print = (parts: Parts): string => pipe(parts.base, parts.steps)

const plain = (base: string): Parts => ({ base, steps: [] })

/** JSON Schema patterns are Unicode regular expressions (`\\p{L}`): compiled with `u` where that is valid. */
const regex = (pattern: string): string => {
  try {
    new RegExp(pattern, "u")
    return `/*#__PURE__*/ new RegExp(${JSON.stringify(pattern)}, "u")`
  } catch {
    return `/*#__PURE__*/ new RegExp(${JSON.stringify(pattern)})`
  }
}

export class SchemaEmitter {
  readonly fileOf = new Map<string, Exclude<Scope, "Module">>()

  constructor(readonly document: Document) {
    const schemas = document.components?.schemas ?? {}
    const keys = new Set<string>()
    const visit = (name: string) => {
      if (keys.has(name)) return
      keys.add(name)
      for (const dependency of this.dependencies(schemas[name]!)) visit(dependency)
    }
    for (const [name, schema] of Object.entries(schemas)) {
      if (schema["x-semantic-type"] !== undefined) visit(name)
    }
    for (const name of Object.keys(schemas)) this.fileOf.set(name, keys.has(name) ? "Keys" : "Models")
  }

  get components(): Readonly<Record<string, SchemaObject>> {
    return this.document.components?.schemas ?? {}
  }

  /** The component names a schema refers to, directly or through non-component `$ref`s. */
  dependencies(schema: unknown, into = new Set<string>()): Set<string> {
    if (Array.isArray(schema)) {
      for (const item of schema) this.dependencies(item, into)
    } else if (typeof schema === "object" && schema !== null) {
      const ref = (schema as SchemaObject).$ref
      if (typeof ref === "string") {
        const name = componentName(ref)
        if (name !== undefined) into.add(name)
        else this.dependencies(deref(this.document, schema as SchemaObject), into)
      } else {
        for (const value of Object.values(schema)) this.dependencies(value, into)
      }
    }
    return into
  }

  /** Component names in dependency order (spec order where free), for one file. */
  ordered(file: Exclude<Scope, "Module">): ReadonlyArray<string> {
    const order: Array<string> = []
    const state = new Map<string, "visiting" | "done">()
    const visit = (name: string, path: ReadonlyArray<string>) => {
      const seen = state.get(name)
      if (seen === "done") return
      if (seen === "visiting") {
        throw new Error(`Recursive schemas are not supported: ${[...path, name].join(" -> ")}`)
      }
      state.set(name, "visiting")
      for (const dependency of this.dependencies(this.components[name])) visit(dependency, [...path, name])
      state.set(name, "done")
      if (this.fileOf.get(name) === file) order.push(name)
    }
    for (const name of Object.keys(this.components)) visit(name, [])
    return order
  }

  /** How a component is referenced from `scope`. */
  reference(name: string, scope: Scope): string {
    const file = this.fileOf.get(name)
    if (file === undefined) throw new Error(`Unknown component ${name}`)
    return file === scope ? identifier(name) : `${file}.${identifier(name)}`
  }

  /** The declaration of one component schema. */
  declaration(name: string): string {
    const schema = this.components[name]!
    const id = identifier(name)
    const expression = this.component(name, schema)
    return [
      docComment(schema.description ?? name),
      `export const ${id} = ${expression}`,
      "",
      docComment(schema.description ?? name),
      typeDeclaration(id, expression)
    ].join("\n")
  }

  private component(name: string, schema: SchemaObject): string {
    const scope = this.fileOf.get(name)!
    const semanticType = schema["x-semantic-type"]
    const annotation = pure("S.annotations", [`{ identifier: ${JSON.stringify(name)} }`])
    const { base, steps } = this.parts(schema, scope, 0)
    // a semantic type that is a union of other keys (ScopeKey: a process or element instance key)
    // keeps its members' brands, so either key can be passed where it is expected
    if (semanticType !== undefined && schema.oneOf === undefined && schema.anyOf === undefined) {
      const brand = /^[A-Za-z_][A-Za-z0-9_]*$/.test(semanticType) ? semanticType : name
      return pipe(base, [...steps, pure("S.brand", [JSON.stringify(brand)]), annotation])
    }
    return pipe(base, [...steps, annotation])
  }

  /** The smallest length a string schema declares, through `allOf` and `$ref`s (0 when none). */
  minLength(schema: SchemaObject): number {
    const resolved = this.resolveInline(schema)
    const own = resolved.minLength ?? 0
    return Math.max(own, ...(resolved.allOf ?? []).map((member) => this.minLength(member)))
  }

  /** True when `schema` is a union (`oneOf`/`anyOf`). */
  isUnion(schema: SchemaObject): boolean {
    const resolved = this.resolveInline(schema)
    return resolved.oneOf !== undefined || resolved.anyOf !== undefined
  }

  /** True when `schema` admits keys beyond its properties (`additionalProperties`). */
  admitsExtraKeys(schema: SchemaObject): boolean {
    const resolved = this.resolveInline(schema)
    return resolved.allOf !== undefined ? this.mergedAllowsExtra(resolved) !== false : this.hasRecord(resolved)
  }

  /** True when `schema` prints as a plain `S.Struct` whose `.fields` can be spread. */
  isPlainStruct(schema: SchemaObject): boolean {
    const resolved = this.resolveInline(schema)
    if (resolved.nullable === true || resolved.oneOf !== undefined || resolved.anyOf !== undefined) return false
    if (this.isMergeableAllOf(resolved)) return this.mergedAllowsExtra(resolved) === false
    return this.isObject(resolved) && resolved.properties !== undefined && !this.hasRecord(resolved)
  }

  /** The fields of an object schema, with `allOf` members merged in. */
  objectFields(schema: SchemaObject, scope: Scope, indent: number): ReadonlyArray<Field> {
    const properties = new Map<string, SchemaObject>()
    const required = new Set<string>()
    const collect = (node: SchemaObject) => {
      const resolved = deref(this.document, node)
      for (const member of resolved.allOf ?? []) collect(member)
      for (const [key, value] of Object.entries(resolved.properties ?? {})) properties.set(key, value)
      for (const key of resolved.required ?? []) required.add(key)
    }
    collect(schema)
    return [...properties].map(([key, value]) => ({
      name: key,
      expression: this.expression(value, scope, indent),
      required: required.has(key),
      description: this.describe(value)
    }))
  }

  /** Prints fields as the body of an object literal. */
  printFields(fields: ReadonlyArray<Field>, indent: number): string {
    const pad = " ".repeat(indent + 2)
    const lines = fields.map((field) => {
      const value = field.required ? field.expression : pure("S.optional", [field.expression])
      const doc = field.description === undefined ? "" : `${docComment(field.description, pad)}\n`
      return `${doc}${pad}${propertyKey(field.name)}: ${value}`
    })
    return lines.length === 0 ? "{}" : `{\n${lines.join(",\n")}\n${" ".repeat(indent)}}`
  }

  /** The `S.…` expression for a schema. */
  expression(schema: SchemaObject, scope: Scope, indent: number): string {
    return print(this.parts(schema, scope, indent))
  }

  private parts(schema: SchemaObject, scope: Scope, indent: number): Parts {
    if (schema.$ref !== undefined) {
      const name = componentName(schema.$ref)
      if (name !== undefined) return plain(this.reference(name, scope))
      return this.parts(deref(this.document, schema), scope, indent)
    }
    const parts = this.baseParts(schema, scope, indent)
    return schema.nullable === true ? plain(pure("S.NullOr", [print(parts)])) : parts
  }

  private describe(schema: SchemaObject): string | undefined {
    if (schema.description !== undefined) return schema.description
    if (schema.$ref === undefined) return undefined
    const name = componentName(schema.$ref)
    return name === undefined ? undefined : this.components[name]?.description
  }

  private resolveInline(schema: SchemaObject): SchemaObject {
    return deref(this.document, schema)
  }

  private isObject(schema: SchemaObject): boolean {
    return schema.type === "object" || schema.properties !== undefined
  }

  private hasRecord(schema: SchemaObject): boolean {
    const extra = schema.additionalProperties
    if (extra === false) return false
    if (extra === undefined) return schema.properties === undefined && schema.allOf === undefined
    return true
  }

  /** An `allOf` whose members (and own properties) are all objects: printed as one `Struct`. */
  private isMergeableAllOf(schema: SchemaObject): boolean {
    if (schema.allOf === undefined) return false
    const members = schema.allOf.map((member) => this.resolveInline(member))
    if (members.length === 1 && schema.properties === undefined) {
      return false
    }
    return members.every((member) =>
      member.oneOf === undefined && member.anyOf === undefined &&
      (this.isObject(member) || this.isMergeableAllOf(member))
    )
  }

  /** Whether a merged `allOf` admits extra keys, and of which schema (`false` when none). */
  private mergedAllowsExtra(schema: SchemaObject): false | SchemaObject | true {
    const extra = schema.additionalProperties
    if (extra === undefined || extra === false) return false
    return extra
  }

  private baseParts(schema: SchemaObject, scope: Scope, indent: number): Parts {
    if (schema.oneOf !== undefined || schema.anyOf !== undefined) return plain(this.union(schema, scope, indent))
    if (schema.allOf !== undefined) return this.allOf(schema, scope, indent)
    if (schema.enum !== undefined) return plain(this.enumeration(schema))
    switch (schema.type) {
      case "string":
        return this.string(schema)
      case "integer":
      case "number":
        return this.number(schema)
      case "boolean":
        return plain("S.Boolean")
      case "array":
        return this.array(schema, scope, indent)
      case "object":
        return plain(this.object(schema, scope, indent))
      default:
        return plain(schema.properties !== undefined ? this.object(schema, scope, indent) : "S.Unknown")
    }
  }

  private allOf(schema: SchemaObject, scope: Scope, indent: number): Parts {
    const members = schema.allOf!
    if (this.isMergeableAllOf(schema)) {
      return plain(this.struct(schema, this.objectFields(schema, scope, indent), scope, indent))
    }
    if (members.length === 1 && schema.properties === undefined) {
      const narrowed = this.narrowUnion(schema, members[0]!, scope, indent)
      if (narrowed !== undefined) return plain(narrowed)
      const member = this.parts(members[0]!, scope, indent)
      return { base: member.base, steps: [...member.steps, ...this.stringChecks(schema)] }
    }
    const parts = members.map((member) => this.expression(member, scope, indent))
    if (schema.properties !== undefined) {
      const { allOf: _members, ...own } = schema
      parts.push(this.object(own, scope, indent))
    }
    return plain(parts.slice(1).reduce((acc, part) => pure("S.extend", [acc, part]), parts[0]!))
  }

  /**
   * `{ type: "string", allOf: [<string | object union>] }` is the intersection: only the
   * members of the union that can be strings. Undefined when there is nothing to narrow.
   */
  private narrowUnion(schema: SchemaObject, member: SchemaObject, scope: Scope, indent: number): string | undefined {
    if (schema.type === undefined) return undefined
    const resolved = this.resolveInline(member)
    const members = resolved.oneOf ?? resolved.anyOf
    if (members === undefined) return undefined
    const compatible = members.filter((candidate) => {
      const type = this.resolveInline(candidate).type
      return type === undefined || type === schema.type
    })
    if (compatible.length === members.length || compatible.length === 0) return undefined
    return this.union({ oneOf: compatible }, scope, indent)
  }

  /**
   * Object members ordered most specific first (more required fields, then more fields):
   * a union tries its members in order, and a member whose fields are a subset of another's
   * (`{ limit }` before `{ limit, after }`) would otherwise match first and drop the rest.
   */
  private bySpecificity(members: ReadonlyArray<SchemaObject>): ReadonlyArray<SchemaObject> {
    const resolved = members.map((member) => this.resolveInline(member))
    if (!resolved.every((member) => this.isObject(member) || this.isMergeableAllOf(member))) return members
    const weight = (member: SchemaObject) => {
      const fields = this.objectFields(member, "Module", 0)
      return [fields.filter((field) => field.required).length, fields.length] as const
    }
    return members
      .map((member, index) => ({ member, index, weight: weight(member) }))
      .sort((a, b) => b.weight[0] - a.weight[0] || b.weight[1] - a.weight[1] || a.index - b.index)
      .map(({ member }) => member)
  }

  private union(schema: SchemaObject, scope: Scope, indent: number): string {
    const discriminator = schema.discriminator
    const members = discriminator === undefined ? this.bySpecificity((schema.oneOf ?? schema.anyOf)!) : (schema.oneOf ?? schema.anyOf)!
    const printed = members.map((member) => {
      if (discriminator === undefined) return this.expression(member, scope, indent + 2)
      const tags = Object.entries(discriminator.mapping ?? {})
        .filter(([, target]) => target === member.$ref)
        .map(([tag]) => tag)
      if (tags.length === 0 && member.$ref !== undefined) tags.push(componentName(member.$ref) ?? member.$ref)
      const resolved = this.resolveInline(member)
      if (!this.isObject(resolved) && resolved.allOf === undefined) return this.expression(member, scope, indent + 2)
      const fields = this.objectFields(member, scope, indent + 2).filter((field) =>
        field.name !== discriminator.propertyName
      )
      const tagField: Field = {
        name: discriminator.propertyName,
        expression: pure("S.Literal", tags.map((tag) => JSON.stringify(tag))),
        required: true,
        description: undefined
      }
      const struct = pure("S.Struct", [this.printFields([tagField, ...fields], indent + 2)])
      return resolved.nullable === true ? pure("S.NullOr", [struct]) : struct
    })
    if (printed.length === 1) return printed[0]!
    const pad = " ".repeat(indent + 2)
    return `/*#__PURE__*/ S.Union(\n${printed.map((p) => `${pad}${p}`).join(",\n")}\n${" ".repeat(indent)})`
  }

  private enumeration(schema: SchemaObject): string {
    const values = schema.enum!.filter((value) => value !== null)
    const literal = pure("S.Literal", values.map((value) => JSON.stringify(value)))
    return schema.enum!.includes(null) && schema.nullable !== true ? pure("S.NullOr", [literal]) : literal
  }

  private stringChecks(schema: SchemaObject): Array<string> {
    const checks: Array<string> = []
    if (schema.minLength !== undefined && schema.minLength > 0) checks.push(pure("S.minLength", [String(schema.minLength)]))
    if (schema.maxLength !== undefined) checks.push(pure("S.maxLength", [String(schema.maxLength)]))
    if (schema.pattern !== undefined) checks.push(pure("S.pattern", [regex(schema.pattern)]))
    return checks
  }

  private string(schema: SchemaObject): Parts {
    switch (schema.format) {
      case "date-time":
        return plain("P.DateTime")
      case "binary":
        return plain("P.Binary")
      default:
        return { base: "S.String", steps: this.stringChecks(schema) }
    }
  }

  private number(schema: SchemaObject): Parts {
    const base = schema.type === "number" ? "S.Number" : schema.format === "int32" ? "P.Int32" : "P.Int64"
    const checks: Array<string> = []
    if (schema.minimum !== undefined) {
      checks.push(pure(schema.exclusiveMinimum === true ? "S.greaterThan" : "S.greaterThanOrEqualTo", [String(schema.minimum)]))
    }
    if (schema.maximum !== undefined) {
      checks.push(pure(schema.exclusiveMaximum === true ? "S.lessThan" : "S.lessThanOrEqualTo", [String(schema.maximum)]))
    }
    return { base, steps: checks }
  }

  private array(schema: SchemaObject, scope: Scope, indent: number): Parts {
    const items = schema.items === undefined ? "S.Unknown" : this.expression(schema.items, scope, indent)
    const checks: Array<string> = []
    if (schema.minItems !== undefined && schema.minItems > 0) checks.push(pure("S.minItems", [String(schema.minItems)]))
    if (schema.maxItems !== undefined) checks.push(pure("S.maxItems", [String(schema.maxItems)]))
    return { base: pure("S.Array", [items]), steps: checks }
  }

  private object(schema: SchemaObject, scope: Scope, indent: number): string {
    return this.struct(schema, this.objectFields(schema, scope, indent), scope, indent)
  }

  private struct(schema: SchemaObject, fields: ReadonlyArray<Field>, scope: Scope, indent: number): string {
    const extra = schema.allOf !== undefined ? this.mergedAllowsExtra(schema) : this.hasRecord(schema)
      ? (schema.additionalProperties ?? true)
      : false
    if (extra === false) return pure("S.Struct", [this.printFields(fields, indent)])
    const value = extra === true ? "S.Unknown" : this.expression(extra, scope, indent)
    const record = pure("S.Record", [`{ key: S.String, value: ${value} }`])
    if (fields.length === 0) return record
    return pure("S.Struct", [this.printFields(fields, indent), record])
  }
}
