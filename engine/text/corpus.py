"""Text as it is read, before tokens: files and folders, labelled CSV rows, bundled corpora.

`text:PATH` reads one text file or every text file in a folder (recursively;
files that are not UTF-8 text are skipped, and said so if nothing is left).
`textcsv:PATH` reads a CSV with a text column and a label column. The bundled
corpora point at text every machine with Python has: the standard library's
own source files, so the text examples train offline.
"""

from __future__ import annotations

import csv
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from engine.data.dataset import DataError

MAX_FILE_BYTES = 64 * 2**20  # one text file larger than this is refused: split it
FOLDER_FILES_LIMIT = 20_000


@dataclass(frozen=True)
class TextDocument:
    """One file (or row, or chunk) of text; `label` its class id when the corpus is labelled;
    `position` where in its file it starts (0 to 1), so validation can come from the ends."""

    name: str
    text: str
    label: int | None = None
    position: float | None = None


@dataclass(frozen=True)
class TextCorpus:
    """Documents to learn from: to continue (no class names) or to classify (class names)."""

    name: str
    documents: tuple[TextDocument, ...]
    class_names: tuple[str, ...] | None = None
    description: str = ""

    @property
    def labelled(self) -> bool:
        return self.class_names is not None

    @property
    def characters(self) -> int:
        return sum(len(d.text) for d in self.documents)

    def summary(self) -> str:
        what = "documents" if self.labelled else "files"
        text = f"{len(self.documents):,} {what}, {self.characters:,} characters"
        if self.class_names is not None:
            text += f", {len(self.class_names)} classes"
        return text


def read_text_path(path: Path) -> TextCorpus:
    """A text file, or every UTF-8 text file under a folder (sorted, so runs repeat)."""
    if path.is_file():
        return TextCorpus(str(path), (TextDocument(path.name, _read_text(path)),))
    if not path.is_dir():
        raise DataError(f"{path}: no such file or folder of text")
    files = sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path))
    if len(files) > FOLDER_FILES_LIMIT:
        raise DataError(
            f"{path}: holds {len(files):,} files; point at a folder of at most "
            f"{FOLDER_FILES_LIMIT:,} text files"
        )
    documents = []
    for file in files:
        try:
            documents.append(TextDocument(str(file.relative_to(path)), _read_text(file)))
        except DataError:
            continue  # a picture or a binary beside the text: not text, skipped
    documents = [d for d in documents if d.text.strip()]
    if not documents:
        raise DataError(f"{path}: holds no UTF-8 text files")
    return TextCorpus(str(path), tuple(documents))


def _hidden(file: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in file.relative_to(root).parts)


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DataError(
                f"{path}: {size / 2**20:.0f} MiB is more text than one file may hold here "
                f"({MAX_FILE_BYTES // 2**20} MiB); split it into several files in a folder"
            )
        raw = path.read_bytes()
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None
    if b"\0" in raw:
        raise DataError(f"{path}: not a text file")
    try:
        return raw.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text; save it as UTF-8") from None


def read_text_csv(
    path: Path, text_column: str | None = None, label_column: str | int | None = None
) -> TextCorpus:
    """A CSV with a header: one text to classify per row. The text column is `text_column`
    (else the one named "text", else the first); the label is `label_column` (else the last)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (UnicodeDecodeError, csv.Error, OSError) as error:
        raise DataError(f"{path}: cannot be read as UTF-8 CSV ({error})") from None
    if len(rows) < 2:
        raise DataError(f"{path}: needs a header line and at least one row of text and label")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    text_at = _column(path, header, text_column, header.index("text") if "text" in header else 0)
    label_at = _column(path, header, label_column, len(header) - 1)
    if text_at == label_at:
        raise DataError(
            f"{path}: the text and the label are both column '{header[text_at]}'; name them "
            "with dataset.text_column and dataset.target_column"
        )
    labels: list[str] = []
    texts: list[str] = []
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise DataError(
                f"{path}: line {number} has {len(row)} values but the header names "
                f"{len(header)} columns (quote texts that hold commas)"
            )
        if not row[label_at].strip():
            raise DataError(f"{path}: line {number} has no label in '{header[label_at]}'")
        texts.append(row[text_at])
        labels.append(row[label_at].strip())
    names = tuple(sorted(set(labels), key=_label_order))
    ids = {name: i for i, name in enumerate(names)}
    documents = tuple(
        TextDocument(f"line {i + 2}", text, ids[label])
        for i, (text, label) in enumerate(zip(texts, labels))
    )
    return TextCorpus(str(path), documents, names)


def _label_order(label: str) -> tuple[int, float, str]:
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)


def _column(path: Path, header: list[str], chosen: str | int | None, default: int) -> int:
    if chosen is None:
        return default
    if isinstance(chosen, int) and not isinstance(chosen, bool):
        if 0 <= chosen < len(header):
            return chosen
        raise DataError(f"{path}: there is no column {chosen}; it has {len(header)} columns")
    if chosen in header:
        return header.index(chosen)
    raise DataError(f"{path}: no column named '{chosen}'; the header names " + ", ".join(header))


# ---------------------------------------------------------------- bundled corpora
# Pure-Python modules every CPython 3.10+ ships, chosen for plain, well-written code.
PYTHON_SOURCE_FILES = (
    "abc.py", "bisect.py", "calendar.py", "colorsys.py", "contextlib.py", "copy.py",
    "csv.py", "dataclasses.py", "difflib.py", "enum.py", "fnmatch.py", "fractions.py",
    "functools.py", "glob.py", "heapq.py", "numbers.py", "operator.py", "pprint.py",
    "queue.py", "random.py", "reprlib.py", "shlex.py", "statistics.py", "string.py",
    "textwrap.py", "types.py", "weakref.py",
)  # fmt: skip
# Packages whose code reads differently enough to tell apart from a few lines.
PYTHON_MODULE_PACKAGES = ("asyncio", "email", "http", "unittest", "xml")
CHUNK_CHARACTERS = 200  # a python-modules sample: whole lines up to about this much text
CHUNKS_PER_PACKAGE = 1000  # evenly spread over each package's files, so classes balance


def standard_library() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def python_source() -> TextCorpus:
    """Some 600 KB of the standard library's Python source: a corpus on every machine."""
    root = standard_library()
    documents = tuple(
        TextDocument(name, _read_text(root / name))
        for name in PYTHON_SOURCE_FILES
        if (root / name).is_file()
    )
    if not documents:
        raise DataError(
            f"the bundled corpus python-source reads the standard library's source, but "
            f"{root} holds none of it (this Python ships compiled files only); use text:PATH"
        )
    return TextCorpus(
        "python-source", documents, None, "the Python standard library's own source files"
    )


def python_modules() -> TextCorpus:
    """Chunks of a few lines of the standard library's source, labelled by the package they
    come from (asyncio, email, http, unittest, xml): text classification on every machine."""
    root = standard_library()
    documents: list[TextDocument] = []
    found: list[str] = []
    for package in PYTHON_MODULE_PACKAGES:
        folder = root / package
        files = sorted(p for p in folder.rglob("*.py") if "test" not in p.relative_to(folder).parts)
        if not files:
            continue
        label = len(found)
        found.append(package)
        chunks = [
            chunk
            for file in files
            for chunk in _chunks(f"{package}/{file.relative_to(folder)}", _read_text(file), label)
        ]
        step = max(len(chunks) / CHUNKS_PER_PACKAGE, 1.0)
        documents.extend(chunks[int(i * step)] for i in range(min(len(chunks), CHUNKS_PER_PACKAGE)))
    if len(found) < 2:
        raise DataError(
            f"the bundled data set python-modules reads the standard library's source under "
            f"{root}, which this Python does not ship; use textcsv:PATH"
        )
    return TextCorpus(
        "python-modules",
        tuple(documents),
        tuple(found),
        "a few lines of the standard library's source: which package are they from?",
    )


def _chunks(name: str, text: str, label: int) -> list[TextDocument]:
    """Consecutive non-blank lines, up to CHUNK_CHARACTERS each, with where they start."""
    chunks: list[TextDocument] = []
    lines: list[str] = []
    start = size = 0
    offset = 0
    for line in text.splitlines(keepends=True):
        if not line.strip() or size + len(line) > CHUNK_CHARACTERS:
            if lines and size > CHUNK_CHARACTERS // 4:
                chunks.append(
                    TextDocument(f"{name}:{start}", "".join(lines), label, start / len(text))
                )
            lines, size = [], 0
        if line.strip():
            if not lines:
                start = offset
            lines.append(line)
            size += len(line)
        offset += len(line)
    if lines and size > CHUNK_CHARACTERS // 4:
        chunks.append(TextDocument(f"{name}:{start}", "".join(lines), label, start / len(text)))
    return chunks
