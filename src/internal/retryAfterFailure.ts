import * as Effect from "effect/Effect"
import type * as Schedule from "effect/Schedule"

/**
 * Retries `once` after its first failure `first`, which the caller has already seen: the
 * schedule starts from that failure (so its `Retry-After` counts) and nothing of the retry
 * machinery is built on the success path. `onRetry` sees every failure that will be retried.
 *
 * @internal
 */
export const retryAfterFailure = <A, E, R, Out, R2>(
  once: Effect.Effect<A, E, R>,
  first: E,
  options: {
    readonly schedule: Schedule.Schedule<Out, E, R2>
    readonly while: (error: E) => boolean
    readonly onRetry?: ((error: E) => Effect.Effect<void>) | undefined
  }
): Effect.Effect<A, E, R | R2> => {
  let replay: { readonly error: E } | undefined = { error: first }
  const next = Effect.suspend(() => {
    if (replay === undefined) return once
    const { error } = replay
    replay = undefined
    return Effect.fail(error)
  })
  const onRetry = options.onRetry
  const observed = onRetry === undefined
    ? next
    : Effect.tapError(next, (error) => (options.while(error) ? onRetry(error) : Effect.void))
  return Effect.retry(observed, { schedule: options.schedule, while: options.while })
}
