"""Modbus read planning: adjacent addresses merge up to the protocol's limits, small gaps are read through."""

from edge.pipeline.receivers.modbus.plan import (MAX_BITS, MAX_REGISTERS, ReadRequest, Span, naive_reads, plan_reads,
                                                 split_at_gaps, width_of)


def spans(table, *pairs, unit=1):
    return [Span(unit, table, address, width) for address, width in pairs]


def shape(requests):
    return [(r.unit, r.table, r.address, r.count) for r in requests]


def test_widths_of_the_data_types():
    assert [width_of(t, None) for t in ("int16", "uint16", "bool", "int32", "uint32", "float32", "float64")] == \
        [1, 1, 1, 2, 2, 2, 4]
    assert width_of("string", 10) == 10 and width_of("string", None) == 1


def test_adjacent_registers_merge_into_one_request():
    assert shape(plan_reads(spans("holding", (0, 2), (2, 1), (3, 4)))) == [(1, "holding", 0, 7)]


def test_gaps_up_to_max_gap_are_read_through_and_longer_ones_split():
    points = spans("holding", (0, 1), (9, 1), (30, 2))
    assert shape(plan_reads(points, max_gap=8)) == [(1, "holding", 0, 10), (1, "holding", 30, 2)]
    assert shape(plan_reads(points, max_gap=0)) == [(1, "holding", 0, 1), (1, "holding", 9, 1), (1, "holding", 30, 2)]
    assert shape(plan_reads(points, max_gap=20)) == [(1, "holding", 0, 32)]


def test_requests_stay_within_125_registers_and_2000_bits():
    registers = plan_reads(spans("input", *[(a, 1) for a in range(300)]))
    assert shape(registers) == [(1, "input", 0, MAX_REGISTERS), (1, "input", 125, 125), (1, "input", 250, 50)]
    coils = plan_reads(spans("coil", *[(a, 1) for a in range(4500)]))
    assert shape(coils) == [(1, "coil", 0, MAX_BITS), (1, "coil", 2000, 2000), (1, "coil", 4000, 500)]
    # a float32 at 124 would straddle the limit: it starts the next request
    assert shape(plan_reads(spans("holding", *[(a, 1) for a in range(124)], (124, 2)))) == \
        [(1, "holding", 0, 124), (1, "holding", 124, 2)]


def test_tables_and_units_never_share_a_request():
    points = spans("holding", (0, 1)) + spans("input", (1, 1)) + spans("holding", (1, 1), unit=2) + \
        spans("coil", (0, 1)) + spans("discrete", (1, 1))
    assert shape(plan_reads(points)) == [(1, "coil", 0, 1), (1, "discrete", 1, 1), (1, "holding", 0, 1),
                                         (1, "input", 1, 1), (2, "holding", 1, 1)]


def test_the_same_register_in_two_streams_is_read_once_and_overlaps_merge():
    requests = plan_reads(spans("holding", (10, 2), (10, 2), (11, 1)))
    assert shape(requests) == [(1, "holding", 10, 2)]
    assert [(s.address, s.width) for s in requests[0].spans] == [(10, 2), (11, 1)]


def test_a_request_knows_its_gaps_and_splits_at_them():
    merged = plan_reads(spans("holding", (0, 2), (5, 1), (6, 2)))[0]
    assert merged.has_gaps and merged.describe() == "unit 1 holding 0-7"
    assert shape(split_at_gaps(merged)) == [(1, "holding", 0, 2), (1, "holding", 5, 3)]
    assert not plan_reads(spans("holding", (0, 2), (2, 2)))[0].has_gaps


def test_ten_thousand_registers_take_eighty_requests_instead_of_ten_thousand():
    points = spans("holding", *[(a, 1) for a in range(10_000)])
    assert len(plan_reads(points)) == 80
    assert len(naive_reads(points)) == 10_000
    assert naive_reads(points[:1]) == [ReadRequest(1, "holding", 0, 1, (points[0],))]
