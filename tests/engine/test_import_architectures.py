"""Model-zoo architectures, built in plain torch (torchvision does not load here), import.

Each is exported with torch's own ONNX exporter, imported, checked, and
exported again: the re-export must compute what the original torch model
computes. The builders are also used by benchmarks/export_import.py.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from engine.analysis import analyse
from engine.export import export_onnx
from engine.grouping import layers_of
from engine.onnx_import import import_onnx
from engine.project import load_project


def conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(),
    )


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = conv_bn(cin, cout, 3, stride)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = (
            nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            if stride != 1 or cin != cout
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn2(self.conv2(self.conv1(x))) + self.down(x))


class ResNet18(nn.Module):
    """ResNet-18's layout: 7x7 stem, max pool, four stages of two basic blocks, global pool."""

    def __init__(self, width: int = 16, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, width, 7, 2), nn.MaxPool2d(3, 2, 1))
        blocks, cin = [], width
        for i, stride in enumerate((1, 2, 2, 2)):
            cout = width * 2**i
            blocks += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))


class DenseLayer(nn.Module):
    def __init__(self, cin: int, growth: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(cin),
            nn.ReLU(),
            nn.Conv2d(cin, 4 * growth, 1, bias=False),
            nn.BatchNorm2d(4 * growth),
            nn.ReLU(),
            nn.Conv2d(4 * growth, growth, 3, 1, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.body(x)], 1)


class DenseNet(nn.Module):
    """DenseNet's layout: dense blocks joined by concatenation, transitions with average pooling."""

    def __init__(
        self, blocks: tuple[int, ...] = (6, 12, 24, 16), growth: int = 4, classes: int = 10
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, 2 * growth, 3, 1, 1, bias=False)]
        channels = 2 * growth
        for i, count in enumerate(blocks):
            for _ in range(count):
                layers.append(DenseLayer(channels, growth))
                channels += growth
            if i < len(blocks) - 1:
                layers += [
                    nn.BatchNorm2d(channels),
                    nn.ReLU(),
                    nn.Conv2d(channels, channels // 2, 1, bias=False),
                    nn.AvgPool2d(2),
                ]
                channels //= 2
        layers += [
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(channels, classes),
        ]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def vgg(classes: int = 10) -> nn.Module:
    cfg = (8, "M", 16, "M", 32, 32, "M", 32, 32, "M")
    layers: list[nn.Module] = []
    cin = 3
    for item in cfg:
        if item == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(cin, int(item), 3, padding=1), nn.ReLU(inplace=True)]
            cin = int(item)
    return nn.Sequential(
        *layers,
        nn.Flatten(),
        nn.Linear(cin * 4, 64),
        nn.ReLU(),
        nn.Dropout(),
        nn.Linear(64, classes),
    )


class Inception(nn.Module):
    def __init__(self, cin: int, width: int) -> None:
        super().__init__()
        self.b1 = conv_bn(cin, width, 1)
        self.b2 = nn.Sequential(conv_bn(cin, width, 1), conv_bn(width, width, 3))
        self.b3 = nn.Sequential(conv_bn(cin, width, 1), conv_bn(width, width, 5))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), conv_bn(cin, width, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


def inception(classes: int = 10) -> nn.Module:
    return nn.Sequential(
        conv_bn(3, 16, 3, 2),
        Inception(16, 8),
        nn.MaxPool2d(3, 2, 1, ceil_mode=True),
        Inception(32, 8),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, classes),
    )


class Fire(nn.Module):
    def __init__(self, cin: int, squeeze: int, expand: int) -> None:
        super().__init__()
        self.squeeze = nn.Sequential(nn.Conv2d(cin, squeeze, 1), nn.ReLU())
        self.e1 = nn.Sequential(nn.Conv2d(squeeze, expand, 1), nn.ReLU())
        self.e3 = nn.Sequential(nn.Conv2d(squeeze, expand, 3, padding=1), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.squeeze(x)
        return torch.cat([self.e1(s), self.e3(s)], 1)


def squeezenet(classes: int = 10) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, 2),
        nn.ReLU(),
        nn.MaxPool2d(3, 2, ceil_mode=True),
        Fire(16, 4, 8),
        Fire(16, 4, 8),
        nn.MaxPool2d(3, 2, ceil_mode=True),
        Fire(16, 8, 16),
        nn.Dropout(0.5),
        nn.Conv2d(32, classes, 1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    )


class ShuffleUnit(nn.Module):
    """ShuffleNet (v1) unit: grouped 1x1, channel shuffle, depthwise 3x3, grouped 1x1, residual."""

    def __init__(self, channels: int, groups: int = 2) -> None:
        super().__init__()
        self.groups = groups
        self.reduce = conv_bn(channels, channels // 2, 1, groups=groups)
        self.depthwise = nn.Sequential(
            nn.Conv2d(channels // 2, channels // 2, 3, 1, 1, groups=channels // 2, bias=False),
            nn.BatchNorm2d(channels // 2),
        )
        self.expand = nn.Sequential(
            nn.Conv2d(channels // 2, channels, 1, groups=groups, bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.reduce(x)
        b, c, h, w = y.shape
        y = y.reshape(b, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(b, c, h, w)
        return torch.relu(x + self.expand(self.depthwise(y)))


def shufflenet(classes: int = 10) -> nn.Module:
    return nn.Sequential(
        conv_bn(3, 16, 3, 2),
        ShuffleUnit(16),
        ShuffleUnit(16),
        nn.AvgPool2d(2),
        ShuffleUnit(16),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, classes),
    )


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, ReLU6, depthwise 3x3, ReLU6, 1x1 project, residual."""

    def __init__(self, channels: int, expand: int = 4) -> None:
        super().__init__()
        wide = channels * expand
        self.body = nn.Sequential(
            nn.Conv2d(channels, wide, 1, bias=False),
            nn.BatchNorm2d(wide),
            nn.ReLU6(),
            nn.Conv2d(wide, wide, 3, 1, 1, groups=wide, bias=False),
            nn.BatchNorm2d(wide),
            nn.ReLU6(),
            nn.Conv2d(wide, channels, 1, bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def mobilenet(classes: int = 10) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, 2, 1, bias=False),
        nn.BatchNorm2d(16),
        nn.ReLU6(),
        InvertedResidual(16),
        InvertedResidual(16),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, classes),
    )


ARCHITECTURES = {
    "resnet18": lambda: ResNet18(),
    "densenet": lambda: DenseNet(),
    "vgg": vgg,
    "inception": inception,
    "squeezenet": squeezenet,
    "shufflenet": shufflenet,
    "mobilenet": mobilenet,
}


def onnx_bytes(
    model: nn.Module, shape: tuple[int, ...] = (3, 32, 32), training: bool = False
) -> bytes:
    """torch's own export (the way model-zoo files are made), batch axis dynamic."""
    model.eval()
    buffer = io.BytesIO()
    mode = torch.onnx.TrainingMode.PRESERVE if training else torch.onnx.TrainingMode.EVAL
    torch.onnx.export(
        model,
        (torch.randn(2, *shape),),
        buffer,
        dynamo=False,
        input_names=["image"],
        output_names=["logits"],
        dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=17,
        training=mode,
        do_constant_folding=not training,
    )
    return buffer.getvalue()


def randomise_batch_norms(model: nn.Module) -> nn.Module:
    """Give every BatchNorm non-trivial statistics, as a trained model has."""
    generator = torch.Generator().manual_seed(0)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.copy_(torch.randn(module.num_features, generator=generator) * 0.1)
            module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
            module.weight.data.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
            module.bias.data.copy_(torch.randn(module.num_features, generator=generator) * 0.1)
    return model


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_model_zoo_architectures_import_check_and_re_export(name: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = randomise_batch_norms(ARCHITECTURES[name]()).eval()
    (tmp_path / "zoo.onnx").write_bytes(onnx_bytes(model))
    result = import_onnx(tmp_path / "zoo.onnx", tmp_path / "zoo.netwright.json")
    project = load_project(result.project_path)
    assert analyse(project.graph).ok
    assert result.max_abs_difference is not None and result.max_abs_difference < 1e-4
    positions = {n.position for n in project.graph}
    assert len(positions) == len(project.graph), "laid out: no two nodes on top of each other"
    again = export_onnx(project, tmp_path / "again.onnx", verify=True)
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        expected = model(x).numpy()
    session = ort.InferenceSession(str(again.path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    relative = np.abs(got - expected).max() / max(1.0, np.abs(expected).max())
    assert relative <= 1e-4


def test_batch_norms_kept_by_a_training_mode_export_import_as_layers(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = randomise_batch_norms(ResNet18(width=8)).eval()
    data = onnx_bytes(model, training=True)
    assert (
        sum(n.op_type == "BatchNormalization" for n in onnx.load_from_string(data).graph.node) == 20
    )
    (tmp_path / "r.onnx").write_bytes(data)
    result = import_onnx(tmp_path / "r.onnx", tmp_path / "r.netwright.json")
    graph = load_project(result.project_path).graph
    assert sum(n.type == "BatchNorm2d" for _, n in layers_of(graph)) == 20  # in blocks too
    assert result.max_abs_difference is not None and result.max_abs_difference < 1e-4
