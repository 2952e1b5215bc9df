// Imported first by main.ts, before anything the instrumentations patch is loaded.
import { startTracing } from './index';

startTracing();
