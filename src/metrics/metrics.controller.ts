import { Controller, Get, Header } from '@nestjs/common';
import { Metrics } from './metrics';

/** Prometheus text format. Unauthenticated, like the health probes: keep it on the internal network. */
@Controller()
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
