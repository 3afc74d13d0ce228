import { CorruptDataError } from "../../errors.js";

import type { LeaseHolder } from "../types.js";

export type { LeaseHolder } from "../types.js";

const HOLDER = /^(\d+):(lease|claim):(\d+):([\s\S]*)$/;

/** Parses a holders-hash value ("<token>:<kind>:<sinceMs>:<owner>"); throws CorruptDataError naming the key. */
export function parseHolder(text: string, key: string): LeaseHolder {
  const match = HOLDER.exec(text);
  if (!match)
    throw new CorruptDataError(key, "a lease holder entry does not have the <token>:<kind>:<since>:<owner> form");
  return {
    token: Number(match[1]),
    kind: match[2] as "lease" | "claim",
    sinceMs: Number(match[3]),
    owner: match[4] ?? "",
  };
}

/** Parses a holder that may be missing (""), as scripts return it. */
export function parseOptionalHolder(text: unknown, key: string): LeaseHolder | undefined {
  const value = typeof text === "string" ? text : Buffer.isBuffer(text) ? text.toString() : "";
  return value === "" ? undefined : parseHolder(value, key);
}
