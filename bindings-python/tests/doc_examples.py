"""Extract the Python examples of README.md and docs/python.md.

    python doc_examples.py --write DIR    # writes DIR/readme_example.py, DIR/python_md_examples.py (for mypy)

The README contributes its first ```python block; docs/python.md every block,
concatenated in order (later examples reuse earlier names). Examples run from
the repository root.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks(path: Path) -> list[str]:
    return _BLOCK.findall(path.read_text(encoding="utf-8"))


def readme_example() -> str:
    return blocks(REPO / "README.md")[0]


def python_md_examples() -> str:
    return "\n".join(blocks(REPO / "docs" / "python.md"))


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name, code in (("readme_example.py", readme_example()), ("python_md_examples.py", python_md_examples())):
        p = directory / name
        p.write_text(code, encoding="utf-8")
        out.append(p)
    return out


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--write":
        sys.exit("usage: doc_examples.py --write DIR")
    for p in write(Path(sys.argv[2])):
        print(p)
