import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import type { Policy } from "../Retry.js"

/** The retry policy of the current call, when one was set with `CamundaClient.withRetry`. @internal */
export const currentRetryPolicy: FiberRef.FiberRef<Option.Option<Policy>> = FiberRef.unsafeMake(Option.none<Policy>())
