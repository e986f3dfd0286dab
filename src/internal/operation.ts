import type * as HttpBody from "@effect/platform/HttpBody"
import type * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import type { CamundaClient } from "../CamundaClient.js"
import type { OperationError } from "../CamundaError.js"
import { execute } from "./executor.js"

/** @internal */
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE"

/** @internal */
export type SuccessBody =
  | { readonly _tag: "Json"; readonly schema: Schema.Schema<any, any> }
  | { readonly _tag: "Text"; readonly mediaType: string }
  | { readonly _tag: "Binary"; readonly mediaType: string }
  | { readonly _tag: "Empty" }

/** @internal */
export interface Descriptor<S extends number = number> {
  readonly operationId: string
  readonly tag: string
  readonly method: Method
  readonly path: string
  readonly pathParams: ReadonlyArray<string>
  readonly queryParams: ReadonlyArray<string>
  readonly requestBody: "None" | "Json" | "Multipart"
  /**
   * How a multipart body's fields are encoded (`internal/multipart.ts`): set exactly when
   * `requestBody` is `"Multipart"`, so a bundle without such an operation carries no
   * multipart code. Without it a body is JSON.
   */
  readonly encodeMultipart?: (fields: Record<string, unknown>) => HttpBody.HttpBody
  readonly bodyRequired: boolean
  readonly input: Schema.Schema<any, any> | undefined
  readonly responses: Readonly<Record<number, SuccessBody>>
  /** The request's `accept` header: the success bodies' media types and `application/problem+json`. */
  readonly accept: string
  readonly declaredErrors: ReadonlyArray<S>
  readonly eventuallyConsistent: boolean
  readonly safeToRepeat: boolean
  /** The call waits for a permit of the client's backpressure gate (`Backpressure.isGated`, decided by the generator). */
  readonly gated?: true
  /** The body field a client's default tenant fills when the caller leaves it out. */
  readonly tenantField?: "tenantId" | "tenantIds"
}

/** @internal */
export type Operation<I, A, S extends number, Gated extends boolean = false> = ([I] extends [void] ? () => Effect.Effect<A, OperationError<S, Gated>, CamundaClient>
  : {} extends I ? (input?: I) => Effect.Effect<A, OperationError<S, Gated>, CamundaClient>
  : (input: I) => Effect.Effect<A, OperationError<S, Gated>, CamundaClient>) & {
    readonly descriptor: Descriptor<S>
  }

/** @internal */
export const make = <I, A, S extends number, Gated extends boolean = false>(descriptor: Descriptor<S>): Operation<I, A, S, Gated> =>
  Object.assign((input?: I) => execute<A, S, Gated>(descriptor, input), { descriptor }) as any
