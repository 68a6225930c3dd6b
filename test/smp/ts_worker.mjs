// Runs a TypeScript worker program from the sources: tsx (a devDependency,
// so present on any clone after `npm install`) registers its loader in this
// worker thread, then the program named by workerData.entry is imported.
// Vitest compiles the test files but not the worker threads they start,
// and dist/ may be stale or absent while the sources are what is tested.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
