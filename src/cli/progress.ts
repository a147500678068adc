/**
 * A one-line progress bar on stderr with rate and ETA, redrawn at most 10 times a second. Silent
 * when stderr is not a terminal (CI logs, --json), except for a final summary line.
 */
export class Progress {
  private readonly t0 = performance.now();
  private last = 0;
  private readonly tty = process.stderr.isTTY === true;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit = "items",
    private readonly quiet = false,
  ) {}

  update(done: number, note = ""): void {
    if (this.quiet || !this.tty) return;
    const now = performance.now();
    if (now - this.last < 100 && done < this.total) return;
    this.last = now;
    const sec = (now - this.t0) / 1000;
    const rate = done / Math.max(sec, 1e-9);
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const width = 24;
    const bar = "█".repeat(Math.round(frac * width)).padEnd(width, "░");
    const eta = rate > 0 && this.total > done ? `ETA ${fmtSec((this.total - done) / rate)}` : "";
    process.stderr.write(
      `\r${this.label} ${bar} ${(frac * 100).toFixed(0).padStart(3)}% ${fmtRate(rate)} ${this.unit}/s ${eta} ${note}\x1b[K`,
    );
  }

  done(note = ""): void {
    if (this.quiet) return;
    const sec = (performance.now() - this.t0) / 1000;
    if (this.tty) process.stderr.write("\r\x1b[K");
    process.stderr.write(`${this.label}: done in ${fmtSec(sec)}${note ? ` (${note})` : ""}\n`);
  }
}

function fmtSec(s: number): string {
  return s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
}

function fmtRate(r: number): string {
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : r >= 1e3 ? `${(r / 1e3).toFixed(1)}k` : r.toFixed(0);
}
