"""Writing text with a language model: one token at a time, each sampled from its prediction.

The model sees the last `context` tokens (its Input's length); a prompt
shorter than that is fed as it is when the network takes shorter sequences
(Transformers do), else padded on the right, where a causal model cannot see
the padding. Temperature 0 is greedy (always the likeliest token); otherwise
the scores are divided by the temperature and only the `top_k` likeliest
tokens may be drawn (0: any). The same seed writes the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from engine.text.tokenizers import PAD, Tokenizer
from engine.weights import WeightsError

if TYPE_CHECKING:
    from engine.project import Project


@dataclass(frozen=True)
class Sampling:
    """How the next token is chosen."""

    temperature: float = 0.8
    top_k: int = 40
    seed: int = 0


class Writer:
    """A language model and its tokenizer, ready to continue prompts."""

    def __init__(self, model: nn.Module, tokenizer: Tokenizer, context: int) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.context = context
        self._shorter: bool | None = None  # whether the network takes windows shorter than context

    @property
    def device(self) -> torch.device:
        return next((p.device for p in self.model.parameters()), torch.device("cpu"))

    def continuation(self, prompt: str, tokens: int, sampling: Sampling = Sampling()) -> str:
        """The text the model writes after `prompt` (the prompt itself not included)."""
        ids = self.tokenizer.encode(prompt) or self.tokenizer.encode("\n")
        new = self.token_ids(ids, tokens, sampling)
        whole = self.tokenizer.decode(ids + new)
        start = self.tokenizer.decode(ids)
        return whole[len(start) :] if whole.startswith(start) else self.tokenizer.decode(new)

    def token_ids(self, ids: list[int], tokens: int, sampling: Sampling) -> list[int]:
        """`tokens` new ids after `ids`, in eval mode without gradients (the training mode is
        put back after, so live samples can be written mid-run)."""
        generator = torch.Generator().manual_seed(sampling.seed)
        was_training = self.model.training
        self.model.eval()
        new: list[int] = []
        try:
            with torch.no_grad():
                for _ in range(tokens):
                    scores = self.next_scores((ids + new)[-self.context :])
                    new.append(pick(scores, sampling, generator))
        finally:
            self.model.train(was_training)
        return new

    def next_scores(self, window: list[int]) -> torch.Tensor:
        """The model's scores for the token after `window` (at most `context` ids), on the CPU."""
        length = len(window)
        if length < self.context and self._shorter is not False:
            try:
                out = self.model(torch.tensor([window], device=self.device))
                self._shorter = True
                return out[0, -1].float().cpu()
            except (RuntimeError, ValueError, IndexError):
                self._shorter = False  # fixed-length layers (Flatten, Reshape): pad instead
        padded = window + [PAD] * (self.context - length)
        out = self.model(torch.tensor([padded], device=self.device))
        return out[0, length - 1].float().cpu()


def pick(scores: torch.Tensor, sampling: Sampling, generator: torch.Generator) -> int:
    """One token id from the scores (padding is never chosen)."""
    scores = scores.clone()
    scores[PAD] = -torch.inf
    if sampling.temperature <= 0:
        return int(scores.argmax())
    scores = scores / sampling.temperature
    if 0 < sampling.top_k < len(scores):
        kept = torch.topk(scores, sampling.top_k).values[-1]
        scores[scores < kept] = -torch.inf
    probabilities = torch.softmax(scores, dim=-1)
    return int(torch.multinomial(probabilities, 1, generator=generator))


class GenerationError(ValueError):
    """A project or weights that cannot write text; `code` is the CLI exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def project_writer(project: Project, weights: str | Path | None = None) -> Writer:
    """The project's language model with its trained weights and their tokenizer.

    Refuses (GenerationError) a project that is not a language model, one never trained,
    and weights saved without a tokenizer."""
    from engine.export.model import ExportError, ready_model
    from engine.training.checkpoints import checkpoint_tokenizer

    if project.is_multi_network or project.training.get("loss") != "next_token":
        raise GenerationError(
            "this project is not a language model: only a network trained with the next_token "
            "loss on text writes (see the tiny-gpt example)"
        )
    path = Path(weights) if weights is not None else project.weights_path()
    if path is None or not path.is_file():
        where = path or "NAME.safetensors beside the project"
        raise GenerationError(
            f"no trained weights at {where}: train the project first (netwright train), or "
            "name the weights with --weights",
            code=2 if weights is not None else 1,
        )
    try:
        ready = ready_model(project, path)
        tokenizer = checkpoint_tokenizer(path)
    except (ExportError, WeightsError) as error:
        raise GenerationError(str(error), getattr(error, "code", 2)) from None
    if tokenizer is None:
        raise GenerationError(
            f"{path}: these weights hold no tokenizer, so their token ids cannot be read as "
            "text; train the project again with this version"
        )
    context = int((ready.analysis.input_shape or (1,))[0])
    return Writer(ready.module, tokenizer, context)
