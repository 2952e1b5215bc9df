type ErrorClass<E> = abstract new (...args: never[]) => E;

/**
 * The error of class `type` that `work` throws, or that the promise `work` rejects with, for assertions on
 * its fields. An error of another class is rethrown as it is; no error at all fails the test.
 */
export function failureOf<E>(type: ErrorClass<E>, work: Promise<unknown>): Promise<E>;
export function failureOf<E>(type: ErrorClass<E>, work: () => unknown): E;
export function failureOf<E>(type: ErrorClass<E>, work: Promise<unknown> | (() => unknown)): E | Promise<E> {
  if (typeof work !== 'function') {
    return work.then(
      () => {
        throw nothingThrown(type);
      },
      (error: unknown) => caught(type, error),
    );
  }
  let result: unknown;
  try {
    result = work();
  } catch (error) {
    return caught(type, error);
  }
  if (result instanceof Promise) throw new Error('failureOf: pass the promise itself, not a function that returns one');
  throw nothingThrown(type);
}

function caught<E>(type: ErrorClass<E>, error: unknown): E {
  if (error instanceof type) return error;
  throw error;
}

function nothingThrown(type: ErrorClass<unknown>): Error {
  return new Error(`expected a ${type.name}`);
}
