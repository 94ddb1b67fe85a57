from dagruns.sdk import WeightRule


def test_it_knows_the_three_weight_rules():
    assert WeightRule.all_weight_rules() == {"downstream", "upstream", "absolute"}


def test_it_validates_members_and_strings():
    assert WeightRule.is_valid(WeightRule.UPSTREAM)
    assert WeightRule.is_valid("absolute")
    assert not WeightRule.is_valid("sideways")
