import { replayCompare } from './src/trace/compare.js';
const which = process.argv[2]!;
const boot = which === 'slub' ? {} : { allocator: which as 'slab' };
console.log('start', which);
const c = await replayCompare('./test/fixtures/trace/linux-6.1-qemu-2cpu-excerpt.txt', [{ label: which, boot }]);
for (const r of c.rows) console.log(JSON.stringify({ ...r, caches: r.caches.length, boot: undefined }));
