/** Every table of the service, in one place: what drizzle-kit diffs and what the Database is typed with. */
export * from './journal.schema';
export * from './operators.schema';
export * from './bulk.schema';
