/** The id RequestLoggingMiddleware gave a request (`req.id`, echoed in `x-request-id`); undefined before it ran. */
export function requestIdOf(req: unknown): string | undefined {
  const id = (req as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
}
