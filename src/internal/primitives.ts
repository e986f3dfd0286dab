/**
 * Schemas the generated code builds on, where OpenAPI formats need more than a
 * plain `effect/Schema` constructor.
 */
import * as Schema from "effect/Schema"

/**
 * An RFC 3339 date-time string (`2024-05-01T10:00:00.000Z`). Kept as a string, never
 * turned into a `Date`, so no precision or offset is lost; checked for its shape.
 *
 * @internal
 */
export const DateTime = /*#__PURE__*/ Schema.String.pipe(
  /*#__PURE__*/ Schema.pattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/),
  /*#__PURE__*/ Schema.annotations({
    identifier: "DateTime",
    arbitrary: () => (fc) =>
      fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2099-12-31T23:59:59Z"), noInvalidDate: true })
        .map((date) => date.toISOString())
  })
)

/**
 * A file part of a multipart request: bytes, or a `Blob`/`File` (a `File` keeps its name).
 *
 * @internal
 */
export const Binary = /*#__PURE__*/ Schema.Union(
  Schema.Uint8ArrayFromSelf,
  /*#__PURE__*/ Schema.instanceOf(Blob, {
    identifier: "Blob",
    arbitrary: () => (fc) => fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => new Blob([bytes as Uint8Array<ArrayBuffer>]))
  })
).annotations({ identifier: "Binary" })

/**
 * A 32-bit integer.
 *
 * @internal
 */
export const Int32 = /*#__PURE__*/ Schema.Int.pipe(
  /*#__PURE__*/ Schema.between(-2147483648, 2147483647),
  /*#__PURE__*/ Schema.annotations({ identifier: "Int32" })
)

/**
 * A 64-bit integer carried as a JSON number (counts, sizes; keys are branded strings).
 *
 * @internal
 */
export const Int64 = /*#__PURE__*/ Schema.Int.pipe(/*#__PURE__*/ Schema.annotations({ identifier: "Int64" }))
