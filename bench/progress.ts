/** Progress lines on stderr while the bench runs (the results table goes to stdout). */
import { nowMs } from "./timing.js";

export class Progress {
  readonly #startMs = nowMs();

  elapsedMs(): number {
    return nowMs() - this.#startMs;
  }

  section(title: string): void {
    this.#write(`== ${title}`);
  }

  step(message: string): void {
    this.#write(`   ${message}`);
  }

  #write(line: string): void {
    const seconds = (this.elapsedMs() / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[${seconds}s] ${line}\n`);
  }
}
