/**
 * Bundle size of a one-operation program (`npm run size`).
 *
 * The program builds `CamundaClient.layer` on `FetchHttpClient.layer` and runs one operation,
 * `UserTask.completeUserTask`. It is bundled with esbuild (bundle, minify, ESM, tree-shaking,
 * platform neutral) and gzipped (level 9). Three import styles are bundled:
 *   - "subpath imports" (gated): `effect-camunda/UserTask`, `effect-camunda/CamundaClient`,
 *     `effect-camunda/Keys` (resolved through tsconfig `paths` to src/), effect by module path
 *     (`effect/Effect`, `effect/Layer`): the style the README recommends for bundles;
 *   - "package barrel": `import { CamundaClient, Keys, UserTask } from "effect-camunda"`, for
 *     comparison: esbuild materialises the whole `export * as UserTask` namespace object of a
 *     barrel (evanw/esbuild#1420), so every operation of the tag stays;
 *   - "package barrel, effect barrel": the same with `import { Effect, Layer } from "effect"`.
 *
 * For the gated bundle it prints raw/gzip bytes against the budget (≤ 90 KiB gzip), how many of
 * the 183 operationIds occur as string literals (expected 1), strings only other operations use
 * (expected 0), the `Keys`/`Models` identifier annotations that survived and what each src/ file
 * contributes. Exits 1 if the gzip size is over budget or another operation is in the bundle.
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

const PACKAGE_BARREL = `import { CamundaClient, Keys, UserTask } from "effect-camunda"`
const PACKAGE_SUBPATHS = [
  `import * as CamundaClient from "effect-camunda/CamundaClient"`,
  `import * as UserTask from "effect-camunda/UserTask"`,
  `import * as Keys from "effect-camunda/Keys"`
].join("\n")
const EFFECT_MODULES = `import * as Effect from "effect/Effect"\nimport * as Layer from "effect/Layer"`
const EFFECT_BARREL = `import { Effect, Layer } from "effect"`

/** The program; only bundled, never run. */
const program = (imports: string) => `${imports}
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"

const client = CamundaClient.layer({ restAddress: "http://localhost:8080" }).pipe(Layer.provide(FetchHttpClient.layer))

UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("2251799813685249") }).pipe(
  Effect.provide(client),
  Effect.runPromise
)
`

const VARIANTS = [
  { name: "subpath imports (gated)", imports: `${PACKAGE_SUBPATHS}\n${EFFECT_MODULES}` },
  { name: "package barrel", imports: `${PACKAGE_BARREL}\n${EFFECT_MODULES}` },
  { name: "package barrel, effect barrel", imports: `${PACKAGE_BARREL}\n${EFFECT_BARREL}` }
] as const

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

const bundle = async (imports: string) => {
  const result = await esbuild.build({
    stdin: { contents: program(imports), loader: "ts", resolveDir: here(".."), sourcefile: "size-entry.ts" },
    tsconfig: here("../tsconfig.json"),
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
  const code = result.outputFiles[0]!.text
  return { code, gzip: gzipSync(code, { level: 9 }).length, metafile: result.metafile }
}

type Bundle = Awaited<ReturnType<typeof bundle>>

const count = (haystack: string, needle: string) => haystack.split(needle).length - 1

/** Occurrences of `value` as a whole string literal, whichever quote minification chose. */
const countLiteral = (code: string, value: string) =>
  count(code, `"${value}"`) + count(code, `'${value}'`) + count(code, `\`${value}\``)

const operationsIn = (code: string) => Object.keys(operations).filter((id) => countLiteral(code, id) > 0)

/** The `identifier` annotations declared in a generated schema module. */
const identifiersOf = (path: string) =>
  [...readFileSync(here(path), "utf8").matchAll(/identifier: "([A-Za-z0-9_]+)"/g)].map((match) => match[1]!)

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`

const printVariants = (bundles: ReadonlyArray<readonly [string, Bundle]>) => {
  console.log("| import style | raw (minified) | gzip | foreign strings | operationIds present |\n|---|---:|---:|---:|---|")
  for (const [name, { code, gzip }] of bundles) {
    const present = operationsIn(code)
    const foreign = FOREIGN_MARKERS.filter((marker) => count(code, marker) > 0).length
    console.log(
      `| ${name} | ${code.length} B | ${gzip} B (${kib(gzip)}) | ${foreign} of ${FOREIGN_MARKERS.length} | ${present.length}: ${present.join(", ")} |`
    )
  }
}

const printChecks = ({ code, gzip }: Bundle) => {
  const identifiers = [
    ...identifiersOf("../src/generated/schemas/Keys.ts"),
    ...identifiersOf("../src/generated/schemas/Models.ts")
  ]
  const present = identifiers.filter((id) => countLiteral(code, id) > 0)
  console.log("\n| check (gated bundle) | value | target |\n|---|---:|---|")
  console.log(`| gzip | ${gzip} B (${kib(gzip)}) | ≤ ${GZIP_BUDGET} B (${kib(GZIP_BUDGET)}) |`)
  console.log(`| operationIds present | ${operationsIn(code).length} of ${Object.keys(operations).length} | 1 |`)
  console.log(`| \`${KEPT_OPERATION}\` occurrences | ${count(code, KEPT_OPERATION)} | ≥ 1 |`)
  for (const marker of FOREIGN_MARKERS) console.log(`| \`${marker}\` occurrences | ${count(code, marker)} | 0 |`)
  console.log(`| Keys/Models identifiers present | ${present.length} of ${identifiers.length} | |`)
  console.log(`\nKeys/Models identifiers present: ${present.join(", ") || "none"}`)
}

const printSrcContributions = ({ metafile }: Bundle) => {
  const inputs = Object.values(metafile.outputs)[0]!.inputs
  const rows = Object.entries(inputs)
    .filter(([path]) => path.startsWith("src/"))
    .sort(([, a], [, b]) => b.bytesInOutput - a.bytesInOutput)
  console.log("\n| src/ file (gated bundle) | bytes in output, minified |\n|---|---:|")
  for (const [path, input] of rows) console.log(`| ${path} | ${input.bytesInOutput} |`)
}

const failuresOf = ({ code, gzip }: Bundle) => {
  const present = operationsIn(code)
  const foreign = present.filter((id) => id !== KEPT_OPERATION)
  return [
    ...(gzip > GZIP_BUDGET ? [`gzip ${gzip} B is over the ${GZIP_BUDGET} B budget`] : []),
    ...(present.includes(KEPT_OPERATION) ? [] : [`${KEPT_OPERATION} is missing from the bundle`]),
    ...(foreign.length > 0 ? [`${foreign.length} other operations in the bundle: ${foreign.join(", ")}`] : []),
    ...FOREIGN_MARKERS.filter((marker) => count(code, marker) > 0).map((marker) => `foreign string "${marker}" found`)
  ]
}

const main = async () => {
  const bundles = await Promise.all(VARIANTS.map(async ({ imports, name }) => [name, await bundle(imports)] as const))
  const gated = bundles[0]![1]
  console.log(`## Bundle size: \`UserTask.completeUserTask\` on FetchHttpClient (esbuild ${esbuild.version})\n`)
  printVariants(bundles)
  printChecks(gated)
  printSrcContributions(gated)
  const failures = failuresOf(gated)
  console.log(failures.length === 0 ? "\nOK" : `\nFAIL\n${failures.map((failure) => `- ${failure}`).join("\n")}`)
  if (failures.length > 0) process.exitCode = 1
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
