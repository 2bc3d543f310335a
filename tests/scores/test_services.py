"""Score cells and derived rankings: exact values, the m estimator, incremental == full, failures,
concurrency, debounce, and rankings right at the next read."""

import datetime
import os
import threading
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from brands.services import brand_review
from evaluations import refresh
from evaluations.models import Evaluation
from evaluations.services import evaluation_change_state
from organizations.models import Organization
from scores import services
from scores.models import ScoreCell, ScoreWatermark
from scores.selectors import PeriodSums, prior_estimate, ranking
from tests.factories import make_brand, make_evaluation
from tests.scores.conftest import NOV, OCT, cell, ranks, rate, row, table


@pytest.mark.django_db
def test_hand_computed_example_gives_exact_counts_scores_bounds_and_shared_ranks(example, tree):
    services.scores_recompute_full()
    a = cell("A", "2026-11")  # the flagged rating is left out
    assert (a.masses_n, a.masses_grade_5, a.masses_grade_4, a.masses_grade_3, a.masses_grade_2, a.masses_grade_1) == (
        10,
        6,
        2,
        1,
        0,
        1,
    )
    assert (a.masses_bad_n, a.masses_management_n, a.masses_management_sum, a.masses_service_n) == (1, 10, 40, 0)
    assert (a.member_n, a.sub_org_n) == (0, 0)
    b = cell("B", "2026-11")
    assert (b.member_n, b.member_grade_5, b.member_service_sum, b.member_quality_sum, b.masses_n) == (5, 5, 25, 15, 0)

    # C = 132 / 32 = 4.125; m = 20 (fixed here), minimum n = 5.
    november = ranking(period="2026-11")
    assert (november.prior.m, november.prior.mean) == (20.0, 4.125)
    a = row("A", "2026-11")
    assert (a.n, a.mean, a.bad_rate, a.net_score) == (10, 4.2, 0.1, 50.0)
    assert a.score == pytest.approx(124.5 / 30, rel=1e-12)  # (42 + 20·4.125) / (10 + 20) = 4.15
    assert a.wilson == pytest.approx(0.49015684672072346, rel=1e-12)
    b = row("B", "2026-11")
    assert (b.score, b.wilson, b.net_score) == (pytest.approx(4.3, rel=1e-12), pytest.approx(0.565508505247919), 100.0)
    d = row("D", "2026-11")
    assert (d.score, d.wilson, d.net_score) == (pytest.approx(4.1, rel=1e-12), pytest.approx(0.37552826411853885), 40.0)
    f = row("F", "2026-11")
    assert (f.n, f.score, f.rank, f.wilson, f.net_score) == (2, None, None, 0.0, -50.0)
    # B 4.3 > A 4.15 > C = E = D 4.1; C and E are identical records (score, Wilson 5/5, n 5): they share
    # rank 3, listed by code; D's Wilson is lower (4/5): rank 5. F has too few ratings: no score, no rank.
    assert [(r.code, r.rank) for r in november] == [("B", 1), ("A", 2), ("C", 3), ("E", 3), ("D", 5), ("F", None)]
    # Scopes: domains community (A, B, E, F) and state enterprise (C, D); parents community (A, E, F).
    assert ranks("2026-11", domain="community") == {"B": 1, "A": 2, "E": 3, "F": None}
    assert ranks("2026-11", domain="soe") == {"C": 1, "D": 2}
    assert ranks("2026-11", parent=tree["community"].pk) == {"A": 1, "E": 2, "F": None}
    # October: C = 3; G and H both score exactly 3 with Wilson 0; H has more ratings.
    assert ranks("2026-10") == {"H": 1, "G": 2}
    assert row("G", "2026-10").score == 3.0
    # Rater groups: the members' November has only B.
    assert [(r.code, r.n, r.score, r.rank) for r in ranking(period="2026-11", rater_group="member")] == [
        ("B", 5, 5.0, 1)
    ]
    # Quarter, year and all time sum the months.
    for period in ("2026-Q4", "2026", "all"):
        assert cell("A", period).masses_n == 10
        assert cell("H", period).masses_n == 6
    assert sorted(ScoreCell.objects.values_list("period", flat=True).distinct()) == [0, 2026, 20264, 202610, 202611]


@pytest.mark.django_db
def test_rank_change_is_places_gained_since_the_previous_period_of_the_same_kind(example):
    rate(example["B"], [3, 3, 3, 3, 3], day=OCT)
    rate(example["A"], [5, 5, 5, 5, 5], day=OCT)
    services.scores_recompute_full()
    # October: A 5s first; B and G are identical records (five 3s), sharing rank 2; H (six 3s) 4th.
    assert ranks("2026-10") == {"A": 1, "B": 2, "G": 2, "H": 4}
    assert {r.code: r.rank_change for r in ranking(period="2026-11")} == {
        "B": 1,
        "A": -1,
        "C": None,
        "E": None,
        "D": None,
        "F": None,
    }
    assert next(iter(ranking(period="all"))).rank_change is None


def test_m_is_at_its_upper_bound_when_brands_do_not_differ(settings):
    settings.SCORE_PRIOR_WEIGHT = None
    # Three brands rated 5 and 4 each: every brand mean is 4.5, so the spread between brands is nil.
    sums = PeriodSums(brands=3, n=6, total=27, squares=123, between=3 * 81 / 2, n_squares=12.0)
    assert prior_estimate(sums).m == settings.SCORE_PRIOR_WEIGHT_MAX == 500.0
    assert prior_estimate(PeriodSums(1, 5, 20, 82, 80.0, 25.0)).m == 500.0  # one brand: nothing to compare


def test_m_is_small_when_brands_are_far_apart(settings):
    settings.SCORE_PRIOR_WEIGHT = None
    # X: 5 5 5 5 4, Y: 1 1 1 1 2. MSW = 1.6/8 = 0.2, MSB = 32.4, n0 = 5, tau2 = 6.44: m = 0.031, bounded to 1.
    sums = PeriodSums(brands=2, n=10, total=30, squares=124, between=24 * 24 / 5 + 6 * 6 / 5, n_squares=50.0)
    assert prior_estimate(sums).m == settings.SCORE_PRIOR_WEIGHT_MIN == 1.0


@pytest.mark.django_db
def test_m_estimated_from_a_periods_cells_matches_the_hand_computation(tree, settings):
    settings.SCORE_PRIOR_WEIGHT = None
    # P: 5 5 4 4 (sum 18), Q: 5 4 3 4 (16), R: 4 3 3 2 (12). N 12, k 3, S 46, Q 186, T = (324 + 256 + 144)/4 = 181.
    # MSW = (186 − 181)/9 = 5/9; MSB = (181 − 46²/12)/2 = 7/3; n0 = (12 − 48/12)/2 = 4; tau2 = (7/3 − 5/9)/4 = 4/9.
    # m = (5/9)/(4/9) = 1.25, C = 46/12.
    for code, grades in (("P", [5, 5, 4, 4]), ("Q", [5, 4, 3, 4]), ("R", [4, 3, 3, 2])):
        rate(make_brand(tree["grid"], code), grades)
    services.scores_recompute_full()
    prior = ranking(period="2026-11").prior
    assert prior.m == pytest.approx(1.25, rel=1e-12)
    assert prior.mean == pytest.approx(46 / 12, rel=1e-12)
    assert prior.within == pytest.approx(5 / 9, rel=1e-12)
    assert prior.estimated is True
    # Fewer than 5 ratings each: nobody is ranked; with a minimum of 4, P = (18 + 1.25·46/12)/5.25.
    settings.SCORE_MIN_RATINGS = 4
    assert row("P", "2026-11").score == pytest.approx((18 + 1.25 * 46 / 12) / 5.25, rel=1e-12)
    assert ranks("2026-11") == {"P": 1, "Q": 2, "R": 3}


@pytest.mark.django_db
def test_incremental_fold_of_the_example_equals_the_full_recompute(example, settings):
    settings.SCORE_OVERLAP_SECONDS = 0
    assert services.scores_fold_incremental()["dirty_months"] == 8  # 8 brands, one month each
    incremental = table()
    services.scores_recompute_full()
    assert table() == incremental


@pytest.mark.django_db
def test_a_fold_after_one_rating_writes_only_that_brands_four_cells(example, settings):
    settings.SCORE_OVERLAP_SECONDS = 0
    services.scores_recompute_full()
    rate(example["A"], [4])
    result = services.scores_fold_incremental()
    # Its month, quarter, year and all-time cells: no other brand's, nothing that depends on other brands.
    assert result == {"dirty_months": 1, "cells": 4, "periods": 4}
    assert cell("A", "2026-11").masses_n == cell("A", "all").masses_n == 11
    folded = table()
    services.scores_recompute_full()
    assert table() == folded


def _updates() -> tuple[int, int]:
    """The cells' row updates in this transaction, and how many of them were in place (HOT)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_updated(%s::regclass), pg_stat_get_xact_tuples_hot_updated(%s::regclass)",
            [services.CELLS, services.CELLS],
        )
        return cursor.fetchone()


@pytest.mark.django_db
def test_on_postgresql_a_fold_updates_the_coarser_cells_in_place(example, settings):
    if connection.vendor != "postgresql":
        pytest.skip("storage parameters are PostgreSQL's")
    settings.SCORE_OVERLAP_SECONDS = 0
    services.scores_recompute_full()
    before = _updates()
    rate(example["A"], [4])
    services.scores_fold_incremental()
    first = _updates()
    # The full job wrote the months densely: a month's first update may move it, to a page with room.
    assert first[0] - before[0] == 4
    rate(example["A"], [5])
    services.scores_fold_incremental()
    second = _updates()
    # From then on, every fold's updates stay on their pages and touch no index.
    assert (second[0] - first[0], second[1] - first[1]) == (4, 4)


@pytest.mark.django_db
def test_restoring_a_flagged_rating_counts_it_again_and_excluding_it_drops_it(example, settings):
    settings.SCORE_OVERLAP_SECONDS = 0
    services.scores_recompute_full()
    flagged = Evaluation.objects.get(brand__code="A", state=Evaluation.State.FLAGGED)
    evaluation_change_state(evaluation=flagged, to_state=Evaluation.State.COUNTED, reason="reviewed: genuine")
    services.scores_fold_incremental()
    assert (cell("A", "2026-11").masses_n, cell("A", "2026-11").masses_grade_1, cell("A", "all").masses_n) == (
        11,
        2,
        11,
    )
    evaluation_change_state(evaluation=flagged, to_state=Evaluation.State.EXCLUDED, reason="appeal upheld")
    services.scores_fold_incremental()
    assert (cell("A", "2026-11").masses_n, cell("A", "2026-11").masses_grade_1, cell("A", "all").masses_n) == (
        10,
        1,
        10,
    )


@pytest.mark.django_db
def test_a_state_change_that_counts_the_same_writes_nothing(example, settings):
    settings.SCORE_OVERLAP_SECONDS = 0
    services.scores_recompute_full()
    flagged = Evaluation.objects.get(brand__code="A", state=Evaluation.State.FLAGGED)
    evaluation_change_state(evaluation=flagged, to_state=Evaluation.State.EXCLUDED, reason="confirmed spam")
    assert services.scores_fold_incremental() == {"dirty_months": 1, "cells": 0, "periods": 0}


@pytest.mark.django_db
def test_a_cell_whose_last_counted_rating_is_flagged_disappears(tree, settings):
    settings.SCORE_OVERLAP_SECONDS = 0
    brand = make_brand(tree["grid"], "X")
    (only,) = rate(brand, [4])
    services.scores_fold_incremental()
    assert ScoreCell.objects.filter(brand=brand).count() == 4  # month, quarter, year, all
    evaluation_change_state(evaluation=only, to_state=Evaluation.State.FLAGGED, reason="test")
    assert services.scores_fold_incremental()["cells"] == 4  # emptied, so deleted
    assert ScoreCell.objects.filter(brand=brand).count() == 0


@pytest.mark.django_db
def test_a_second_run_changes_nothing_and_a_late_committed_id_is_caught_by_the_overlap(tree, settings):
    brand = make_brand(tree["grid"], "X")
    rate(brand, [5, 4, 3, 2, 1])
    services.scores_fold_incremental()
    first = table()
    # The overlap re-reads the last minute; the month's cells come out the same, so nothing is written.
    assert services.scores_fold_incremental() == {"dirty_months": 1, "cells": 0, "periods": 0}
    assert table() == first
    # A rating whose id is below the watermark (it committed late) but was created a moment ago.
    ScoreWatermark.objects.update(last_evaluation_id=10**9)
    make_evaluation(brand, 5, rated_on=NOV)
    services.scores_fold_incremental()
    assert cell("X", "2026-11").masses_n == 6


@pytest.mark.django_db
def test_a_revoked_brand_and_a_moved_organization_are_right_at_the_next_read_with_no_job(example, tree, city_reviewer):
    services.scores_recompute_full()
    assert ranks("2026-Q4") == {"B": 1, "A": 2, "C": 3, "E": 3, "D": 5, "G": 6, "H": 7, "F": None}
    with mock.patch.object(services, "scores_fold_incremental") as fold:
        brand_review(user=city_reviewer, brand=example["B"], decision="revoke", comment="整改不到位")
        # B keeps its counts but loses its places; the others close up, in every period.
        assert ranks("2026-Q4") == {"A": 1, "C": 2, "E": 2, "D": 4, "G": 5, "H": 6, "F": None}
        assert ranks("2026-11") == {"A": 1, "C": 2, "E": 2, "D": 4, "F": None}
        assert cell("B", "all").member_n == 5
        # The grid branch (A, E, F) moves under the water group, which becomes "community" too: C and D
        # join A and E in the community domain; A, E and F are now ranked within their new parent.
        enterprise = Organization.objects.get(pk=tree["enterprise"].pk)
        Organization.objects.move(Organization.objects.get(pk=tree["grid"].pk), enterprise, pos="sorted-child")
        Organization.objects.filter(pk=enterprise.pk).update(domain=Organization.Domain.COMMUNITY)
        assert ranks("2026-11", domain="community") == {"A": 1, "C": 2, "E": 2, "D": 4, "F": None}
        assert ranks("2026-11", parent=enterprise.pk) == {"A": 1, "E": 2, "F": None}
    assert fold.call_count == 0


# --- property: incremental in any batch sizes == full -------------------------------------------------

GRADES = st.integers(min_value=1, max_value=5)
OPERATION = st.one_of(
    st.tuples(
        st.just("rate"),
        st.integers(0, 2),  # brand
        GRADES,
        st.sampled_from(Evaluation.RaterGroup.values),
        st.sampled_from([datetime.date(2025, 12, 31), datetime.date(2026, 1, 1), datetime.date(2026, 4, 15)]),
        st.one_of(st.none(), GRADES),  # management
    ),
    st.tuples(st.just("state"), st.integers(0, 50), st.sampled_from(Evaluation.State.values)),
    st.tuples(st.just("revoke"), st.integers(0, 2)),  # brand
    st.tuples(st.just("fold")),
)


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(operations=st.lists(OPERATION, max_size=30), overlap=st.sampled_from([0, 60]))
def test_incremental_in_any_batches_equals_full_recompute(tree, city_reviewer, settings, operations, overlap):
    # 0: only the watermarks find new work (the hard case); 60: everything is seen again, mostly unchanged.
    settings.SCORE_OVERLAP_SECONDS = overlap
    settings.SCORE_MIN_RATINGS = 2
    with transaction.atomic():
        brands = [
            make_brand(tree["grid"], "P0"),
            make_brand(tree["community"], "P1"),
            make_brand(tree["enterprise"], "P2"),
        ]
        ratings: list[Evaluation] = []
        for operation in operations:
            if operation[0] == "rate" and brands[operation[1]].is_public:
                _kind, brand, grade, group, day, management = operation
                ratings.append(
                    make_evaluation(brands[brand], grade, rater_group=group, rated_on=day, management=management)
                )
            elif operation[0] == "state" and ratings:
                _kind, index, state = operation
                evaluation_change_state(evaluation=ratings[index % len(ratings)], to_state=state, reason="property")
            elif operation[0] == "revoke" and brands[operation[1]].is_public:
                brands[operation[1]] = brand_review(
                    user=city_reviewer, brand=brands[operation[1]], decision="revoke", comment="property"
                )
            elif operation[0] == "fold":
                services.scores_fold_incremental()
        services.scores_fold_incremental()
        incremental = table()
        services.scores_recompute_full()
        assert table() == incremental
        transaction.set_rollback(True)


# --- failure, concurrency, debounce, command --------------------------------------------------------------


def fail_at_the_final_write():
    """Let the job write every cell (on PostgreSQL the full job has swapped in its new table), then fail
    as it moves the watermark, its last statement."""

    def advance(mark):
        raise RuntimeError("injected")

    return mock.patch.object(services, "_advance", side_effect=advance)


@pytest.mark.django_db
def test_a_job_failing_halfway_leaves_the_previous_rankings_and_the_next_run_is_right(example, settings):
    settings.SCORE_OVERLAP_SECONDS = 0
    services.scores_recompute_full()
    before, mark = table(), ScoreWatermark.objects.values_list("last_evaluation_id", "last_state_change_id").get()
    rate(example["F"], [5, 5, 5, 5])  # F now has 6 ratings and should be ranked
    with fail_at_the_final_write(), pytest.raises(RuntimeError):
        services.scores_fold_incremental()
    assert table() == before
    assert ScoreWatermark.objects.values_list("last_evaluation_id", "last_state_change_id").get() == mark
    with fail_at_the_final_write(), pytest.raises(RuntimeError):
        services.scores_recompute_full()
    assert table() == before
    services.scores_fold_incremental()
    assert cell("F", "2026-11").masses_n == 6 and row("F", "2026-11").rank is not None
    folded = table()
    services.scores_recompute_full()
    assert table() == folded


def five_rated_brands(tree, prefix: str, *, times: int) -> list:
    """Five brands, the i-th rated with grades 5 down to 5 − i, `times` over, in November."""
    brands = [make_brand(tree["grid"], f"{prefix}{i}") for i in range(5)]
    for i, brand in enumerate(brands):
        rate(brand, [5, 4, 3, 2, 1][: i + 1] * times)
    return brands


@pytest.mark.django_db(transaction=True)
def test_two_incremental_jobs_at_once_on_postgresql_count_nothing_twice(tree):
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks and concurrent writers: PostgreSQL only")
    brands = five_rated_brands(tree, "K", times=3)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def job():
        try:
            barrier.wait()
            services.scores_fold_incremental()
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    folded = table()
    assert ScoreCell.objects.get(brand=brands[4], period=0).masses_n == 15
    assert sum(ScoreCell.objects.filter(period=0).values_list("masses_n", flat=True)) == 45
    services.scores_recompute_full()
    assert table() == folded


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_full_job_builds_in_parts_on_connections_of_their_own_and_fails_cleanly(tree):
    if connection.vendor != "postgresql":
        pytest.skip("the build-then-swap full job is PostgreSQL's")
    brands = five_rated_brands(tree, "P", times=2)
    for i, brand in enumerate(brands):
        rate(brand, [4] * i, day=OCT)
    services.scores_fold_incremental()
    folded, schema = table(), _catalog(services.CELLS)
    with mock.patch.object(services, "_on_connections", wraps=services._on_connections) as on_connections:
        services.scores_recompute_full()
    # The new table; the months in two parts; its storage parameters; the coarser cells in two parts; its
    # two indexes.
    assert [len(call.args[0]) for call in on_connections.call_args_list] == [1, 2, 1, 2, 2]
    assert table() == folded
    assert _catalog(services.CELLS) == schema
    rate(brands[0], [1])
    # A part that fails, and a job that fails after its parts committed, leave the cells as they were.
    broken = mock.patch.object(services, "_build_coarser", side_effect=RuntimeError("injected"))
    for failure in (broken, fail_at_the_final_write()):
        with failure, pytest.raises(RuntimeError):
            services.scores_recompute_full()
        assert table() == folded
    services.scores_recompute_full()  # drops the table the failed job left
    assert ScoreCell.objects.get(brand=brands[0], period=0).masses_n == 3
    assert _catalog(services.CELLS) == schema


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_large_fold_runs_in_parts_and_a_failed_part_leaves_its_brands_to_the_next_fold(tree, settings):
    if connection.vendor != "postgresql":
        pytest.skip("folds in parts are PostgreSQL's")
    settings.SCORE_OVERLAP_SECONDS = 0
    brands = five_rated_brands(tree, "Q", times=2)  # 30 ratings
    odd = {brand.pk for brand in brands if brand.pk % 2}
    even = {brand.pk for brand in brands} - odd
    assert odd and even

    def of(cells: list[tuple], ids: set) -> list[tuple]:
        return [cell for cell in cells if cell[0] in ids]

    parts = mock.patch.object(services, "_on_connections", wraps=services._on_connections)
    with parts as on_connections, mock.patch.object(services, "FOLD_PARTS_FROM", 30):
        # Each brand's November, fourth quarter, 2026 and all time, in two parts.
        assert services.scores_fold_incremental() == {"dirty_months": 5, "cells": 20, "periods": 4}
        assert [len(call.args[0]) for call in on_connections.call_args_list] == [2]
        rate(brands[0], [1])  # fewer than 30: one statement on the job's connection
        assert services.scores_fold_incremental()["cells"] == 4
        assert on_connections.call_count == 1
    folded = table()
    services.scores_recompute_full()
    assert table() == folded

    for brand in brands:
        rate(brand, [3])
    watermark = ScoreWatermark.objects.get().last_evaluation_id
    fold_by_deltas = services._fold_by_deltas

    def odd_part_fails(mark, part=""):
        if part.endswith("= 1"):
            raise RuntimeError("injected")
        return fold_by_deltas(mark, part)

    with (
        mock.patch.object(services, "FOLD_PARTS_FROM", 1),
        mock.patch.object(services, "_fold_by_deltas", side_effect=odd_part_fails),
        pytest.raises(RuntimeError),
    ):
        services.scores_fold_incremental()
    # The even brands' part committed, the odd brands' cells are as they were, the watermark has not moved.
    assert of(table(), odd) == of(folded, odd)
    assert of(table(), even) != of(folded, even)
    assert ScoreWatermark.objects.get().last_evaluation_id == watermark
    # The next fold writes the odd brands' cells only; the even brands' months already equal their ratings.
    assert services.scores_fold_incremental()["cells"] == 4 * len(odd)
    rate(brands[0], [2])
    with mock.patch.object(services, "FOLD_PARTS_FROM", 1), fail_at_the_final_write(), pytest.raises(RuntimeError):
        services.scores_fold_incremental()  # both parts committed, the watermark not moved
    assert services.scores_fold_incremental()["cells"] == 0
    folded = table()
    services.scores_recompute_full()
    assert table() == folded


def _catalog(table: str) -> tuple:
    """A table's columns, index definitions, constraints, storage parameters and granted privileges, as the
    catalog has them."""
    queries = [
        "SELECT attnum, attname, format_type(atttypid, atttypmod), attnotnull, atthasdef FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass",
        "SELECT pg_get_userbyid(a.grantee), a.privilege_type FROM pg_class c, aclexplode(c.relacl) a "
        "WHERE c.oid = %s::regclass AND a.grantee <> c.relowner",
        "SELECT unnest(reloptions) FROM pg_class WHERE oid = %s::regclass",
    ]
    with connection.cursor() as cursor:
        rows = []
        for sql in queries:
            cursor.execute(sql, [table])
            rows.append(sorted(cursor.fetchall()))
    return tuple(rows)


@pytest.mark.django_db
def test_the_full_job_on_postgresql_swaps_in_a_table_with_the_same_indexes_constraints_and_grants(example):
    if connection.vendor != "postgresql":
        pytest.skip("the build-then-swap full job is PostgreSQL's")
    reader = f"scorecell_reader_{os.getpid()}"
    with connection.cursor() as cursor:  # both undone with the test's transaction
        cursor.execute(f"CREATE ROLE {reader} NOLOGIN")
        cursor.execute(f"GRANT SELECT ON {services.CELLS} TO {reader}")
    before = _catalog(services.CELLS)
    assert (reader, "SELECT") in before[3]
    assert before[4] == [("fillfactor=50",)]
    services.scores_recompute_full()
    assert _catalog(services.CELLS) == before


@pytest.mark.django_db
def test_a_burst_of_refresh_requests_enqueues_one_job_until_it_starts():
    with mock.patch("scores.tasks.scores_fold.apply_async") as enqueue:
        results = [refresh.request_refresh() for _ in range(1000)]
        assert results.count(True) == 1
        assert enqueue.call_count == 1
        assert enqueue.call_args.kwargs == {"countdown": 3}
        refresh.refresh_started()  # the job begins: later ratings need a job of their own
        assert refresh.request_refresh() is True
        assert enqueue.call_count == 2


@pytest.mark.django_db
def test_a_fold_is_enqueued_no_sooner_than_the_minimum_interval_after_the_last_one_started(settings):
    settings.SCORE_REFRESH_MIN_INTERVAL_SECONDS = 20
    with mock.patch("scores.tasks.scores_fold.apply_async") as enqueue:
        with mock.patch("evaluations.refresh.time.time", return_value=1000.0):
            refresh.refresh_started()
        with mock.patch("evaluations.refresh.time.time", return_value=1005.5):
            assert refresh.request_refresh() is True
        assert enqueue.call_args.kwargs == {"countdown": 15}  # 1000 + 20 - 1005.5, rounded up
        with mock.patch("evaluations.refresh.time.time", return_value=1100.0):
            refresh.refresh_started()
        with mock.patch("evaluations.refresh.time.time", return_value=1130.0):
            assert refresh.request_refresh() is True
        assert enqueue.call_args.kwargs == {"countdown": 3}  # long enough ago: the usual short delay


@pytest.mark.django_db
def test_a_state_change_requests_a_refresh_after_commit(tree, django_capture_on_commit_callbacks):
    brand = make_brand(tree["grid"], "X")
    (evaluation,) = rate(brand, [1])
    with mock.patch.object(refresh, "request_refresh") as request:
        with django_capture_on_commit_callbacks(execute=True):
            evaluation_change_state(evaluation=evaluation, to_state=Evaluation.State.FLAGGED, reason="spam")
        assert request.call_count == 1


@pytest.mark.django_db
def test_with_eager_tasks_a_refresh_request_folds_at_once(tree):
    brand = make_brand(tree["grid"], "X")
    rate(brand, [5, 5])
    assert refresh.request_refresh() is True
    assert cell("X", "all").masses_n == 2


@pytest.mark.django_db
def test_the_command_runs_the_incremental_job_and_with_full_the_full_one(example, capsys):
    call_command("aggregate_scores")
    assert capsys.readouterr().out.startswith("incremental fold: dirty_months=8, cells=")
    call_command("aggregate_scores", "--full")
    assert capsys.readouterr().out.startswith("full recompute: cells=")
    assert row("B", "2026-11").rank == 1


def test_beat_folds_every_30_seconds_and_recomputes_nightly(settings):
    from celery.schedules import crontab

    from config.celery import app

    assert settings.CELERY_BEAT_SCHEDULE["scores-fold"] == {"task": "scores.fold", "schedule": 30.0}
    nightly = settings.CELERY_BEAT_SCHEDULE["scores-recompute-nightly"]
    assert (nightly["task"], nightly["schedule"]) == ("scores.recompute", crontab(hour=3, minute=30))
    assert {"scores.fold", "scores.recompute"} <= set(app.tasks)


@pytest.mark.django_db
def test_the_full_task_rebuilds_and_the_fold_task_clears_the_debounce_key(example):
    from django.core.cache import cache

    from scores.tasks import scores_fold, scores_recompute

    assert scores_recompute.delay().get()["cells"] == ScoreCell.objects.count()
    cache.set(refresh.REFRESH_PENDING_KEY, 1)
    assert scores_fold.delay().get()["dirty_months"] == 8  # everything was created within the overlap window
    assert cache.get(refresh.REFRESH_PENDING_KEY) is None


@pytest.mark.django_db
def test_the_overlap_re_reads_ratings_above_the_newest_id_a_fold_saw_before_the_window(tree, settings):
    settings.SCORE_OVERLAP_SECONDS = 60
    brand = make_brand(tree["grid"], "X")
    rate(brand, [5])
    with mock.patch("scores.services.time.time", return_value=1000.0):
        services.scores_fold_incremental()
    first = ScoreWatermark.objects.get().last_evaluation_id
    rate(brand, [4])
    with mock.patch("scores.services.time.time", return_value=1030.0):
        services.scores_fold_incremental()
    assert ScoreWatermark.objects.get().recent == [[1000.0, first], [1030.0, first + 1]]
    # A rating whose id is below the watermark (it committed late): the fold at 1000 is before the
    # window of a fold at 1070, so every rating above the id it saw is read again.
    ScoreWatermark.objects.update(last_evaluation_id=10**9)
    rate(brand, [3])
    with mock.patch("scores.services.time.time", return_value=1070.0):
        assert services.scores_fold_incremental() == {"dirty_months": 1, "cells": 4, "periods": 4}
    assert cell("X", "2026-11").masses_n == 3
    # Only the newest fold before the window is kept, with those within it.
    assert [entry[0] for entry in ScoreWatermark.objects.get().recent] == [1000.0, 1030.0, 1070.0]


def test_the_fold_task_is_registered_in_a_process_that_is_not_a_worker():
    """A web process or a command asks for the fold by name (evaluations.refresh): it must be known there."""
    import subprocess
    import sys

    code = (
        "import django; django.setup(); from celery import current_app; "
        "print(sorted(name for name in current_app.tasks if name.startswith('scores.')))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.stdout.strip() == "['scores.fold', 'scores.recompute']", result.stderr
