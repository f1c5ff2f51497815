"""The garbage collector tuned for a bulk send, and left as it was after it."""

from __future__ import annotations

import gc

from schedcli.runtime import GC_THRESHOLDS, fewer_collections


def test_a_bulk_send_collects_less_and_leaves_the_collector_as_it_found_it():
    before = gc.get_threshold()
    assert before != GC_THRESHOLDS
    with fewer_collections():
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 0  # what existed before the send is left out of every collection
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
