/**
 * The guided scenarios run start to finish, every sentence can be written,
 * and each shows what its title promises.
 */
import { describe, expect, it } from 'vitest';
import { opChips } from '../../web/model/describe.js';
import { kasanReports } from '../../web/model/kasan.js';
import { SCENARIOS, StepContext, scenarioOps, stepBounds } from '../../web/model/scenarios.js';
import { DEFAULT_CONFIG, Session } from '../../web/model/session.js';

function run(id: string): { s: Session; chips: string[]; texts: string[] } {
  const sc = SCENARIOS.find((x) => x.id === id)!;
  const s = new Session({ ...DEFAULT_CONFIG, ...sc.config }, null, scenarioOps(sc));
  const b = stepBounds(sc);
  const texts: string[] = [];
  sc.steps.forEach((st, i) => {
    s.seek(b[i + 1]!);
    texts.push(st.text(new StepContext(s)));
  });
  const chips: string[] = [];
  for (let i = 0; i < s.rec.n; i++) chips.push(...opChips(s, i).map((c) => c.id));
  return { s, chips, texts };
}

describe('scenarios', () => {
  it('have a sentence per step, and steps that do something', () => {
    for (const sc of SCENARIOS) {
      expect(sc.steps.length).toBeGreaterThanOrEqual(3);
      for (const st of sc.steps) expect(st.ops.length).toBeGreaterThan(0);
      expect(stepBounds(sc).at(-1)).toBe(scenarioOps(sc).length);
    }
  });

  it('“a remote free” shows the remote free and its refill', () => {
    const { chips, texts } = run('remote-free');
    expect(chips).toEqual(expect.arrayContaining(['new-slab', 'fast', 'fast-free', 'remote-free', 'refill', 'bypass', 'to-cpu-partial']));
    expect(texts[4]).toMatch(/inuse drops to 15/);
    expect(texts[5]).toMatch(/gets object 0, the slot A had/);
    expect(texts[6]).toMatch(/\(0 left\)/);
    expect(texts[7]).toMatch(/object 1, B’s old slot/);
  });

  it('“deactivate_slab and inuse” shows inuse before and after', () => {
    const { chips, texts } = run('deactivate');
    expect(chips).toEqual(expect.arrayContaining(['deactivate', 'node-partial', 'slab-freed']));
    expect(texts[0]).toMatch(/inuse = 16 although only 3 objects are handed out: the other 13/);
    expect(texts[2]).toMatch(/inuse is now 2/);
    expect(texts[3]).toMatch(/inuse jumps back to 16/);
  });

  it('“buddy split and merge” splits from order 10 and merges back', () => {
    const { s, chips, texts } = run('buddy');
    expect(chips).toEqual(expect.arrayContaining(['buddy-split', 'buddy-merge', 'pcp-refill', 'pcp-free', 'pcp-drain']));
    expect(opChips(s, 0).map((c) => c.label)).toContain('buddy split from order 10');
    expect(opChips(s, 3).map((c) => c.label)).toContain('buddy merge up to order 10');
    expect(texts[6]).toMatch(/\(0 pcp pages left\)/);
  });

  it('“a KASAN out-of-bounds” ends in a slab-out-of-bounds report', () => {
    const { s, texts } = run('kasan-oob');
    expect(kasanReports(s.k).map((r) => r.type)).toEqual(['slab-out-of-bounds']);
    expect(texts[2]).toMatch(/reports a slab-out-of-bounds read/);
  });

  it('“a use-after-free caught by the quarantine” ends in a slab-use-after-free report', () => {
    const { s, chips, texts } = run('kasan-uaf');
    expect(chips).toContain('quarantine');
    expect(kasanReports(s.k).map((r) => r.type)).toEqual(['slab-use-after-free']);
    expect(texts[2]).toMatch(/gets another object \(object 1\)/);
  });
});
