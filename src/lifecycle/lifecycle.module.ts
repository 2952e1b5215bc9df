import { Global, Module } from '@nestjs/common';
import { DrainGateMiddleware } from './drain-gate.middleware';
import { Lifecycle } from './lifecycle';

@Global()
@Module({ providers: [Lifecycle, DrainGateMiddleware], exports: [Lifecycle, DrainGateMiddleware] })
export class LifecycleModule {}
