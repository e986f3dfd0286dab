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

/** Filter fields named differently from the record field they test. */
const aliases: Readonly<Record<string, (row: Row) => unknown>> = {
  candidateGroup: (row) => row["candidateGroups"],
  candidateUser: (row) => row["candidateUsers"]
}

const likePattern = (pattern: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`)

const compare = (a: unknown, b: unknown): number =>
  a === b ? 0 : a === null || a === undefined ? 1 : b === null || b === undefined ? -1 : (a as any) < (b as any) ? -1 : 1

/** Does `actual` (a value, or a list for multi-valued fields) satisfy one filter value? */
const matches = (actual: unknown, condition: unknown): boolean => {
  if (Array.isArray(actual)) return actual.some((item) => matches(item, condition))
  if (typeof condition !== "object" || condition === null) return actual === condition
  return Object.entries(condition).every(([operator, operand]) => {
    switch (operator) {
      case "$eq":
        return actual === operand
      case "$neq":
        return actual !== operand
      case "$exists":
        return (actual !== undefined && actual !== null) === operand
      case "$in":
        return (operand as ReadonlyArray<unknown>).includes(actual)
      case "$notIn":
        return !(operand as ReadonlyArray<unknown>).includes(actual)
      case "$like":
        return typeof actual === "string" && likePattern(String(operand)).test(actual)
      case "$gt":
        return compare(actual, operand) > 0 && actual !== null && actual !== undefined
      case "$gte":
        return compare(actual, operand) >= 0 && actual !== null && actual !== undefined
      case "$lt":
        return compare(actual, operand) < 0 && actual !== null && actual !== undefined
      case "$lte":
        return compare(actual, operand) <= 0 && actual !== null && actual !== undefined
      default:
        throw badRequest(`the test engine does not support the filter operator ${operator}`)
    }
  })
}

const filterRows = (rows: ReadonlyArray<Row>, filter: SearchRequest["filter"]) =>
  rows.filter((row) =>
    Object.entries(filter ?? {}).every(([field, condition]) =>
      condition === undefined || matches(aliases[field]?.(row) ?? row[field], condition)
    )
  )

const sortRows = (rows: ReadonlyArray<Row>, sort: SearchRequest["sort"]) =>
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

/** Applies filter, sort and page; answers `{ items, page }`. */
export const search = <R extends Row>(rows: ReadonlyArray<R>, request: SearchRequest = {}) => {
  const sorted = sortRows(filterRows(rows, request.filter), request.sort) as ReadonlyArray<R>
  const page = request.page ?? {}
  const limit = page.limit ?? 100
  let start: number
  if (page.after !== undefined) start = decodeCursor(page.after) + 1
  else if (page.before !== undefined) start = Math.max(0, decodeCursor(page.before) - limit)
  else start = page.from ?? 0
  const end = page.before !== undefined ? Math.min(decodeCursor(page.before), start + limit) : start + limit
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
