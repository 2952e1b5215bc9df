import type { ExecutionContext, Type } from '@nestjs/common';

/**
 * An ExecutionContext for guard specs, built from the public interface (Nest's own ExecutionContextHost is
 * not a published entry point): the arguments, the type, and the resolver class and method it reads
 * metadata from.
 */
export function executionContext(type: string, args: unknown[], resolver: Type<unknown> = Object, handler: () => unknown = () => undefined): ExecutionContext {
  const unused = () => {
    throw new Error('not used by the guards under test');
  };
  return {
    getType: <T extends string>() => type as T,
    getArgs: <T extends unknown[]>() => args as T,
    getArgByIndex: <T>(index: number) => args[index] as T,
    getClass: <T>() => resolver as Type<T>,
    getHandler: () => handler,
    switchToHttp: unused,
    switchToRpc: unused,
    switchToWs: unused,
  };
}
