"""A GAN run reported: progress lines for people, the JSONL metrics stream for programs.

The stream is CONTRACT.md's (start, one epoch event per epoch, end) with the
GAN's figures as extra keys: ``g_loss``, ``d_loss``, ``d_real``, ``d_fake``,
``spread`` (generated vs real variety), for the ring ``modes_covered``,
``modes`` and ``on_mode``, and ``warnings`` (a list of sentences, such as
mode collapse).
"""

from __future__ import annotations

from typing import Any

from engine.training.reporting import MetricsWriter, ProgressPrinter
from engine.training.trainer import FitResult

FINAL_KEYS = ("g_loss", "d_loss", "d_real", "d_fake", "spread", "modes_covered", "modes", "on_mode")


class GanMetricsWriter(MetricsWriter):
    """The metrics stream, with the final epoch's GAN figures in the end event."""

    def on_fit_start(self, trainer: Any) -> None:
        self.write(
            {"event": "start", "device": str(trainer.device), "world_size": 1, **self.start_info}
        )

    def on_fit_end(self, trainer: Any, result: FitResult) -> None:
        event: dict[str, Any] = {
            "event": "end",
            "status": result.status,
            "epochs": result.epochs,
            "best_val_loss": None,
            "seconds": round(result.seconds, 3),
            "message": result.message,
        }
        final = result.final
        event.update({key: final[key] for key in FINAL_KEYS if key in final})
        event["warnings"] = final.get("warnings", [])
        self.write(event)
        if self._own:
            self.stream.close()


class GanProgressPrinter(ProgressPrinter):
    """One line per epoch (losses, D(real), D(fake), modes), warnings beneath, a closing summary."""

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: dict[str, Any]) -> None:
        epochs = trainer.settings.epochs
        probability = trainer.recipe.loss == "non_saturating"
        line = gan_epoch_line({**metrics, "epoch": epoch}, epochs, probability, len(str(epochs)))
        self.say(f"{line}  {metrics['seconds']:.1f}s")
        for warning in metrics.get("warnings", []):
            self.say(f"warning: {warning}")

    def on_fit_end(self, trainer: Any, result: FitResult) -> None:
        line = f"{result.status}: {result.message}"
        final = result.final
        if "modes_covered" in final:
            line += f"; {final['modes_covered']} of {final['modes']} modes covered"
        self.say(line + f" ({result.seconds:.1f}s)")
        for note in result.notes:
            self.say(f"note: {note}")


def gan_epoch_line(
    metrics: dict[str, Any], epochs: int | None, probability: bool, width: int = 0
) -> str:
    """'epoch 3/300  d_loss 1.21  g_loss 0.93  D(real) 0.61  D(fake) 0.40  spread 0.95 …': the
    terminal's and the training log's line. D(x) is a probability under the non-saturating loss,
    an unbounded score under hinge and WGAN-GP (printed with its sign)."""
    parts = [f"epoch {metrics['epoch']:>{width}}" + (f"/{epochs}" if epochs else "")]
    for key in ("d_loss", "g_loss"):
        if metrics.get(key) is not None:
            parts.append(f"{key} {metrics[key]:.4f}")
    for key, label in (("d_real", "D(real)"), ("d_fake", "D(fake)")):
        if metrics.get(key) is not None:
            parts.append(
                f"{label} {metrics[key]:.3f}" if probability else f"{label} {metrics[key]:+.3f}"
            )
    if "modes_covered" in metrics:
        parts.append(f"modes {metrics['modes_covered']}/{metrics['modes']}")
    if "spread" in metrics:
        parts.append(f"spread {metrics['spread']:.2f}")
    if "samples_per_s" in metrics:
        parts.append(f"{metrics['samples_per_s']:,.0f} samples/s")
    return "  ".join(parts)
