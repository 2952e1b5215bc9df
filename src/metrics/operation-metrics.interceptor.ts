import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import { Observable, tap } from 'rxjs';
import { GatewayError } from '../common/errors';
import { Metrics } from './metrics';

/**
 * Counts and times every GraphQL root field our resolvers run (nested fields are plain properties).
 * Refusals by guards, which run before interceptors, are counted where they happen.
 */
@Injectable()
export class OperationMetricsInterceptor implements NestInterceptor {
  constructor(private readonly metrics: Metrics) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType<string>() !== 'graphql') return next.handle();
    const operation = GqlExecutionContext.create(context).getInfo<{ fieldName: string }>().fieldName;
    const stop = this.metrics.operationDuration.startTimer({ operation });
    const count = (code: string) => {
      stop();
      this.metrics.operations.inc({ operation, code });
    };
    return next.handle().pipe(
      tap({
        next: () => count('ok'),
        error: (error: unknown) => count(error instanceof GatewayError ? error.code : 'internal_error'),
      }),
    );
  }
}
