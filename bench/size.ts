/**
 * Bundle size of a one-operation program (`npm run size`).
 *
 * Bundles `bench/size-entry.ts` (CamundaClient + FetchHttpClient + `UserTask.completeUserTask`,
 * imported through the package barrel) with esbuild — bundle, minify, ESM, tree-shaking — gzips
 * the output and prints:
 *   - raw and gzip bytes against the budget (≤ 90 KiB gzip);
 *   - how many of the 183 operationIds occur in the bundle as string literals (expected: 1);
 *   - a few strings only other operations use (operationIds, schema identifiers, a path): expected 0;
 *   - which `identifier` annotations of `Keys`/`Models` survived, and what each src/ file contributes.
 *
 * Exits 1 when the gzip size is over budget or any foreign operation is found.
 */
import * as esbuild from "esbuild"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { gzipSync } from "node:zlib"
import { operations } from "../src/generated/operations.js"

const GZIP_BUDGET = 90 * 1024
const KEPT_OPERATION = "completeUserTask"
/** Strings that only other operations' code or schemas contain. */
const FOREIGN_MARKERS = [
  "createProcessInstance",
  "searchUserTasks",
  "activateJobs",
  "assignUserTask",
  "ProcessInstanceCreationInstruction",
  "UserTaskSearchQuery",
  "/process-instances"
]

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

const bundle = async () => {
  const result = await esbuild.build({
    entryPoints: [here("./size-entry.ts")],
    bundle: true,
    minify: true,
    treeShaking: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    legalComments: "none",
    metafile: true,
    write: false,
    logLevel: "warning"
  })
  return { code: result.outputFiles[0]!.text, metafile: result.metafile }
}

const count = (haystack: string, needle: string) => haystack.split(needle).length - 1

/** Occurrences of `value` as a whole string literal, whichever quote minification chose. */
const countLiteral = (code: string, value: string) =>
  count(code, `"${value}"`) + count(code, `'${value}'`) + count(code, `\`${value}\``)

/** The `identifier` annotations declared in a generated schema module. */
const identifiersOf = (path: string) =>
  [...readFileSync(here(path), "utf8").matchAll(/identifier: "([A-Za-z0-9_]+)"/g)].map((match) => match[1]!)

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`

const contributions = (metafile: esbuild.Metafile) =>
  Object.values(metafile.outputs)[0]!.inputs

const printSrcContributions = (metafile: esbuild.Metafile) => {
  const rows = Object.entries(contributions(metafile))
    .filter(([path]) => path.startsWith("src/"))
    .sort(([, a], [, b]) => b.bytesInOutput - a.bytesInOutput)
  console.log("\n| src/ file | bytes in output (minified, before gzip) |\n|---|---:|")
  for (const [path, input] of rows) console.log(`| ${path} | ${input.bytesInOutput} |`)
}

const main = async () => {
  const { code, metafile } = await bundle()
  const gzip = gzipSync(code, { level: 9 }).length
  const operationIds = Object.keys(operations)
  const presentOperations = operationIds.filter((id) => countLiteral(code, id) > 0)
  const foreignOperations = presentOperations.filter((id) => id !== KEPT_OPERATION)
  const markerCounts = FOREIGN_MARKERS.map((marker) => [marker, count(code, marker)] as const)
  const identifiers = [...identifiersOf("../src/generated/schemas/Keys.ts"), ...identifiersOf("../src/generated/schemas/Models.ts")]
  const presentIdentifiers = identifiers.filter((id) => countLiteral(code, id) > 0)

  console.log("## Bundle size: one operation (`UserTask.completeUserTask`) on FetchHttpClient\n")
  console.log("| measure | value | target |\n|---|---:|---|")
  console.log(`| raw (minified) | ${code.length} B (${kb(code.length)}) | |`)
  console.log(`| gzip (level 9) | ${gzip} B (${kb(gzip)}) | ≤ ${kb(GZIP_BUDGET)} |`)
  console.log(`| operationIds present | ${presentOperations.length} of ${operationIds.length} | 1 |`)
  console.log(`| \`${KEPT_OPERATION}\` occurrences | ${count(code, KEPT_OPERATION)} | ≥ 1 |`)
  for (const [marker, n] of markerCounts) console.log(`| \`${marker}\` occurrences | ${n} | 0 |`)
  console.log(
    `| Keys/Models identifiers present | ${presentIdentifiers.length} of ${identifiers.length}: ${presentIdentifiers.join(", ")} | |`
  )
  printSrcContributions(metafile)

  const failures = [
    ...(gzip > GZIP_BUDGET ? [`gzip ${gzip} B is over the ${GZIP_BUDGET} B budget`] : []),
    ...(presentOperations.includes(KEPT_OPERATION) ? [] : [`${KEPT_OPERATION} is missing from the bundle`]),
    ...(foreignOperations.length > 0 ? [`foreign operations in the bundle: ${foreignOperations.join(", ")}`] : []),
    ...markerCounts.filter(([, n]) => n > 0).map(([marker, n]) => `foreign marker "${marker}" found ${n}×`)
  ]
  if (failures.length > 0) {
    console.log(`\nFAIL:\n${failures.map((failure) => `- ${failure}`).join("\n")}`)
    process.exitCode = 1
  } else {
    console.log("\nOK")
  }
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
