/**
 * Where the benchmarks find the scripts they start in child processes (stub servers, the
 * engine). The benchmarks run compiled (`npm run bench*` bundles bench/ and src/ with esbuild
 * into .tmp/bench, as `npm run build` would ship them) or, for quick checks, straight from
 * TypeScript with `tsx`; a child runs the same way as its parent.
 */
import { fileURLToPath } from "node:url"

/** Whether this process runs the compiled benchmarks. */
const compiled = import.meta.url.endsWith(".mjs")

/**
 * The file of `script` (a TypeScript path relative to `base`, an `import.meta.url`) and the
 * Node flags that run it.
 */
export const entry = (script: string, base: string): { readonly path: string; readonly execArgv: ReadonlyArray<string> } =>
  compiled
    ? { path: fileURLToPath(new URL(script.replace(/\.ts$/, ".mjs"), base)), execArgv: [] }
    : { path: fileURLToPath(new URL(script, base)), execArgv: ["--import", "tsx"] }
