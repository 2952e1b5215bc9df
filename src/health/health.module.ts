import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RevenueCatModule } from '../revenuecat/revenuecat.module';
import { HealthController } from './health.controller';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), RevenueCatModule],
  controllers: [HealthController],
})
export class HealthModule {}
