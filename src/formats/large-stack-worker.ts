// Worker thread for the large stack (src/builtins/support/large-stack.ts), as built into dist/
// (scripts/build.ts): imports the modules that register functions for it (the input parsers,
// yaml.unmarshal, rego.parse_module, the data loader), then answers the calls it is sent on this thread's large
// stack. From the sources, large-stack-worker.mjs does the same through tsx.
import { workerData } from 'node:worker_threads';
import { workerMain } from '../builtins/support/large-stack.ts';
import './index.ts';
import '../builtins/goyaml.ts';
import '../builtins/rego.ts';
import '../load/index.ts';

workerMain(workerData);
