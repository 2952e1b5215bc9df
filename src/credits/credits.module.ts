import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { RevenueCatModule } from '../revenuecat/revenuecat.module';
import { CreditsResolver } from './credits.resolver';
import { CreditsService } from './credits.service';

@Module({
  imports: [AuthModule, RevenueCatModule],
  providers: [CreditsResolver, CreditsService],
})
export class CreditsModule {}
