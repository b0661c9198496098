"""Data set specs (`builtin:digits`, `csv:PATH`, ...) from the project or `--dataset`.

Relative paths are read relative to the project file's folder, so a project
and its data can move together. `dataset_problems` reports a spec's mistakes
as Diagnostics for `netwright check` without loading any data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.analysis import Diagnostic
from engine.data.builtin import BUILTINS, load_builtin
from engine.data.dataset import DataError, DataSet

if TYPE_CHECKING:
    from engine.project import Project
    from engine.text.corpus import TextCorpus

KINDS = ("builtin", "csv", "npz", "images", "idx", "text", "textcsv")
SPEC_HELP = (
    "use builtin:NAME, csv:PATH, npz:PATH, images:DIR, idx:IMAGES,LABELS, text:PATH or textcsv:PATH"
)


@dataclass(frozen=True)
class DataSpec:
    kind: str
    name: str = ""  # builtin name
    paths: tuple[Path, ...] = ()

    def __str__(self) -> str:
        if self.kind == "builtin":
            return f"builtin:{self.name}"
        return f"{self.kind}:" + ",".join(str(p) for p in self.paths)


def parse_spec(text: Any, base: Path | None = None) -> DataSpec:
    """Read a spec; raises DataError (code 2) naming what is wrong. Checks no file."""
    if not isinstance(text, str) or ":" not in text:
        raise DataError(f"{text!r} is not a data set spec; {SPEC_HELP}")
    kind, _, rest = text.partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise DataError(f"unknown kind of data {kind!r} in {text!r}; {SPEC_HELP}")
    if not rest.strip():
        raise DataError(f"{text!r} names no data set or file; {SPEC_HELP}")
    if kind == "builtin":
        name = rest.strip()
        if name not in BUILTINS:
            raise DataError(
                f"no bundled data set named {name!r}; choose one of " + ", ".join(BUILTINS)
            )
        return DataSpec(kind, name=name)
    parts = [p.strip() for p in rest.split(",")] if kind == "idx" else [rest.strip()]
    if kind == "idx" and len(parts) != 2:
        raise DataError(f"{text!r}: idx needs two files, idx:IMAGES,LABELS")
    paths = tuple(_resolve(Path(p).expanduser(), base) for p in parts)
    return DataSpec(kind, paths=paths)


def _resolve(path: Path, base: Path | None) -> Path:
    return path if path.is_absolute() or base is None else base / path


def project_spec(project: Project, override: str | None = None) -> DataSpec:
    """The spec a run uses: `override` (the --dataset option) or the project's dataset.source."""
    if override is not None:  # typed on the command line: relative to the current folder
        return parse_spec(override, None)
    base = project.path.parent if project.path is not None else None
    source = project.dataset.get("source")
    if source is None:
        raise DataError(
            "the project names no data set; set dataset.source (for example builtin:digits) "
            "or pass --dataset",
            code=1,
        )
    return parse_spec(source, base)


def load_spec(
    spec: DataSpec,
    *,
    input_shape: tuple[int, ...] = (),
    target_column: str | int | None = None,
    classification: bool = True,
    need_targets: bool = True,
    text_column: str | None = None,
) -> DataSet | TextCorpus:
    """Load the data a spec names. Image folders are resized to `input_shape` as they load;
    text comes back as a TextCorpus, to be tokenized for the network (engine.text)."""
    from engine.data import files, images

    if spec.kind == "builtin":
        return load_builtin(spec.name)
    if spec.kind in ("text", "textcsv"):
        from engine.text.corpus import read_text_csv, read_text_path

        if spec.kind == "text":
            return read_text_path(spec.paths[0])
        return read_text_csv(spec.paths[0], text_column, target_column)
    if spec.kind == "csv":
        return files.load_csv(spec.paths[0], target_column, classification)
    if spec.kind == "npz":
        return files.load_npz(spec.paths[0], need_targets)
    if spec.kind == "images":
        return images.load_image_folder(spec.paths[0], input_shape)
    return images.load_idx(spec.paths[0], spec.paths[1])


def dataset_problems(project: Project) -> list[Diagnostic]:
    """The dataset section's mistakes (unknown kind or name, missing file) as Diagnostics."""
    section = project.dataset
    problems: list[Diagnostic] = []
    if "source" not in section:
        return problems
    try:
        spec = project_spec(project)
    except DataError as error:
        return [Diagnostic("error", str(error), None, "dataset.source", SPEC_HELP)]
    for path in spec.paths:
        if spec.kind == "text":
            exists, what = path.exists(), "file or folder"
        else:
            exists = path.is_dir() if spec.kind == "images" else path.is_file()
            what = "folder" if spec.kind == "images" else "file"
        if not exists:
            problems.append(
                Diagnostic(
                    "error",
                    f"no such {what}: {path}",
                    None,
                    "dataset.source",
                    "paths are relative to the project file's folder",
                )
            )
    scaling = section.get("scaling", "standard")
    if scaling not in ("standard", "minmax", "symmetric", "none"):
        problems.append(
            Diagnostic(
                "error",
                f"unknown scaling {scaling!r}",
                None,
                "dataset.scaling",
                "use standard, minmax, symmetric (-1..1) or none",
            )
        )
    tokenizer = section.get("tokenizer")
    if tokenizer is not None:
        from engine.text.tokenizers import KINDS as TOKENIZERS

        if tokenizer not in TOKENIZERS:
            problems.append(
                Diagnostic(
                    "error",
                    f"unknown tokenizer {tokenizer!r}",
                    None,
                    "dataset.tokenizer",
                    "use " + ", ".join(TOKENIZERS),
                )
            )
    target = section.get("target")
    if target not in (None, "input"):
        problems.append(
            Diagnostic(
                "error",
                f"unknown target {target!r}",
                None,
                "dataset.target",
                'leave it out, or use "input" for an autoencoder',
            )
        )
    return problems
