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
  readonly bodyRequired: boolean
  readonly input: Schema.Schema<any, any> | undefined
  readonly responses: Readonly<Record<number, SuccessBody>>
  readonly declaredErrors: ReadonlyArray<S>
  readonly eventuallyConsistent: boolean
  readonly safeToRepeat: boolean
}

/** @internal */
export type Operation<I, A, S extends number> = ([I] extends [void] ? () => Effect.Effect<A, OperationError<S>, CamundaClient>
  : {} extends I ? (input?: I) => Effect.Effect<A, OperationError<S>, CamundaClient>
  : (input: I) => Effect.Effect<A, OperationError<S>, CamundaClient>) & {
    readonly descriptor: Descriptor<S>
  }

/** @internal */
export const make = <I, A, S extends number>(descriptor: Descriptor<S>): Operation<I, A, S> =>
  Object.assign((input?: I) => execute<A, S>(descriptor, input), { descriptor }) as any
