"""A child process whose output goes to a log file, and, line by line, to the console if asked."""
from __future__ import annotations

import subprocess
import threading
from pathlib import Path
from typing import Callable, Sequence


def run_logged(argv: Sequence, log: str | Path, cwd: str | Path | None = None,
               echo: Callable[[str], None] | None = None, timeout_s: float | None = None) -> int:
    """Run `argv` with stdout+stderr into `log` (headed by the command); each line also to `echo`.

    Returns the exit code (negative: killed, e.g. when `timeout_s` passed). Children write progress as whole
    lines every half minute when not on a terminal (common.progress), so echoing them all stays readable.
    """
    log = Path(log)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as f:
        f.write("$ " + " ".join(map(str, argv)) + "\n")
        f.flush()
        proc = subprocess.Popen(list(map(str, argv)), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace", cwd=cwd, bufsize=1)
        timer = threading.Timer(timeout_s, proc.kill) if timeout_s else None
        if timer:
            timer.start()
        try:
            for line in proc.stdout:
                f.write(line)
                f.flush()
                if echo is not None and line.strip():
                    echo(line.rstrip())
            return proc.wait()
        finally:
            if timer:
                timer.cancel()


def log_tail(log: str | Path, lines: int = 3, chars: int = 400) -> str:
    """The last non-empty lines of a log as one line of text (for an error message or a table cell)."""
    text = Path(log).read_text(errors="replace").replace("\r", "\n") if Path(log).exists() else ""
    return " | ".join([ln.strip() for ln in text.splitlines() if ln.strip()][-lines:])[-chars:]
