/** What every part of the page's SVG shares: the label column, the lane height, escaping, colours per name. */
export const LABEL_W = 210;
export const LANE_H = 30;

export function esc(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * A stable colour per writer (node or agent) name. Names often differ in one character (payment-a, payment-b), so
 * the hash (FNV-1a) is spread around the colour wheel by the golden angle rather than used as a hue directly.
 */
export function colourOf(name: string): string {
  let hash = 0x811c9dc5;
  for (const ch of name) hash = Math.imul(hash ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return `hsl(${Math.round((hash * 137.508) % 360)} 65% 45%)`;
}
