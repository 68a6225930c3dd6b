/**
 * Probe: boot 2 GiB, mmap 1 GiB, store into each page (a first-touch fault
 * each), then munmap, for several rounds; after each round the zeroing floor
 * (a 4 KiB fill of the frames that round's faults got, in the order they got
 * them). Both in CPU time (process.cpuUsage: user + system), which a loaded
 * machine disturbs less than wall time, and their ratio per round. The host
 * pages behind kmem's RAM are touched once first, so no round pays the host's
 * own first-touch faults for them.
 *
 *   npx tsc -p tsconfig.bench.json && [FT_TRACE=1] node build/bench/ft_probe.js [rounds] [mapping bytes]
 */
import { boot } from '../src/index.js';
import { smallProgram } from '../src/workloads/elf.js';
import { kmemFirstTouch } from './vm_kmem.js';

const k = boot({ memory: '2G', cpus: 2, seed: 1 });
k.fs.writeFile('/bin/bench', smallProgram(1, 64, 4096));
const t = k.spawn('/bin/bench', ['bench']);
const pages = Number(process.argv[3] ?? 1 << 30) / 4096;
const rounds = Number(process.argv[2] ?? 7);
const u8 = k.phys.u8;
for (let i = 0; i < u8.length; i += 4096) u8[i] = u8[i]!;
const cpuNs = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) * 1000;
};
const faults: number[] = [];
const floors: number[] = [];
const order = new Float64Array(pages);
for (let r = 0; r < rounds; r++) {
  const base = t.mmap(0, pages * 4096, 3, 0x22, -1, 0);
  const f0 = t.minFlt;
  let c0 = cpuNs();
  kmemFirstTouch(t, base, pages);
  faults.push((cpuNs() - c0) / pages);
  if (process.env.FT_TRACE) console.log(`ROUND ${r} ${faults[r]!.toFixed(0)}`);
  if (t.minFlt - f0 !== pages) throw new Error(`${t.minFlt - f0} faults for ${pages} pages`);
  for (let i = 0; i < pages; i++) order[i] = t.translate(base + i * 4096, false);
  c0 = cpuNs();
  for (let i = 0; i < pages; i++) {
    const a = order[i]!;
    u8.fill(0, a, a + 4096);
  }
  floors.push((cpuNs() - c0) / pages);
  t.munmap(base, pages * 4096);
}
// The first round also compiles the fault path: left out of min and median.
const s = (a: number[], digits = 0): string => {
  const b = a.slice(1).sort((x, y) => x - y);
  return `min ${b[0]!.toFixed(digits)} med ${b[b.length >> 1]!.toFixed(digits)}`;
};
console.log(`fault ns per page (cpu): ${s(faults)}  [${faults.map((x) => x.toFixed(0)).join(' ')}]`);
console.log(`zeroing floor ns per page (cpu): ${s(floors)}`);
console.log(
  `fault / floor, per round: ${s(
    faults.map((f, i) => f / floors[i]!),
    2,
  )}`,
);
