"""Every trigger rule against mixes of upstream states, with Airflow's expected outcomes.

R = ready to run, W = wait, S = settle as skipped, U = settle as upstream_failed.
Upstream states: s success, f failed, k skipped, u upstream_failed, r running (not finished).
"""

from __future__ import annotations

import itertools

import pytest

from dagruns.domain.trigger_rules import UpstreamCounts, evaluate

CODES = {"s": "success", "f": "failed", "k": "skipped", "u": "upstream_failed", "r": "running"}


def decide(rule: str, upstream: str) -> str:
    counts = UpstreamCounts.of((CODES[c], False) for c in upstream)
    d = evaluate(rule, counts)
    if d.ready:
        return "R"
    return {"skipped": "S", "upstream_failed": "U", None: "W"}[d.new_state]


CASES = [
    # rule, upstream states, expected
    ("all_success", "ss", "R"),
    ("all_success", "sr", "W"),
    ("all_success", "fr", "U"),  # settles at once: the outcome is certain
    ("all_success", "su", "U"),
    ("all_success", "sk", "S"),
    ("all_success", "kf", "U"),  # failure wins over skip
    ("all_failed", "ff", "R"),
    ("all_failed", "fu", "R"),
    ("all_failed", "fr", "W"),
    ("all_failed", "fs", "S"),
    ("all_failed", "fk", "S"),
    ("all_done", "sfku", "R"),
    ("all_done", "sr", "W"),
    ("all_done", "kk", "R"),
    ("all_done_min_one_success", "sf", "R"),
    ("all_done_min_one_success", "ff", "U"),
    ("all_done_min_one_success", "sk", "S"),
    ("all_done_min_one_success", "sr", "W"),
    ("all_skipped", "kk", "R"),
    ("all_skipped", "kr", "W"),
    ("all_skipped", "ks", "S"),
    ("all_skipped", "kf", "S"),
    ("one_success", "sr", "R"),  # does not wait for the others
    ("one_success", "fr", "W"),
    ("one_success", "ff", "U"),
    ("one_success", "kk", "S"),
    ("one_success", "kf", "U"),
    ("one_failed", "fr", "R"),
    ("one_failed", "ur", "R"),
    ("one_failed", "sr", "W"),
    ("one_failed", "sk", "S"),
    ("one_done", "sr", "R"),
    ("one_done", "fr", "R"),
    ("one_done", "kr", "W"),
    ("one_done", "kk", "S"),
    ("one_done", "uk", "S"),
    ("none_failed", "sk", "R"),
    ("none_failed", "kk", "R"),
    ("none_failed", "sr", "W"),
    ("none_failed", "sf", "U"),
    ("none_failed", "ur", "U"),
    ("none_failed_min_one_success", "sk", "R"),
    ("none_failed_min_one_success", "kk", "S"),
    ("none_failed_min_one_success", "sf", "U"),
    ("none_failed_min_one_success", "kr", "W"),
    ("none_skipped", "sf", "R"),
    ("none_skipped", "sr", "W"),
    ("none_skipped", "sk", "S"),
    ("always", "rr", "R"),
    ("always", "ff", "R"),
]


@pytest.mark.parametrize(("rule", "upstream", "expected"), CASES)
def test_each_rule_with_each_mix_of_upstream_states(rule, upstream, expected):
    assert decide(rule, upstream) == expected


@pytest.mark.parametrize("rule", sorted({c[0] for c in CASES} | {"all_done_setup_success"}))
def test_a_task_without_upstream_is_always_ready(rule):
    assert evaluate(rule, UpstreamCounts(total=0)).ready


@pytest.mark.parametrize("rule", sorted({c[0] for c in CASES}))
def test_once_every_upstream_finished_no_rule_waits_forever(rule):
    """With all upstreams finished, a rule must decide: run or settle. Waiting would hang the
    run. (all_done_min_one_success and all_done_setup_success excepted only where noted.)"""
    for mix in itertools.product("sfku", repeat=3):
        assert decide(rule, "".join(mix)) != "W", (rule, mix)


def test_all_done_setup_success_runs_after_one_setup_succeeded():
    counts = UpstreamCounts.of([("success", True), ("failed", False)])
    assert evaluate("all_done_setup_success", counts).ready


def test_all_done_setup_success_is_upstream_failed_when_no_setup_succeeded():
    counts = UpstreamCounts.of([("failed", True), ("success", False)])
    assert evaluate("all_done_setup_success", counts).new_state == "upstream_failed"


def test_all_done_setup_success_is_skipped_when_every_setup_skipped():
    counts = UpstreamCounts.of([("skipped", True), ("success", False)])
    assert evaluate("all_done_setup_success", counts).new_state == "skipped"


def test_a_waiting_decision_says_why():
    d = evaluate("all_success", UpstreamCounts.of([("success", False), ("running", False)]))
    assert not d.ready and d.new_state is None
    assert "1 upstream not yet succeeded" in d.reason
