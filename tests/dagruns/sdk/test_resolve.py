from collections import namedtuple

from dagruns.sdk.resolve import ResolveMixin, resolve_all


class Constant(ResolveMixin):
    def __init__(self, value):
        self.value = value

    def resolve(self, context):
        return context[self.value]


def test_resolve_all_replaces_placeholders_everywhere():
    Pair = namedtuple("Pair", "a b")
    value = {
        "x": [Constant("k"), (Constant("k"),)],
        "s": frozenset({1}),
        "p": Pair(Constant("k"), 2),
        "n": 3,
    }
    assert resolve_all(value, {"k": "v"}) == {
        "x": ["v", ("v",)],
        "s": frozenset({1}),
        "p": Pair("v", 2),
        "n": 3,
    }
