/**
 * Search over records as the API does it: filters (exact values or advanced operators),
 * sort, and offset (`from`) or cursor (`after`/`before`) pagination.
 */
import { badRequest } from "./engine.js"

type Row = Readonly<Record<string, unknown>>

export interface SearchRequest {
  readonly filter?: Readonly<Record<string, unknown>> | undefined
  readonly sort?: ReadonlyArray<{ readonly field: string; readonly order?: string | undefined }> | undefined
  readonly page?: {
    readonly limit?: number | undefined
    readonly from?: number | undefined
    readonly after?: string | undefined
    readonly before?: string | undefined
  } | undefined
}

/** Filter fields a search tests itself (the row does not carry them): field → does the row satisfy the condition? */
export type CustomFilters<R extends Row> = Readonly<Record<string, (row: R, condition: unknown) => boolean>>

/** Filter fields named differently from the record field they test. */
const aliases: Readonly<Record<string, (row: Row) => unknown>> = {
  candidateGroup: (row) => row["candidateGroups"],
  candidateUser: (row) => row["candidateUsers"],
  // no sub-processes: every element instance's scope is its process instance
  elementInstanceScopeKey: (row) => row["processInstanceKey"]
}

const likePattern = (pattern: string) =>
  new RegExp(
    `^${
      pattern.replace(/\\([*?])|([*?])|([.+^${}()|[\]\\])/g, (_, escaped?: string, wildcard?: string, special?: string) =>
        escaped !== undefined ? `\\${escaped}` : wildcard === "*" ? ".*" : wildcard === "?" ? "." : `\\${special}`
      )
    }$`
  )

const isoDate = /^\d{4}-\d{2}-\d{2}T/

/** Orders values; two date-times compare as instants, whatever their precision or offset. */
const compare = (a: unknown, b: unknown): number => {
  if (a === b) return 0
  if (a === null || a === undefined) return 1
  if (b === null || b === undefined) return -1
  if (typeof a === "string" && typeof b === "string" && isoDate.test(a) && isoDate.test(b)) {
    const difference = Date.parse(a) - Date.parse(b)
    if (!Number.isNaN(difference)) return Math.sign(difference)
  }
  return (a as string | number) < (b as string | number) ? -1 : (a as string | number) > (b as string | number) ? 1 : 0
}

const present = (value: unknown) => value !== null && value !== undefined

/** Does `actual` (a value, or a list for multi-valued fields) satisfy one filter value? */
export const matches = (actual: unknown, condition: unknown): boolean => {
  if (Array.isArray(actual)) return actual.some((item) => matches(item, condition))
  if (typeof condition !== "object" || condition === null) return compare(actual, condition) === 0 && present(actual)
  return Object.entries(condition).every(([operator, operand]) => {
    if (operand === undefined) return true
    switch (operator) {
      case "$eq":
        return compare(actual, operand) === 0 && present(actual)
      case "$neq":
        return !(compare(actual, operand) === 0 && present(actual))
      case "$exists":
        return present(actual) === operand
      case "$in":
        return (operand as ReadonlyArray<unknown>).some((value) => compare(actual, value) === 0 && present(actual))
      case "$notIn":
        return !(operand as ReadonlyArray<unknown>).some((value) => compare(actual, value) === 0 && present(actual))
      case "$like":
        return typeof actual === "string" && likePattern(String(operand)).test(actual)
      case "$gt":
        return present(actual) && compare(actual, operand) > 0
      case "$gte":
        return present(actual) && compare(actual, operand) >= 0
      case "$lt":
        return present(actual) && compare(actual, operand) < 0
      case "$lte":
        return present(actual) && compare(actual, operand) <= 0
      default:
        throw badRequest(`the test engine does not support the filter operator ${operator}`)
    }
  })
}

const matchesFilter = <R extends Row>(row: R, filter: Readonly<Record<string, unknown>>, custom: CustomFilters<R>): boolean =>
  Object.entries(filter).every(([field, condition]) => {
    if (condition === undefined) return true
    if (field === "$or") {
      const alternatives = condition as ReadonlyArray<Readonly<Record<string, unknown>>>
      return alternatives.length === 0 || alternatives.some((alternative) => matchesFilter(row, alternative, custom))
    }
    const test = custom[field]
    if (test !== undefined) return test(row, condition)
    const alias = aliases[field]
    if (alias !== undefined) return matches(alias(row), condition)
    if (!(field in row)) throw badRequest(`the test engine does not support filtering by ${field}`)
    return matches(row[field], condition)
  })

const sortRows = <R extends Row>(rows: ReadonlyArray<R>, sort: SearchRequest["sort"]) =>
  [...rows].sort((a, b) => {
    for (const { field, order } of sort ?? []) {
      const result = compare(a[field], b[field])
      if (result !== 0) return order?.toUpperCase() === "DESC" ? -result : result
    }
    return 0
  })

const encodeCursor = (index: number) => Buffer.from(JSON.stringify([index])).toString("base64")

const decodeCursor = (cursor: string): number => {
  try {
    const [index] = JSON.parse(Buffer.from(cursor, "base64").toString("utf8")) as [number]
    if (Number.isInteger(index)) return index
  } catch {
    // reported below
  }
  throw badRequest(`'${cursor}' is not a cursor of this search`)
}

/** The window of `total` sorted rows a page asks for: `[start, end)`. */
const window = (page: NonNullable<SearchRequest["page"]>, total: number): [number, number] => {
  const limit = page.limit ?? 100
  if (page.after !== undefined) {
    const start = decodeCursor(page.after) + 1
    return [start, start + limit]
  }
  if (page.before !== undefined) {
    const end = Math.min(decodeCursor(page.before), total)
    return [Math.max(0, end - limit), end]
  }
  const start = page.from ?? 0
  return [start, start + limit]
}

/** Applies filter, sort and page; answers `{ items, page }`. `custom` tests filter fields the rows do not carry. */
export const search = <R extends Row>(rows: ReadonlyArray<R>, request: SearchRequest = {}, custom: CustomFilters<R> = {}) => {
  const filtered = rows.filter((row) => matchesFilter(row, request.filter ?? {}, custom))
  const sorted = sortRows(filtered, request.sort)
  const [start, end] = window(request.page ?? {}, sorted.length)
  const items = sorted.slice(start, end)
  return {
    items,
    page: {
      totalItems: sorted.length,
      hasMoreTotalItems: false,
      startCursor: items.length === 0 ? null : encodeCursor(start),
      endCursor: items.length === 0 ? null : encodeCursor(start + items.length - 1)
    }
  }
}
