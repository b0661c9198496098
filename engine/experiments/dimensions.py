"""A search's dimensions: which setting or layer parameter varies, and over what values.

Written the same way on the command line and in the Search panel:
``NAME=LOW..HIGH`` (a range), ``NAME=LOW..HIGH:log`` (a range searched on a log
scale), ``NAME=A,B,C`` (choices). NAME is a training setting, by its key
(``optimizer.lr``) or its last part when that is unambiguous (``lr``,
``batch_size``, ``weight_decay``; ``optimizer`` for ``optimizer.name``), or a
layer parameter as ``node.param`` (``conv1.out_channels``). What a value may be
comes from the declarations: the setting's kind, range and choices
(engine.settings.TRAINING) or the layer parameter's (engine.layers.base.Param),
so a search can never try a value the project file would refuse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from engine.layers import layer_type
from engine.layers.base import Param
from engine.project import Project
from engine.settings import TRAINING, Setting

DimensionKind = Literal["float", "int", "choice"]
SEARCHABLE_PARAM_KINDS = ("int", "float", "choice", "bool", "size")


class DimensionError(ValueError):
    """A dimension that cannot be searched; the message names it and says what to write."""


@dataclass(frozen=True)
class Dimension:
    """One thing a search varies. `name` is what Optuna and the trial table call it."""

    name: str  # "lr", "conv1.out_channels"
    setting: str | None  # its training key ("optimizer.lr"), or None for a layer parameter
    node: str | None  # the layer, for a layer parameter
    param: str | None
    kind: DimensionKind
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    @property
    def path(self) -> str:
        """Where its value goes: ``training.optimizer.lr`` or ``conv1.out_channels``."""
        return f"training.{self.setting}" if self.setting else f"{self.node}.{self.param}"

    def values_text(self) -> str:
        """The part after ``=`` in a SPEC."""
        if self.kind == "choice":
            return ",".join(_text(c) for c in self.choices)
        return f"{_text(self.low)}..{_text(self.high)}" + (":log" if self.log else "")

    def spec(self) -> str:
        return f"{self.name}={self.values_text()}"

    def distribution(self) -> Any:
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        if self.kind == "choice":
            return CategoricalDistribution(list(self.choices))
        assert self.low is not None and self.high is not None
        if self.kind == "int":
            return IntDistribution(int(self.low), int(self.high), log=self.log)
        return FloatDistribution(float(self.low), float(self.high), log=self.log)

    def holds(self, value: Any) -> bool:
        """Whether `value` is one this dimension can take (the project's own, for the baseline)."""
        if self.kind == "choice":
            return any(_same(value, c) for c in self.choices)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.kind == "int" and not float(value).is_integer():
            return False
        assert self.low is not None and self.high is not None
        return self.low <= value <= self.high

    def current(self, project: Project) -> Any:
        """The project's own value (None when it has none that fits)."""
        if self.setting is not None:
            import dataclasses

            from engine.experiments.compare import flatten
            from engine.settings import TrainingSettings

            flat = flatten(dataclasses.asdict(TrainingSettings.from_project(project)))
            value = flat.get(self.setting)
        else:
            node = project.graph.nodes.get(self.node or "")
            declared = layer_type(node.type) if node is not None else None
            value = (
                declared.resolved(node.params).get(self.param or "") if declared and node else None
            )
        return value if self.holds(value) else None

    def apply(self, project: Project, value: Any) -> None:
        """Put `value` into `project` (a trial's own copy)."""
        if self.setting is not None:
            project.set_value(self.path, value)
        else:
            assert self.node is not None and self.param is not None
            project.graph.set_param(self.node, self.param, value)


def setting_aliases() -> dict[str, Setting]:
    """Every name a training setting answers to: its key, its unambiguous last part, and for
    ``X.name`` the section ``X``."""
    names: dict[str, Setting] = {}
    lasts: dict[str, list[Setting]] = {}
    for setting in TRAINING:
        if setting.kind == "device":
            continue
        names[setting.key] = setting
        lasts.setdefault(setting.key.rsplit(".", 1)[-1], []).append(setting)
        if setting.key.endswith(".name"):
            names.setdefault(setting.key.rsplit(".", 1)[0], setting)
    for last, found in lasts.items():
        if len(found) == 1 and last != "name":
            names.setdefault(last, found[0])
    return names


def short_name(setting: Setting) -> str:
    """The shortest name that finds `setting` (``lr`` for ``optimizer.lr``)."""
    aliases = setting_aliases()
    return min((n for n, s in aliases.items() if s is setting), key=len, default=setting.key)


def parse_dimension(spec: str, project: Project) -> Dimension:
    """One ``NAME=VALUES`` as a Dimension of `project`; raises DimensionError."""
    name, equals, values = spec.partition("=")
    name, values = name.strip(), values.strip()
    if not equals or not name or not values:
        raise DimensionError(
            f"'{spec}': write NAME=LOW..HIGH, NAME=LOW..HIGH:log or NAME=A,B,C "
            "(such as lr=1e-4..1e-2:log or batch_size=32,64,128)"
        )
    setting = setting_aliases().get(name)
    if setting is not None:
        return _setting_dimension(short_name(setting), setting, values, spec)
    node_id, dot, param_name = name.partition(".")
    if dot and node_id in project.graph:
        node = project.graph.node(node_id)
        declared = layer_type(node.type)
        param = declared.param(param_name) if declared is not None else None
        if param is None:
            known = ", ".join(p.name for p in declared.params) if declared else ""
            raise DimensionError(
                f"'{spec}': layer '{node_id}' ({node.type}) has no parameter '{param_name}'"
                + (f"; it has {known}" if known else "")
            )
        return _param_dimension(name, node_id, param, values, spec)
    raise DimensionError(
        f"'{spec}': '{name}' is neither a training setting nor a layer parameter (node.param); "
        f"settings: {', '.join(sorted(n for n in setting_aliases() if '.' not in n))}; "
        f"layers: {', '.join(project.graph.nodes) or 'none'}"
    )


def _setting_dimension(name: str, setting: Setting, values: str, spec: str) -> Dimension:
    def check(value: Any) -> Any:
        problem = setting.problem(value)
        if problem is not None:
            message, hint = problem
            raise DimensionError(f"'{spec}': {message}" + (f" ({hint})" if hint else ""))
        return value

    if setting.kind in ("choice", "bool") or ".." not in values:
        parsed = [check(_word(w, setting.kind, spec)) for w in _words(values)]
        return Dimension(name, setting.key, None, None, "choice", choices=tuple(parsed))
    if setting.kind not in ("int", "float"):
        raise DimensionError(f"'{spec}': {setting.key} takes choices (A,B,C), not a range")
    low, high, log = _range(values, setting.kind, spec)
    check(low), check(high)
    return Dimension(name, setting.key, None, None, setting.kind, low, high, log)


def _param_dimension(name: str, node: str, param: Param, values: str, spec: str) -> Dimension:
    if param.kind not in SEARCHABLE_PARAM_KINDS:
        raise DimensionError(
            f"'{spec}': {name} is a list of numbers; a search varies single numbers and choices"
        )
    kind = "int" if param.kind == "size" else param.kind

    def check(value: Any) -> Any:
        problem = param.check(value)
        if problem is not None:
            raise DimensionError(f"'{spec}': {node}: {problem}")
        return value

    if kind in ("choice", "bool") or ".." not in values:
        word_kind = kind if kind != "choice" else _choice_kind(param)
        parsed = [check(_word(w, word_kind, spec)) for w in _words(values)]
        return Dimension(name, None, node, param.name, "choice", choices=tuple(parsed))
    if kind not in ("int", "float"):
        raise DimensionError(f"'{spec}': {name} takes choices (A,B,C), not a range")
    low, high, log = _range(values, kind, spec)
    check(low), check(high)
    return Dimension(name, None, node, param.name, kind, low, high, log)  # type: ignore[arg-type]


def candidates(project: Project) -> list[Dimension]:
    """Dimensions worth offering in the Search panel, each with a range around the project's
    own value: the Training panel's number and choice settings, and every layer's searchable
    parameters."""
    import dataclasses

    from engine.experiments.compare import flatten
    from engine.settings import TrainingSettings

    found: list[Dimension] = []
    flat = flatten(dataclasses.asdict(TrainingSettings.from_project(project)))
    for setting in TRAINING:
        if not setting.label or setting.kind not in ("int", "float", "choice"):
            continue
        if setting.key in ("seed", "early_stopping.metric", "loss"):
            continue
        text = _around(flat.get(setting.key), setting.kind, setting.minimum, setting.maximum)
        if setting.kind == "choice":
            text = ",".join(setting.choices)
        if text:
            found.append(parse_dimension(f"{short_name(setting)}={text}", project))
    for node in project.graph:
        declared = layer_type(node.type)
        if declared is None:
            continue
        values = declared.resolved(node.params)
        for param in declared.params:
            if param.kind not in SEARCHABLE_PARAM_KINDS or isinstance(values.get(param.name), list):
                continue
            kind = "int" if param.kind == "size" else param.kind
            if kind == "choice":
                text = ",".join(_text(c) for c in param.choices)
            elif kind == "bool":
                text = "true,false"
            else:
                text = _around(values.get(param.name), kind, param.minimum, param.maximum)
            if text:
                try:
                    found.append(parse_dimension(f"{node.id}.{param.name}={text}", project))
                except DimensionError:
                    continue
    return found


def _around(value: Any, kind: str, low: float | None, high: float | None) -> str:
    """A range around `value`: a tenth to ten times for a positive float (log scale), half
    to double for a whole number; clipped to the declared range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    if abs(value) > 1e15 or value != value:  # a hostile file's 1e308 or NaN: no range
        return ""
    lo_limit = -math.inf if low is None else low
    hi_limit = math.inf if high is None else high
    if kind == "float":
        if value <= 0:
            return f"0..{_text(min(hi_limit, 0.1))}" if lo_limit <= 0 < hi_limit else ""
        a, b = max(lo_limit, value / 10), min(hi_limit, value * 10)
        return f"{_text(a)}..{_text(b)}:log" if a < b else ""
    a, b = int(max(lo_limit, value // 2)), int(min(hi_limit, max(value * 2, value + 1)))
    return f"{a}..{b}" if a < b else ""


def _range(values: str, kind: str, spec: str) -> tuple[float, float, bool]:
    text, _colon, scale = values.partition(":")
    if scale not in ("", "log"):
        raise DimensionError(f"'{spec}': ':{scale}' is not a scale; only :log is")
    low_text, _dots, high_text = text.partition("..")
    low, high = _word(low_text, kind, spec), _word(high_text, kind, spec)
    if not low < high:
        raise DimensionError(f"'{spec}': the range must grow (LOW..HIGH with LOW below HIGH)")
    if scale == "log" and low <= 0:
        raise DimensionError(f"'{spec}': a log scale needs a range above 0")
    return low, high, scale == "log"


def _word(word: str, kind: str, spec: str) -> Any:
    word = word.strip()
    try:
        if kind == "int":
            number = float(word)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if kind == "float":
            value = float(word)
            if not math.isfinite(value):
                raise ValueError
            return value
    except ValueError:
        noun = "whole number" if kind == "int" else "number"
        raise DimensionError(f"'{spec}': '{word}' is not a {noun}") from None
    if kind == "bool":
        if word.lower() in ("true", "yes", "on", "1"):
            return True
        if word.lower() in ("false", "no", "off", "0"):
            return False
        raise DimensionError(f"'{spec}': '{word}' is not true or false")
    return word


def _words(values: str) -> list[str]:
    return [w for w in (part.strip() for part in values.split(",")) if w]


def _choice_kind(param: Param) -> str:
    """The kind a layer's choice words are read as (its choices may be numbers)."""
    first = param.choices[0] if param.choices else ""
    if isinstance(first, bool):
        return "bool"
    if isinstance(first, int):
        return "int"
    if isinstance(first, float):
        return "float"
    return "str"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
