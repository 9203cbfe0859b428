/** A trigger or manual payload the function does not understand: rejected before any AWS call. */
export class InvalidPayloadError extends Error {
  override name = 'InvalidPayloadError';
  /** 4xx-style: the caller sent something wrong; retrying it will not help. */
  readonly statusCode = 400;
}

/** Thrown at the end of a run that had failures, after its summary was logged and its metrics sent. */
export class RunFailedError extends Error {
  override name = 'RunFailedError';
}
