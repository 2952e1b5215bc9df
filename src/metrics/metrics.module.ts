import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { Metrics } from './metrics';
import { MetricsController } from './metrics.controller';
import { OperationMetricsInterceptor } from './operation-metrics.interceptor';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [Metrics, { provide: APP_INTERCEPTOR, useClass: OperationMetricsInterceptor }],
  exports: [Metrics],
})
export class MetricsModule {}
