"""Quick-add finds layers from a few typed letters, best match first."""

from __future__ import annotations

from designer.quick_add import fuzzy_score, search_layers


def names(query: str) -> list[str]:
    return [layer.name for layer in search_layers(query)]


def test_abbreviations_find_the_layer_people_mean():
    assert names("cv2")[0] == "Conv2d"
    assert names("lin")[0] == "Linear"
    assert names("bn2")[0] == "BatchNorm2d"
    assert names("relu")[0] == "ReLU"
    assert names("mha")[0] == "MultiheadAttention"


def test_letters_must_appear_in_order():
    assert fuzzy_score("xyz", "Conv2d") is None
    assert fuzzy_score("dc", "Conv2d") is None


def test_a_category_name_lists_its_layers():
    found = names("pooling")
    assert "MaxPool2d" in found and "AvgPool1d" in found


def test_an_empty_query_lists_the_whole_catalogue_in_palette_order():
    everything = names("")
    assert everything[0] == "Input" and len(everything) > 40
