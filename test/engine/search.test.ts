/**
 * The engine's search (filters, sort, pagination) on plain rows, below the HTTP surface.
 */
import { describe, expect, it } from "@effect/vitest"
import { search } from "../../src/internal/engine/search.js"

const rows = [5, 3, 9, 1, 7].map((n) => ({ key: String(n), n, date: new Date(n * 1000).toISOString(), tags: n > 4 ? ["big"] : [] }))

const ns = (result: { readonly items: ReadonlyArray<{ readonly n: number }> }) => result.items.map((row) => row.n)

describe("engine search", () => {
  it("pages forward with `after`, backward with `before`, and by offset with `from`", () => {
    const sort = [{ field: "n", order: "ASC" }]
    const first = search(rows, { sort, page: { limit: 2 } })
    expect(ns(first)).toEqual([1, 3])
    const second = search(rows, { sort, page: { limit: 2, after: first.page.endCursor! } })
    expect(ns(second)).toEqual([5, 7])
    const third = search(rows, { sort, page: { limit: 2, after: second.page.endCursor! } })
    expect(ns(third)).toEqual([9])
    expect(search(rows, { sort, page: { limit: 2, after: third.page.endCursor! } }).items).toEqual([])
    expect(ns(search(rows, { sort, page: { limit: 2, before: third.page.startCursor! } }))).toEqual([5, 7])
    expect(ns(search(rows, { sort, page: { limit: 2, before: second.page.startCursor! } }))).toEqual([1, 3])
    expect(ns(search(rows, { sort, page: { limit: 3, before: second.page.startCursor! } }))).toEqual([1, 3])
    expect(ns(search(rows, { sort, page: { from: 3, limit: 10 } }))).toEqual([7, 9])
    expect(search(rows, { sort, page: { from: 1, limit: 1 } }).page.totalItems).toBe(5)
  })

  it("filters with exact values and operators, on lists too", () => {
    expect(ns(search(rows, { filter: { n: { $gt: 3, $lte: 7 } }, sort: [{ field: "n" }] }))).toEqual([5, 7])
    expect(ns(search(rows, { filter: { key: { $in: ["1", "9"] } }, sort: [{ field: "n", order: "DESC" }] }))).toEqual([9, 1])
    expect(ns(search(rows, { filter: { tags: "big" }, sort: [{ field: "n" }] }))).toEqual([5, 7, 9])
    expect(ns(search(rows, { filter: { key: { $like: "?" }, n: { $notIn: [1, 3, 5] } }, sort: [{ field: "n" }] }))).toEqual([7, 9])
    // date-times compare as instants, whatever their precision
    expect(ns(search(rows, { filter: { date: { $gte: "1970-01-01T00:00:07Z" } }, sort: [{ field: "n" }] }))).toEqual([7, 9])
    expect(ns(search(rows, { filter: { date: "1970-01-01T00:00:05Z" } }))).toEqual([5])
  })

  it("refuses filters on fields it does not know, and unknown operators", () => {
    expect(() => search(rows, { filter: { nope: 1 } })).toThrow("the test engine does not support filtering by nope")
    expect(() => search(rows, { filter: { n: { $regex: "x" } } })).toThrow("does not support the filter operator $regex")
    expect(() => search(rows, { page: { after: "not a cursor!" } })).toThrow("is not a cursor")
  })
})
