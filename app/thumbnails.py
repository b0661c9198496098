"""Pictures of example graphs for the gallery, drawn by the real canvas and cached.

A thumbnail is the editor's own scene rendered off-screen, so what the gallery
shows is what opening the example shows. Rendering costs 50-100 ms per graph,
so finished pictures are kept as PNG files under the user's cache folder, named
by a hash of the project file, the theme and the size: editing an example (or
switching theme) draws a fresh one, never a stale one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, QStandardPaths, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from designer import theme
from designer.document import Document
from designer.scene import GraphScene
from engine.project import Project, ProjectError, load_project

THUMBNAIL_SIZE = QSize(240, 150)
MARGIN = 10.0
RENDER_VERSION = "2"  # bump when the drawing changes, so old cached pictures are not reused


def cache_folder() -> Path:
    """Where thumbnails are kept: the platform's cache location for this application."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
    return Path(base or Path.home() / ".cache" / "netwright") / "thumbnails"


def cache_key(path: Path, size: QSize, ratio: float) -> str:
    digest = hashlib.sha256(path.read_bytes())
    detail = f"|{theme.current().name}|{size.width()}x{size.height()}@{ratio:g}|{RENDER_VERSION}"
    digest.update(detail.encode())
    return digest.hexdigest()[:32]


def render_graph(project: Project, size: QSize = THUMBNAIL_SIZE, ratio: float = 2.0) -> QImage:
    """Draw the project's networks with the canvas's own items on the canvas colour;
    several networks (a GAN's generator and discriminator) one above the other."""
    image = QImage(
        round(size.width() * ratio), round(size.height() * ratio), QImage.Format.Format_ARGB32
    )
    image.setDevicePixelRatio(ratio)
    image.fill(QColor(theme.current().canvas))
    graphs = list(project.named_graphs().values())
    whole = QRectF(0, 0, size.width(), size.height()).adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
    band = whole.height() / len(graphs)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    for index, graph in enumerate(graphs):
        area = QRectF(whole.left(), whole.top() + index * band, whole.width(), band)
        _draw(painter, Project(name=project.name, graph=graph), area)
    painter.end()
    return image


def _draw(painter: QPainter, project: Project, area: QRectF) -> None:
    document = Document(project)
    scene = GraphScene(document)
    source = scene.itemsBoundingRect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
    if not source.isEmpty():
        scale = min(area.width() / source.width(), area.height() / source.height(), 1.0)
        target = QRectF(0, 0, source.width() * scale, source.height() * scale)
        target.moveCenter(area.center())
        scene.render(painter, target, source, Qt.AspectRatioMode.KeepAspectRatio)
    scene.clear()
    document.deleteLater()
    scene.deleteLater()


def thumbnail(
    path: Path, size: QSize = THUMBNAIL_SIZE, ratio: float = 2.0, folder: Path | None = None
) -> QImage | None:
    """The example's picture, from the cache when it is there; None if the file is unreadable."""
    folder = folder or cache_folder()
    try:
        cached = folder / f"{cache_key(path, size, ratio)}.png"
    except OSError:
        return None
    if cached.exists():
        image = QImage(str(cached))
        if not image.isNull():
            image.setDevicePixelRatio(ratio)
            return image
    try:
        image = render_graph(load_project(path), size, ratio)
    except ProjectError:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        image.save(str(cached))  # a cache: failing to write only costs a redraw next time
    except OSError:
        pass
    return image
