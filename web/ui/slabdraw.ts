/**
 * One slab drawn as its objects: a grid of slots, each coloured by state,
 * with the free pointers as arrows in freelist order (blue: the CPU's
 * lockless c->freelist, orange: the slab's own freelist).
 */
import { type CacheGeometryView, freelistArrows, O_ALLOC, O_FREE_CPU, O_FREE_SLAB, O_QUARANTINE, type SlabView } from '../model/caches.js';
import { sizeCanvas } from './dom.js';

export const CPU_COLOR = '#1c7ed6';
export const SLAB_COLOR = '#f76707';
export const QUAR_COLOR = '#9c36b5';
const PAD = 9;

export interface SlabLayout {
  perRow: number;
  cell: number;
  width: number;
  height: number;
}

export function slabLayout(objects: number): SlabLayout {
  const perRow = objects <= 16 ? Math.min(objects, 8) : objects <= 64 ? 16 : 32;
  const cell = objects <= 16 ? 46 : objects <= 32 ? 32 : objects <= 64 ? 24 : objects <= 128 ? 14 : 9;
  const rows = Math.ceil(objects / perRow);
  return { perRow, cell, width: perRow * cell + 2 * PAD, height: rows * cell + 2 * PAD };
}

/** The object index under a point of the tile, or -1. */
export function objectAt(l: SlabLayout, objects: number, x: number, y: number): number {
  const c = Math.floor((x - PAD) / l.cell);
  const r = Math.floor((y - PAD) / l.cell);
  if (c < 0 || c >= l.perRow || r < 0) return -1;
  const i = r * l.perRow + c;
  return i < objects ? i : -1;
}

function center(l: SlabLayout, i: number): [number, number] {
  return [PAD + (i % l.perRow) * l.cell + l.cell / 2, PAD + Math.floor(i / l.perRow) * l.cell + l.cell / 2];
}

export function drawSlab(canvas: HTMLCanvasElement, s: SlabView, g: CacheGeometryView, color: string, highlight: number): SlabLayout {
  const l = slabLayout(s.objects);
  const ctx = sizeCanvas(canvas, l.width, l.height);
  ctx.clearRect(0, 0, l.width, l.height);
  ctx.fillStyle = '#1d2129';
  ctx.fillRect(0, 0, l.width, l.height);
  const inner = l.cell - 3;
  const objFrac = Math.max(0.35, g.objectSize / g.size);
  const leftFrac = g.redLeftPad / g.size;
  // A slot from top to bottom: the left red zone (slub_debug Z), the object, then the
  // metadata (free pointer if moved out, tracks, KASAN meta, right red zone, padding).
  const leftH = g.redLeftPad > 0 ? Math.max(2, Math.round(inner * leftFrac)) : 0;
  const objH = Math.max(4, Math.min(inner - leftH, Math.round(inner * objFrac)));
  for (let i = 0; i < s.objects; i++) {
    const x = PAD + (i % l.perRow) * l.cell + 1;
    const y = PAD + Math.floor(i / l.perRow) * l.cell + 1;
    const st = s.states[i]!;
    ctx.fillStyle = g.redZone ? '#8a3b3b' : '#555b66';
    ctx.fillRect(x, y, inner, inner);
    if (leftH > 0) {
      ctx.fillStyle = '#c92a2a';
      ctx.fillRect(x, y, inner, leftH);
    }
    const oy = y + leftH;
    if (st === O_ALLOC) {
      ctx.fillStyle = color;
      ctx.fillRect(x, oy, inner, objH);
      if (s.accessible && s.accessible[i]! < g.objectSize) {
        // KASAN's redzone after the requested size.
        const ax = Math.round((inner * s.accessible[i]!) / g.objectSize);
        ctx.fillStyle = '#e03131';
        ctx.fillRect(x + ax, oy, inner - ax, objH);
      }
    } else if (st === O_QUARANTINE) {
      ctx.fillStyle = QUAR_COLOR;
      ctx.fillRect(x, oy, inner, objH);
      ctx.save();
      ctx.beginPath();
      ctx.rect(x, oy, inner, objH);
      ctx.clip();
      ctx.strokeStyle = 'rgba(255,255,255,0.55)';
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (let d = -objH; d < inner; d += 5) {
        ctx.moveTo(x + d, oy + objH);
        ctx.lineTo(x + d + objH, oy);
      }
      ctx.stroke();
      ctx.restore();
    } else {
      ctx.fillStyle = g.poison ? '#f5f0d6' : '#f4f6fa';
      ctx.fillRect(x, oy, inner, objH);
      ctx.strokeStyle = st === O_FREE_CPU ? CPU_COLOR : SLAB_COLOR;
      ctx.lineWidth = 2;
      ctx.strokeRect(x + 1, oy + 1, inner - 2, objH - 2);
      // Where the free pointer is stored inside the object (or just after it).
      const fx = x + Math.min(inner - 3, Math.round((inner * g.offset) / Math.max(g.objectSize, 1)));
      ctx.fillStyle = '#222';
      ctx.fillRect(fx, oy + objH - 4, 3, 3);
    }
    if (l.cell >= 24 && objH >= 10) {
      ctx.fillStyle = st === O_ALLOC || st === O_QUARANTINE ? 'rgba(255,255,255,0.9)' : '#333';
      ctx.font = `${l.cell >= 40 ? 11 : 9}px system-ui, sans-serif`;
      ctx.textBaseline = 'top';
      ctx.fillText(String(i), x + 3, oy + 2);
    }
    if (i === highlight) {
      ctx.strokeStyle = '#ff2d55';
      ctx.lineWidth = 3;
      ctx.strokeRect(x - 1, y - 1, inner + 2, inner + 2);
    }
  }
  if (s.objects <= 128) {
    const arrows = freelistArrows(s);
    for (const a of arrows) drawArrow(ctx, l, a.from, a.to, a.list === 'cpu' ? CPU_COLOR : SLAB_COLOR);
    // Mark each list's head with a small flag.
    for (const [list, c] of [
      [s.cpuFreelist, CPU_COLOR],
      [s.slabFreelist, SLAB_COLOR],
    ] as const) {
      if (list.length === 0) continue;
      const [cx, cy] = center(l, list[0]!);
      ctx.fillStyle = c;
      ctx.beginPath();
      ctx.moveTo(cx - l.cell / 2 - 2, cy - l.cell / 2 - 2);
      ctx.lineTo(cx - l.cell / 2 + 8, cy - l.cell / 2 - 2);
      ctx.lineTo(cx - l.cell / 2 - 2, cy - l.cell / 2 + 8);
      ctx.fill();
    }
  }
  return l;
}

function drawArrow(ctx: CanvasRenderingContext2D, l: SlabLayout, from: number, to: number, color: string): void {
  const [x1, y1] = center(l, from);
  const [x2, y2] = center(l, to);
  const dx = x2 - x1;
  const dy = y2 - y1;
  const len = Math.hypot(dx, dy) || 1;
  // Bend the link sideways so that links between neighbours and long ones stay apart.
  const bend = Math.min(l.cell * 0.6, len * 0.25);
  const mx = (x1 + x2) / 2 - (dy / len) * bend;
  const my = (y1 + y2) / 2 + (dx / len) * bend;
  const shrink = l.cell * 0.3;
  // Start and end a little inside the cells.
  const sx = x1 + ((mx - x1) / Math.hypot(mx - x1, my - y1 || 1)) * shrink;
  const sy = y1 + ((my - y1) / Math.hypot(mx - x1 || 1, my - y1)) * shrink;
  const ex = x2 + ((mx - x2) / Math.hypot(mx - x2, my - y2 || 1)) * shrink;
  const ey = y2 + ((my - y2) / Math.hypot(mx - x2 || 1, my - y2)) * shrink;
  ctx.strokeStyle = color;
  ctx.lineWidth = l.cell >= 20 ? 2 : 1.2;
  ctx.beginPath();
  ctx.moveTo(sx, sy);
  ctx.quadraticCurveTo(mx, my, ex, ey);
  ctx.stroke();
  const ang = Math.atan2(ey - my, ex - mx);
  const hl = l.cell >= 20 ? 7 : 4;
  ctx.fillStyle = color;
  ctx.beginPath();
  ctx.moveTo(ex, ey);
  ctx.lineTo(ex - hl * Math.cos(ang - 0.45), ey - hl * Math.sin(ang - 0.45));
  ctx.lineTo(ex - hl * Math.cos(ang + 0.45), ey - hl * Math.sin(ang + 0.45));
  ctx.closePath();
  ctx.fill();
}

export const objectStateColors: [number, string, string][] = [
  [O_ALLOC, 'allocated (cache colour; red tail: KASAN redzone)', '#4dabf7'],
  [O_FREE_CPU, 'free on the CPU’s lockless freelist (c->freelist)', CPU_COLOR],
  [O_FREE_SLAB, 'free on the slab’s own freelist (slab->freelist)', SLAB_COLOR],
  [O_QUARANTINE, 'freed, held in KASAN’s quarantine', QUAR_COLOR],
];
