import * as FiberRef from "effect/FiberRef"
import type * as Redacted from "effect/Redacted"

/**
 * Where an attempt learns which OAuth token its request carried: the executor puts a fresh
 * cell in place around each attempt, the token provider writes the token it hands out into
 * it. After a 401 only that token is dropped, never a newer one that another call fetched
 * in the meantime.
 *
 * @internal
 */
export interface TokenCell {
  token: Redacted.Redacted<string> | undefined
}

/** @internal */
export const currentTokenCell: FiberRef.FiberRef<TokenCell | undefined> = /*#__PURE__*/ FiberRef.unsafeMake<
  TokenCell | undefined
>(undefined)
