/**
 * RELIABILITY.md and the tests agree row for row: every test a row cites exists, under the
 * title the row gives (a row may shorten a title with "…"; a `${…}` in a test's title
 * stands for any text).
 */
import { describe, expect, it } from "@effect/vitest"
import { existsSync, readFileSync } from "node:fs"

const root = new URL("../", import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), "utf8")

/** A test a row cites: its file, and its title unless the row cites the whole file. */
interface Citation {
  readonly row: string
  readonly file: string
  readonly title: string | undefined
}

/** The table's rows (fault, behaviour, tests), each with the tests of its last cell. */
const rowsOf = (markdown: string) =>
  markdown.split("\n").filter((line) => /^\| (?!fault \||---)/.test(line)).map((line) => {
    const cells = line.split(" | ")
    return { row: cells[0]!.slice(2), tests: cells.at(-1)!.replace(/ \|$/, "") }
  })

/** "`test/a.test.ts` › title; title …; `test/b.test.ts` (remark)" → its citations. */
const citationsOf = ({ row, tests }: { readonly row: string; readonly tests: string }): Array<Citation> =>
  tests.split(/;\s*(?=`)/).flatMap((reference): Array<Citation> => {
    const [, file = reference, titles] = /^`([^`]+)`(?: › (.*))?/.exec(reference.trim()) ?? []
    if (titles === undefined) return [{ row, file, title: undefined }]
    return titles.split(/;\s*/).map((title) => ({
      row,
      file,
      // a trailing remark in parentheses is the row's, not the title's
      title: title.replace(/\s*…\s*$/, "").replace(/\s*\([^()]*\)$/, "").trim()
    }))
  })

/** Stands for a `${…}` of a title: any text. */
const anyText = "\u0000"

/** The titles of a test file's tests, each `${…}` replaced by {@link anyText}. */
const titlesOf = (source: string): Array<string> =>
  Array.from(
    source.matchAll(/\b(?:it|test)(?:\.\w+)?\(\s*(["'`])((?:\\.|(?!\1)[^\\])*)\1/g),
    (match) => match[2]!.replace(/\$\{[^}]*\}/g, anyText)
  )

/** Whether `text[from…]` continues `title[at…]` to its end, {@link anyText} taking one or more characters. */
const continues = (text: string, from: number, title: string, at: number): boolean => {
  if (from === text.length) return true
  if (at === title.length) return false
  if (title[at] !== anyText) return text[from] === title[at] && continues(text, from + 1, title, at + 1)
  for (let end = from + 1; end <= text.length; end++) {
    if (continues(text, end, title, at + 1)) return true
  }
  return false
}

/** Whether every part of a cited title (parts separated by " … ") occurs in the title. */
const isPartOf = (cited: string, title: string) =>
  cited.split(" … ").every((part) => Array.from({ length: title.length }, (_, at) => at).some((at) => continues(part, 0, title, at)))

describe("RELIABILITY.md", () => {
  const rows = rowsOf(read("RELIABILITY.md"))
  const citations = rows.flatMap(citationsOf)

  it("cites a test file that exists in every row", () => {
    expect(rows.length).toBeGreaterThan(40)
    const uncited = rows.filter((row) => !citationsOf(row).some(({ file }) => file.startsWith("test/") && existsSync(new URL(file, root))))
    expect(uncited).toEqual([])
  })

  it("cites only tests that exist, under their titles", () => {
    const missing = citations.filter(({ file, title }) =>
      !existsSync(new URL(file, root)) || (title !== undefined && !titlesOf(read(file)).some((candidate) => isPartOf(title, candidate)))
    )
    expect(missing).toEqual([])
  })
})
