/**
 * The real kmem:* trace kmem ships as a sample (`kmem replay --sample`):
 * kmem-5.4-sample.txt beside this file, two ftrace captures of
 * kmem:kmem_cache_alloc on a 5.4 kernel with 4 CPUs, with their source
 * header. The text file ships in the package as it is (package.json
 * "files"); this path finds it from src/trace/samples/ and from
 * dist/trace/samples/ alike, both three levels below the package root.
 */
import { fileURLToPath } from 'node:url';

export const KMEM_SAMPLE_PATH = fileURLToPath(new URL('../../../src/trace/samples/kmem-5.4-sample.txt', import.meta.url));
