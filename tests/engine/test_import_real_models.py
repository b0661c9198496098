"""Files no one here wrote: each is imported, checked, exported again, and the re-export
computes what the original does.

Four families (issue 14, item 5):

- onnx's own backend test models, shipped inside the onnx wheel: `light` (model-zoo
  networks whose weights the file fills with ConstantOfShape), `pytorch-converted` and
  `pytorch-operator` (opset 6, upgraded on import). Each folder holds the reference input
  and output; the re-export, run in onnxruntime, must give that output.
- torchvision's classifiers and Hugging Face BERT and GPT-2 with random weights, written by
  both of torch's exporters; the re-export must give what the torch model gives.

A case that does not import yet is listed in `known_gaps.py` with the operator or feature
it lacks. It is an expected failure that must fail in exactly that way: a file refused
for another reason fails the test, and so does one that imports (strict), so the list
stays the work list and a fix or a regression shows at once. Cases that take more than a
few seconds are marked `slow`: `make test` leaves them out, `make test-models` runs all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from known_gaps import KNOWN_GAPS, SLOW, Gap
from onnx import numpy_helper

from engine.analysis import analyse
from engine.export import export_onnx
from engine.onnx_import import import_onnx
from engine.project import load_project

TOLERANCE = 1e-4  # relative to the largest reference output (or 1, when they are small)
BACKEND = Path(onnx.__file__).parent / "backend" / "test" / "data"
BACKEND_FAMILIES = ("light", "pytorch-converted", "pytorch-operator")


class KnownGap(Exception):
    """The case failed exactly as its entry in known_gaps.py says."""


@dataclass(frozen=True)
class Reference:
    """A file and what it must compute: the input fed and the output expected."""

    model: Path
    inputs: list[np.ndarray]  # one per input of the file, in its order
    outputs: np.ndarray


# ------------------------------------------------------------------ the cases
def backend_names(family: str) -> list[str]:
    if family == "light":
        return sorted(p.stem.removeprefix("light_") for p in (BACKEND / family).glob("*.onnx"))
    return sorted(p.parent.name for p in (BACKEND / family).glob("*/model.onnx"))


def backend_reference(family: str, name: str) -> Reference:
    if family == "light":
        model = BACKEND / family / f"light_{name}.onnx"
        outputs = _tensor(model.with_name(f"light_{name}_output_0.pb"))
        return Reference(model, [_light_input(model)], outputs)
    folder = BACKEND / family / name
    data = folder / "test_data_set_0"
    inputs = [_tensor(path) for path in sorted(data.glob("input_*.pb"), key=_number)]
    return Reference(folder / "model.onnx", inputs, _tensor(data / "output_0.pb"))


def _number(path: Path) -> int:
    return int(path.stem.split("_")[-1])


def _tensor(path: Path) -> np.ndarray:
    proto = onnx.TensorProto()
    proto.ParseFromString(path.read_bytes())
    return numpy_helper.to_array(proto)


def _light_input(model_path: Path) -> np.ndarray:
    """The input onnx's backend runner feeds the light models (their output was made from
    it): 0, 1/n, 2/n, ... in the input's shape, batch 1."""
    model = onnx.load(str(model_path))
    weights = {t.name for t in model.graph.initializer}
    entry = next(i for i in model.graph.input if i.name not in weights)
    shape = tuple(d.dim_value or 1 for d in entry.type.tensor_type.shape.dim)
    count = int(np.prod(shape))
    return (np.arange(count).reshape(shape) / count).astype(np.float32)


def cases(family: str, names: list[str]) -> list[object]:
    """One pytest param per model, marked slow or as a known gap as listed."""
    params = []
    for name in names:
        case = f"{family}/{name}"
        marks: list[pytest.MarkDecorator] = []
        if case in SLOW:
            marks.append(pytest.mark.slow)
        gap = KNOWN_GAPS.get(case)
        if gap is not None:
            marks.append(pytest.mark.xfail(raises=KnownGap, strict=True, reason=gap.reason))
        params.append(pytest.param(case, id=case, marks=marks))
    return params


# ------------------------------------------------------------------ the proof
def round_trip(model_path: Path, folder: Path) -> Path:
    """Import, check and export again (verified); the re-exported file."""
    result = import_onnx(model_path, folder / "imported.netwright.json")
    project = load_project(result.project_path)
    analysis = analyse(project.graph)
    assert analysis.ok, [str(d) for d in analysis.errors]
    return export_onnx(project, folder / "again.onnx", verify=True).path


def run_onnx(path: Path, inputs: list[np.ndarray]) -> np.ndarray:
    """Run the file on `inputs`, given to its inputs in order."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {
        entry.name: x.astype(np.int64 if "int" in entry.type else np.float32)
        for entry, x in zip(session.get_inputs(), inputs)
    }
    return session.run(None, feed)[0]


def assert_close(got: np.ndarray, expected: np.ndarray) -> None:
    """Within TOLERANCE where the reference is a number; NaN and infinity in the same places."""
    assert got.shape == expected.shape, (got.shape, expected.shape)
    finite = np.isfinite(expected)
    assert np.array_equal(np.isfinite(got), finite), "NaN or infinity in other places"
    assert np.array_equal(got[~finite], expected[~finite], equal_nan=True), "other infinities"
    got, expected = got[finite], expected[finite]
    difference = float(np.abs(got.astype(np.float64) - expected).max()) if got.size else 0.0
    scale = max(1.0, float(np.abs(expected).max())) if expected.size else 1.0
    assert difference <= TOLERANCE * scale, f"largest difference {difference:.3g}"


def as_listed(case: str, attempt: Callable[[], None]) -> None:
    """Run `attempt`; a failure of a listed case must be the failure it is listed with."""
    gap = KNOWN_GAPS.get(case)
    if gap is None:
        attempt()
        return
    try:
        attempt()
    except Exception as error:  # any failure is compared with the listed one
        problem = unlisted(gap, str(error))
        if problem:
            raise AssertionError(f"{case} failed otherwise than listed: {problem}") from error
        raise KnownGap(str(error)) from error


def unlisted(gap: Gap, message: str) -> str | None:
    """What differs between the failure and the listed one, or None when they agree: every
    listed fragment is in the message, and every refused operator is among the fragments."""
    missing = [f for f in gap.fragments if f not in message]
    if missing:
        return f"{missing} not in: {message}"
    refusals = [line.strip() for line in message.splitlines()[1:] if line.startswith("  ")]
    surprises = [
        r for r in refusals if not r.startswith("...") and not any(f in r for f in gap.fragments)
    ]
    return f"also refused: {surprises}" if surprises else None


@pytest.mark.parametrize(
    "case",
    [c for family in BACKEND_FAMILIES for c in cases(family, backend_names(family))],
)
def test_onnx_backend_models_import_and_compute_their_reference_output(
    case: str, tmp_path: Path
) -> None:
    family, name = case.split("/")
    reference = backend_reference(family, name)

    def attempt() -> None:
        again = round_trip(reference.model, tmp_path)
        assert_close(run_onnx(again, reference.inputs), reference.outputs)

    as_listed(case, attempt)


# ------------------------------------------------------------------ torchvision and HF
def _real_cases() -> list[object]:
    from real_models import EXPORTERS, HUGGING_FACE, TORCHVISION

    params: list[object] = []
    for family, models in (("torchvision", TORCHVISION), ("transformers", HUGGING_FACE)):
        for exporter in EXPORTERS:
            params += cases(f"{family}-{exporter}", sorted(models))
    return params


@pytest.mark.parametrize("case", _real_cases())
def test_real_architectures_exported_by_torch_import_and_compute_the_same(
    case: str, tmp_path: Path
) -> None:
    from real_models import HUGGING_FACE, TORCHVISION, export

    family, name = case.split("/")
    exporter = family.split("-")[1]
    spec = (TORCHVISION if family.startswith("torchvision") else HUGGING_FACE)[name]
    torch.manual_seed(0)
    model = spec.build().eval()

    def attempt() -> None:
        original = export(model, spec.example(2), exporter, tmp_path / "original.onnx")
        again = round_trip(original, tmp_path)
        x = spec.example(3)  # another batch size than the file was written with
        with torch.no_grad():
            expected = model(x).numpy()
        assert_close(run_onnx(again, [x.numpy()]), expected)

    as_listed(case, attempt)


def test_every_backend_model_is_a_case_and_every_listed_case_exists() -> None:
    """A model added to the onnx wheel is seen here, not silently left out, and the work
    list names no case that is not run."""
    assert len(backend_names("light")) == 9
    assert len(backend_names("pytorch-converted")) == 82
    assert len(backend_names("pytorch-operator")) == 35
    known = {f"{f}/{n}" for f in BACKEND_FAMILIES for n in backend_names(f)}
    known |= {param.id for param in _real_cases()}  # type: ignore[attr-defined]
    listed = {*KNOWN_GAPS, *SLOW}
    assert listed <= known, listed - known


@pytest.mark.parametrize(
    "name", ["mobilenet_v2", "squeezenet1_1", pytest.param("resnet18", marks=pytest.mark.slow)]
)
def test_an_imported_vision_model_trains_from_its_weights(name: str, tmp_path: Path) -> None:
    """An import is for editing and training: torchvision's file, imported, trains an epoch
    on a small data set of the user's (an npz file), starting from the file's weights."""
    import json

    from real_models import TORCHVISION, export

    from engine.cli import run
    from engine.weights import read_weights

    spec = TORCHVISION[name]
    torch.manual_seed(0)
    original = export(spec.build().eval(), spec.example(2), "torchscript", tmp_path / "m.onnx")
    project_path = import_onnx(original, tmp_path / "m.netwright.json").project_path
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 3, 64, 64)).astype(np.float32)
    np.savez(tmp_path / "data.npz", x=x, y=rng.integers(0, 10, 24))
    data = json.loads(project_path.read_text())
    data["dataset"] = {"source": "npz:data.npz"}
    data["training"] |= {"loss": "cross_entropy", "epochs": 1, "batch_size": 8}
    project_path.write_text(json.dumps(data))
    weights = tmp_path / "m.safetensors"
    before = read_weights(weights)

    metrics = tmp_path / "metrics.jsonl"
    args = ["train", str(project_path), "--resume", "--metrics-out", str(metrics)]
    assert run([*args, "--no-record"]) == 0
    end = json.loads(metrics.read_text().splitlines()[-1])
    assert end["status"] == "completed" and np.isfinite(end["best_val_loss"])
    after = read_weights(weights)
    assert after.keys() == before.keys()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert len(changed) > len(before) // 2  # it learnt from the file's weights on
