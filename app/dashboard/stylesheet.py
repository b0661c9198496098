"""Style rules for the training UI, beside the application's theme style sheet.

The theme's `.qss` files style the editor; these rules style what training
adds (banner states, tabs, progress bar, segmented buttons) in the same
colours. They are set on the main window (and again after every theme switch).
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from designer import theme

MARKER = "/* netwright-training */"


def rules(t: theme.Theme) -> str:
    dark = t.name == "dark"
    panel = "#1b1d22" if dark else "#ffffff"
    tab = "#202227" if dark else "#eef0f3"
    border = t.node_border
    banners = {
        "idle": ("transparent", t.text_dim),
        "running": ("#1d3350" if dark else "#dbe9ff", "#cfe3ff" if dark else "#1d4f9e"),
        "paused": ("#4a3a14" if dark else "#fbefd0", "#ffd98a" if dark else "#7a5200"),
        "done": ("#183a29" if dark else "#d9f3e3", "#9ff0c0" if dark else "#1e6b3f"),
        "error": ("#4a1f22" if dark else "#f9dada", "#ffb0b0" if dark else "#9e1f1f"),
    }
    banner = "\n".join(
        f'QLabel#TrainingBanner[state="{state}"] {{ background: {bg}; color: {fg}; }}'
        for state, (bg, fg) in banners.items()
    )
    return f"""{MARKER}
QLabel#TrainingBanner {{ border-radius: 6px; padding: 4px 10px; font-weight: bold; }}
{banner}
QWidget#DashboardHeader {{ background: {panel}; border-bottom: 1px solid {border}; }}
QLabel#ChartTitle {{ color: {t.text}; font-weight: bold; padding: 2px 0; }}
QLabel#ChartNote {{ color: {t.text_dim}; }}
QLabel#ResultsSummary {{ color: {t.text}; padding: 4px 0 8px 0; }}
QPushButton#SegmentButton {{ padding: 3px 10px; border-radius: 4px; }}
QPushButton#SegmentButton:checked {{ background: {t.accent}; color: #ffffff; border: 1px solid {t.accent}; }}
QTabWidget::pane {{ border: none; }}
QTabBar::tab {{ background: {tab}; color: {t.text_dim}; padding: 5px 14px; border: none;
    border-bottom: 2px solid transparent; }}
QTabBar::tab:selected {{ color: {t.text}; border-bottom: 2px solid {t.accent}; }}
QTabBar::tab:hover {{ color: {t.text}; }}
QProgressBar#TrainingProgress {{ background: {panel}; border: 1px solid {border}; border-radius: 4px; }}
QProgressBar#TrainingProgress::chunk {{ background: {t.accent}; border-radius: 3px; }}
QLabel#TrainingStatus {{ color: {t.text}; }}
QLabel#ToolbarLabel {{ color: {t.text_dim}; padding: 0 4px 0 8px; }}
QComboBox#DeviceSelector {{ min-width: 150px; }}
QLabel#DataFit[state="ok"] {{ color: {t.ok}; }}
QLabel#DataFit[state="error"] {{ color: {t.error}; }}
QLabel#DataFit[state="warning"] {{ color: {t.warning}; }}
QPlainTextEdit#TrainingLog {{ background: {panel}; border: none; color: {t.text}; }}
QTableWidget {{ background: {panel}; gridline-color: {border}; border: none; }}
QSlider::groove:horizontal {{ height: 4px; background: {border}; border-radius: 2px; }}
QSlider::handle:horizontal {{ background: {t.accent}; width: 12px; margin: -5px 0; border-radius: 6px; }}
QToolBar#TrainingToolbar QToolButton {{ padding: 4px 8px; }}
"""


def apply(window: QWidget) -> None:
    """Give `window` the training rules for the current theme (a window-level sheet: cheaper
    than re-styling the whole application, and the theme's own sheet stays untouched)."""
    window.setStyleSheet(rules(theme.current()))
