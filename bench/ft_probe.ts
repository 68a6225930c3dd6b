/** Probe: boot 2 GiB, mmap 1 GiB, touch each page; prints ns/fault for several rounds, and the zeroing floor. */
import { boot } from '../src/index.js';
import { smallProgram } from '../src/workloads/elf.js';
import { kmemFirstTouch } from './vm_kmem.js';

const k = boot({ memory: '2G', cpus: 2, seed: 1 });
k.fs.writeFile('/bin/bench', smallProgram(1, 64, 4096));
const t = k.spawn('/bin/bench', ['bench']);
const pages = (1 << 30) / 4096;
const rounds = Number(process.argv[2] ?? 7);
const res: number[] = [];
const order = new Float64Array(pages);
for (let r = 0; r < rounds; r++) {
  const base = t.mmap(0, pages * 4096, 3, 0x22, -1, 0);
  const f0 = t.minFlt;
  const c0 = process.cpuUsage();
  kmemFirstTouch(t, base, pages);
  const c = process.cpuUsage(c0);
  const ns = ((c.user + c.system) * 1000) / pages;
  if (t.minFlt - f0 !== pages) throw new Error('faults');
  res.push(ns);
  if (r === rounds - 1) for (let i = 0; i < pages; i++) order[i] = t.translate(base + i * 4096, false);
  t.munmap(base, pages * 4096);
}
// The zeroing floor: fill the frames the last round's faults got, in the order they got them (nothing else).
const u8 = k.phys.u8;
const fl: number[] = [];
for (let r = 0; r < rounds; r++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < pages; i++) {
    const a = order[i]!;
    u8.fill(0, a, a + 4096);
  }
  fl.push(Number(process.hrtime.bigint() - t0) / pages);
}
const s = (a: number[]) => {
  const b = [...a].sort((x, y) => x - y);
  return `min ${b[0]!.toFixed(0)} med ${b[b.length >> 1]!.toFixed(0)}`;
};
console.log(`fault ns (cpu time): ${s(res)}  [${res.map((x) => x.toFixed(0)).join(' ')}]`);
console.log(`zero-fill floor ns/page: ${s(fl)}`);
