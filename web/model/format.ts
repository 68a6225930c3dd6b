/** Small formatting helpers shared by the view-model and the page. */

/** A physical address as the kernel prints a direct-map pointer (%px): ffff888000000000 + phys. */
export function px(phys: number): string {
  // phys < 4 GiB, and the direct map base has a zero low word.
  return `ffff8880${(phys >>> 0).toString(16).padStart(8, '0')}`;
}

/** The physical address named by a %px direct-map pointer, or -1. */
export function fromPx(text: string): number {
  const m = /^(?:0x)?ffff8880([0-9a-f]{8})$/i.exec(text.trim());
  return m ? Number.parseInt(m[1]!, 16) : -1;
}

/** 0x-prefixed hex. */
export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** A page count as KiB/MiB/GiB text. */
export function pagesToSize(pages: number): string {
  const kb = pages * 4;
  if (kb < 1024) return `${kb} KiB`;
  if (kb < 1024 * 1024) return `${+(kb / 1024).toFixed(kb % 1024 === 0 ? 0 : 1)} MiB`;
  return `${+(kb / 1048576).toFixed(2)} GiB`;
}

/** A byte count as B/KiB/MiB text. */
export function bytesToSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1048576) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${+(bytes / 1048576).toFixed(1)} MiB`;
}
