"""The picture `netwright explain --out FILE.png` writes: the explanation as a person reads it.

An image sample is shown beside the attributions laid over it; a tabular one
as one bar per feature (the features that counted most first); a token
sequence as its tokens tinted by their share; attention as one heatmap per
head. The network's scores for each class come last. Drawn with matplotlib's
Agg canvas directly (never pyplot, which could pick a GUI backend).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.atomic import atomic_write_with
from engine.explain.methods import Explanation, picture_of
from engine.explain.subject import Subject

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

TITLES = {
    "saliency": "Saliency (gradient size)",
    "integrated_gradients": "Integrated gradients",
    "occlusion": "Occlusion (output drop when hidden)",
    "gradcam": "Grad-CAM",
    "attention": "Attention",
}
BACKGROUND = "#1e2127"
TEXT = "#d7dae0"
DIM = "#8a909c"
FOR, AGAINST = "#e0894a", "#4f9dff"
MOST_FEATURES = 20


def title(found: Explanation, subject: Subject) -> str:
    sample = "a sample" if found.sample is None else f"validation sample {found.sample}"
    truth = "" if found.truth is None else f" (true: {subject.class_name(found.truth)})"
    answer = found.prediction_name or f"{float(found.scores[found.prediction]):.3g}"
    line = f"{subject.project.name} · {sample}{truth} · predicted {answer}"
    what = TITLES[found.method] + (f" on {found.layer}" if found.layer else "")
    return f"{line}\n{what} for {found.target_name}"


def save_picture(found: Explanation, subject: Subject, path: str | Path) -> Path:
    """Draw `found` for `subject`'s sample and write it to `path` as a PNG, atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4.6), dpi=110, facecolor=BACKGROUND)
    FigureCanvasAgg(figure)
    sample = _sample_values(found, subject)
    shape = subject.input_shape
    scores = figure.add_axes((0.79, 0.12, 0.19, 0.7))
    if found.method == "attention" and found.attention is not None:
        _attention(figure, found, sample)
    elif picture_of(found, shape) is not None:
        _image(figure, found, sample, shape)
    elif subject.tokens:
        _tokens(figure.add_axes((0.05, 0.3, 0.68, 0.4)), found, sample)
    else:
        _bars(figure.add_axes((0.28, 0.1, 0.45, 0.72)), found, subject)
    _scores(scores, found, subject)
    figure.suptitle(title(found, subject), color=TEXT, fontsize=11, x=0.02, ha="left", y=0.98)
    path = Path(path)
    atomic_write_with(path, lambda temp: figure.savefig(temp, format="png", facecolor=BACKGROUND))
    return path


def _sample_values(found: Explanation, subject: Subject) -> np.ndarray:
    if found.sample is None:
        return np.zeros(subject.input_shape, np.float32)
    return subject.sample(found.sample)[0].numpy()


def _plain(axes: Axes) -> None:
    axes.set_facecolor(BACKGROUND)
    for side in axes.spines.values():
        side.set_color(DIM)
    axes.tick_params(colors=DIM, labelsize=8)


def _grey(sample: np.ndarray) -> np.ndarray:
    picture = sample.mean(axis=0) if sample.shape[0] != 3 else np.moveaxis(sample, 0, -1)
    low, high = float(picture.min()), float(picture.max())
    return (picture - low) / (high - low if high > low else 1.0)


def _image(figure: Figure, found: Explanation, sample: np.ndarray, shape: tuple[int, ...]) -> None:
    heat = picture_of(found, shape)
    assert heat is not None
    left = figure.add_axes((0.03, 0.08, 0.33, 0.74))
    right = figure.add_axes((0.40, 0.08, 0.33, 0.74))
    grey = _grey(sample)
    for axes, name in ((left, "the sample"), (right, "what counted")):
        axes.imshow(grey, cmap="gray", interpolation="nearest")
        axes.set_xticks([])
        axes.set_yticks([])
        axes.set_title(name, color=DIM, fontsize=9)
        _plain(axes)
    signed = found.method in ("integrated_gradients", "occlusion")
    if signed:
        limit = float(np.abs(heat).max()) or 1.0
        right.imshow(
            heat, cmap="RdBu_r", vmin=-limit, vmax=limit, alpha=0.75, interpolation="nearest"
        )
    else:
        right.imshow(heat, cmap="inferno", alpha=0.7, interpolation="bilinear")


def _bars(axes: Axes, found: Explanation, subject: Subject) -> None:
    names = subject.feature_names()
    values = np.asarray(found.attributions, np.float64).ravel()
    order = np.argsort(-np.abs(values))[:MOST_FEATURES][::-1]
    colours = [FOR if values[i] >= 0 else AGAINST for i in order]
    axes.barh(range(len(order)), values[order], color=colours)
    axes.set_yticks(range(len(order)))
    axes.set_yticklabels([names[i] for i in order], color=TEXT, fontsize=8)
    axes.axvline(0, color=DIM, linewidth=0.8)
    axes.set_title("share of each feature", color=DIM, fontsize=9)
    _plain(axes)


def _tokens(axes: Axes, found: Explanation, sample: np.ndarray) -> None:
    values = np.asarray(found.attributions, np.float64).ravel()
    limit = float(np.abs(values).max()) or 1.0
    axes.imshow(values[None, :], cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    for i, token in enumerate(np.ravel(sample)):
        axes.text(i, 0, str(int(token)), ha="center", va="center", color="#111111", fontsize=10)
    axes.set_yticks([])
    axes.set_xticks(range(len(values)))
    axes.set_xlabel("position (the number in each cell is the token)", color=DIM, fontsize=8)
    axes.set_title("share of each token", color=DIM, fontsize=9)
    _plain(axes)


def _attention(figure: Figure, found: Explanation, sample: np.ndarray) -> None:
    assert found.attention is not None
    heads = len(found.attention)
    columns = min(heads, 4)
    rows = int(np.ceil(heads / columns))
    width, height = 0.72 / columns, 0.78 / rows
    tokens = [str(int(t)) for t in np.ravel(sample)] if sample.dtype.kind in "iu" else None
    for h in range(heads):
        r, c = divmod(h, columns)
        axes = figure.add_axes(
            (0.03 + c * width, 0.06 + (rows - 1 - r) * height, width * 0.86, height * 0.82)
        )
        axes.imshow(found.attention[h], cmap="viridis", vmin=0.0, interpolation="nearest")
        axes.set_title(f"head {h + 1}", color=DIM, fontsize=9)
        if tokens is not None and len(tokens) <= 32:
            axes.set_xticks(range(len(tokens)))
            axes.set_xticklabels(tokens, fontsize=6)
            axes.set_yticks(range(len(tokens)))
            axes.set_yticklabels(tokens, fontsize=6)
        _plain(axes)


def _scores(axes: Axes, found: Explanation, subject: Subject) -> None:
    values = found.probabilities if found.probabilities is not None else found.scores
    count = min(len(values), 12)
    labels = [subject.class_name(i) if subject.classification else str(i) for i in range(count)]
    colours = [FOR if i == found.target else DIM for i in range(count)]
    axes.barh(range(count)[::-1], values[:count], color=colours)
    axes.set_yticks(range(count)[::-1])
    axes.set_yticklabels(labels, color=TEXT, fontsize=8)
    what = "probability" if found.probabilities is not None else "output"
    axes.set_title(what, color=DIM, fontsize=9)
    _plain(axes)
