"""A language model's training step: the supervised step with a target at every position.

Everything a classifier's run has (optimizer, schedule, mixed precision,
compilation, data-parallel, divergence, early stopping) is `SupervisedStep`'s;
this adds what text needs: tokens per second, perplexity, the reference a
unigram model sets, and a `Writer` for the samples shown while it learns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torch import nn

from engine.settings import TrainingSettings
from engine.text.generate import Writer
from engine.text.tokenizers import Tokenizer
from engine.training.distributed import Distributed
from engine.training.metrics import perplexity
from engine.training.supervised import SupervisedStep

if TYPE_CHECKING:
    from engine.training.trainer import FitResult


class LanguageModelStep(SupervisedStep):
    """Next-token training of `model` on windows of `context` tokens."""

    def __init__(
        self,
        model: nn.Module,
        settings: TrainingSettings,
        tokenizer: Tokenizer,
        context: int,
        *,
        unigram_loss: float | None = None,
        distributed: Distributed | None = None,
    ) -> None:
        super().__init__(model, settings, classification=False, distributed=distributed)
        self.tokenizer = tokenizer
        self.context = context
        self.unigram_loss = unigram_loss

    def writer(self) -> Writer:
        """The model as it is now, ready to write (call from the training thread mid-run)."""
        return Writer(self.model, self.tokenizer, self.context)

    def after_epoch(self, metrics: dict[str, Any]) -> None:
        super().after_epoch(metrics)
        if "samples_per_s" in metrics:
            metrics["tokens_per_s"] = metrics["samples_per_s"] * self.context

    def describe(self, name: str, where: str, info: dict[str, Any]) -> str:
        return (
            f"training the language model {name} on {where}: {info['train_samples']:,} training "
            f"and {info['val_samples']:,} validation windows of {self.context} tokens from "
            f"{info['dataset']} ({self.tokenizer.describe()}), {info['parameters']:,} parameters"
            + (
                f"; a unigram model's validation loss is {self.unigram_loss:.3f}"
                if self.unigram_loss is not None
                else ""
            )
        )

    def start_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "objective": "next_token",
            "context": self.context,
            "tokenizer": self.tokenizer.kind,
            "vocabulary": self.tokenizer.vocab_size,
        }
        if self.unigram_loss is not None:
            info["unigram_loss"] = self.unigram_loss
        return info

    def result_line(self, result: FitResult) -> str:
        line = f"{result.status}: {result.message}"
        if result.best_epoch is not None and result.best_value is not None:
            line += (
                f"; best {result.best_metric} {result.best_value:.4f} at epoch {result.best_epoch}"
            )
        final = result.final
        if "val_loss" in final:
            line += f"; validation perplexity {perplexity(final['val_loss']):.2f}"
            if self.unigram_loss is not None:
                line += f" (a unigram model: {perplexity(self.unigram_loss):.2f})"
        return line

    def end_figures(self, result: FitResult) -> dict[str, Any]:
        final = result.final
        figures: dict[str, Any] = {
            k: final[k] for k in ("val_accuracy", "val_perplexity") if k in final
        }
        if self.unigram_loss is not None:
            figures["unigram_loss"] = self.unigram_loss
        return figures
