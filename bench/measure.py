"""What every benchmark section shares: median timings, the machine's description, and printing a
section (title, notes, rows of figures) as a table."""
import os
import platform
import statistics
import sys
import time
from pathlib import Path


def median_seconds(run_once, repeats, warmup=0, synchronize=None):
    """Median wall time of `repeats` calls of run_once() after `warmup` untimed calls.

    `synchronize` (for instance torch.cuda.synchronize) is called before each clock reading, so
    GPU work queued by a call is counted in that call.
    """
    for _ in range(warmup):
        run_once()
    times = []
    for _ in range(repeats):
        if synchronize:
            synchronize()
        started = time.perf_counter()
        run_once()
        if synchronize:
            synchronize()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cpu_name():
    """The processor's model name from /proc/cpuinfo (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_description(device):
    """One line: the CPU, its cores, torch's threads, and the GPU when the device is one."""
    import torch
    line = f"CPU {cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__} with {torch.get_num_threads()} threads"
    if device.type == "cuda":
        line += f"; GPU {torch.cuda.get_device_name(device)}"
    return line + f"; device {device}"


def section(title, columns, rows, notes=()):
    """A benchmark section: `columns` is a list of (key, header, format) where format is a format
    spec for numbers (e.g. '.1f'); rows are dicts of raw values (None prints as '-')."""
    return {"title": title, "columns": [list(column) for column in columns], "rows": rows, "notes": list(notes)}


def format_value(value, spec):
    if value is None:
        return "-"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, spec)
    return str(value)


def print_section(result):
    """The section as an aligned text table, its notes under it."""
    headers = [header for _, header, _ in result["columns"]]
    cells = [[format_value(row.get(key), spec) for key, _, spec in result["columns"]] for row in result["rows"]]
    widths = [max([len(header)] + [len(line[i]) for line in cells]) for i, header in enumerate(headers)]
    print(f"\n== {result['title']} ==")
    text_columns = [spec == "" for _, _, spec in result["columns"]]  # text left, numbers right

    def aligned(cells):
        return " | ".join(cell.ljust(width) if text else cell.rjust(width)
                          for cell, width, text in zip(cells, widths, text_columns))

    print(aligned(headers))
    print("-+-".join("-" * width for width in widths))
    for line in cells:
        print(aligned(line))
    for note in result["notes"]:
        print(f"  {note}")
    sys.stdout.flush()
