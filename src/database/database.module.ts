import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Database, DatabaseConnection, openDatabase } from './database';

@Injectable()
class DatabaseLifecycle implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');

  constructor(@Inject(DatabaseConnection) private readonly connection: DatabaseConnection) {}

  async onApplicationShutdown(): Promise<void> {
    await this.connection.close().catch((error: Error) => this.logger.warn(`closing the database: ${error.message}`));
  }
}

/**
 * The database of AppConfig.database: opened, migrated (under an advisory lock on PostgreSQL) while the
 * application starts, which therefore fails to start when the database does not answer; closed on shutdown.
 * Provides `Database` (drizzle, for repositories) and `DatabaseConnection` (kind, ping for /readyz).
 */
@Global()
@Module({
  providers: [
    {
      provide: DatabaseConnection,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): Promise<DatabaseConnection> =>
        openDatabase(config.database, config.database.kind === 'postgres' ? { schema: config.database.schema } : {}),
    },
    {
      provide: Database,
      inject: [DatabaseConnection],
      useFactory: (connection: DatabaseConnection): Database => connection.db,
    },
    DatabaseLifecycle,
  ],
  exports: [Database, DatabaseConnection],
})
export class DatabaseModule {}
