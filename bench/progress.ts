// Progress while a part runs: one line every few seconds (rewritten in place on a terminal).
export function log(line: string): void {
  if (process.stdout.isTTY) process.stdout.write('\r\x1b[K');
  console.log(`[bench] ${line}`);
}

export function showProgress(label: string, describe: () => string, everyMs = 3000): () => void {
  const began = performance.now();
  const tty = process.stdout.isTTY;
  const print = () => {
    const line = `[bench] ${label} ${((performance.now() - began) / 1000).toFixed(0)}s: ${describe()}`;
    if (tty) process.stdout.write(`\r\x1b[K${line}`);
    else console.log(line);
  };
  const timer = setInterval(print, tty ? 500 : everyMs);
  return () => {
    clearInterval(timer);
    if (tty) process.stdout.write('\r\x1b[K');
  };
}
