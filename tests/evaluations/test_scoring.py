"""Scores and rankings: exact values, incremental == full, failures, concurrency, debounce."""

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

from brands.models import Brand
from brands.services import brand_review
from evaluations import scoring
from evaluations.models import BrandScore, Evaluation, ScoreDirtyMonth, ScoreWatermark
from evaluations.services import evaluation_change_state
from organizations.models import Organization
from tests.evaluations.conftest import NOV, cell, rate, table
from tests.factories import make_brand, make_evaluation


@pytest.mark.django_db
def test_hand_computed_example_gives_exact_counts_means_scores_bounds_and_ranks(example):
    scoring.scores_recompute_full()
    # C = 132 / 32 = 4.125 (the flagged rating is left out); m = 20, minimum n = 5.
    a = cell("A", "2026-11")
    assert (a.n, a.grade_5, a.grade_4, a.grade_3, a.grade_2, a.grade_1) == (10, 6, 2, 1, 0, 1)
    assert (a.overall_sum, a.overall_mean, a.bad_n, a.bad_rate) == (42, 4.2, 1, 0.1)
    assert (a.management_n, a.management_sum, a.management_mean) == (10, 40, 4.0)
    assert (a.service_n, a.service_mean, a.quality_n, a.quality_mean) == (0, None, 0, None)
    assert a.score == pytest.approx(124.5 / 30, rel=1e-12)  # (42 + 20·4.125) / (10 + 20) = 4.15
    assert a.wilson == pytest.approx(0.49015684672072346, rel=1e-12)
    assert a.net_score == pytest.approx(50.0)  # 60% grade 5 − 10% grades 1–2
    b = cell("B", "2026-11")
    assert (b.n, b.overall_mean, b.service_mean, b.quality_mean) == (5, 5.0, 5.0, 3.0)
    assert b.score == pytest.approx(107.5 / 25, rel=1e-12)  # 4.3
    assert b.wilson == pytest.approx(0.565508505247919, rel=1e-12)
    assert b.net_score == pytest.approx(100.0)
    d = cell("D", "2026-11")
    assert d.score == pytest.approx(102.5 / 25, rel=1e-12)  # 4.1, as C and E
    assert d.wilson == pytest.approx(0.37552826411853885, rel=1e-12)
    assert d.net_score == pytest.approx(40.0)
    f = cell("F", "2026-11")
    assert (f.n, f.wilson, f.net_score, f.rank, f.rank_domain, f.rank_parent) == (2, 0.0, -50.0, None, None, None)

    ranks = {
        s.brand.code: (s.rank, s.rank_domain, s.rank_parent)
        for s in BrandScore.objects.filter(period="2026-11", rater_group="").select_related("brand")
    }
    # Overall: B 4.3 > A 4.15 > C = E = D 4.1; C and E beat D on Wilson (5/5 vs 4/5); C beats E on code.
    # Domains: community (A, B, E, F) and state enterprise (C, D). Parents: community (A, E, F), district (B),
    # city (C, D).
    assert ranks == {
        "B": (1, 1, 1),
        "A": (2, 2, 1),
        "C": (3, 1, 1),
        "E": (4, 3, 2),
        "D": (5, 2, 2),
        "F": (None, None, None),
    }
    # October: G and H both score exactly C = 3 with Wilson 0; H has more ratings.
    assert (cell("H", "2026-10").rank, cell("G", "2026-10").rank) == (1, 2)
    assert cell("G", "2026-10").score == 3.0

    # Rater groups: B's five ratings are members'; the members' period has only B.
    member = cell("B", "2026-11", Evaluation.RaterGroup.MEMBER)
    assert (member.n, member.score, member.rank) == (5, 5.0, 1)
    assert BrandScore.objects.filter(period="2026-11", rater_group=Evaluation.RaterGroup.MEMBER).count() == 1
    # Quarter, year and all time sum the months.
    for period in ("2026-Q4", "2026", "all"):
        assert cell("A", period).n == 10
        assert cell("H", period).n == 6
    assert set(BrandScore.objects.values_list("kind", "period").distinct()) == {
        ("month", "2026-10"),
        ("month", "2026-11"),
        ("quarter", "2026-Q4"),
        ("year", "2026"),
        ("all", "all"),
    }


@pytest.mark.django_db
def test_incremental_fold_of_the_example_equals_the_full_recompute(example, settings):
    settings.SCORE_OVERLAP_SECONDS = 0
    assert scoring.scores_fold_incremental()["dirty_months"] == 8  # 8 brands, one month each
    incremental = table()
    scoring.scores_recompute_full()
    assert table() == incremental


@pytest.mark.django_db
def test_restoring_a_flagged_rating_counts_it_again_and_excluding_it_drops_it(example, settings):
    settings.SCORE_OVERLAP_SECONDS = 0
    scoring.scores_recompute_full()
    flagged = Evaluation.objects.get(brand__code="A", state=Evaluation.State.FLAGGED)
    evaluation_change_state(evaluation=flagged, to_state=Evaluation.State.COUNTED, reason="reviewed: genuine")
    scoring.scores_fold_incremental()
    assert (cell("A", "2026-11").n, cell("A", "2026-11").grade_1, cell("A", "all").n) == (11, 2, 11)
    evaluation_change_state(evaluation=flagged, to_state=Evaluation.State.EXCLUDED, reason="appeal upheld")
    scoring.scores_fold_incremental()
    assert (cell("A", "2026-11").n, cell("A", "2026-11").grade_1, cell("A", "all").n) == (10, 1, 10)


@pytest.mark.django_db
def test_a_state_change_that_counts_the_same_writes_nothing(example, settings):
    settings.SCORE_OVERLAP_SECONDS = 0
    scoring.scores_recompute_full()
    before = sorted(BrandScore.objects.values_list("computed_at", flat=True))
    flagged = Evaluation.objects.get(brand__code="A", state=Evaluation.State.FLAGGED)
    evaluation_change_state(evaluation=flagged, to_state=Evaluation.State.EXCLUDED, reason="confirmed spam")
    assert scoring.scores_fold_incremental() == {"dirty_months": 1, "cells": 0, "periods": 0, "rebuilt": 0}
    assert sorted(BrandScore.objects.values_list("computed_at", flat=True)) == before


@pytest.mark.django_db
def test_a_cell_whose_last_counted_rating_is_flagged_disappears(tree, settings):
    settings.SCORE_OVERLAP_SECONDS = 0
    brand = make_brand(tree["grid"], "X")
    (only,) = rate(brand, [4])
    scoring.scores_fold_incremental()
    assert BrandScore.objects.filter(brand=brand).count() == 8  # month, quarter, year, all × (all, masses)
    evaluation_change_state(evaluation=only, to_state=Evaluation.State.FLAGGED, reason="test")
    scoring.scores_fold_incremental()
    assert BrandScore.objects.filter(brand=brand).count() == 0


@pytest.mark.django_db
def test_a_second_run_changes_nothing_and_a_late_committed_id_is_caught_by_the_overlap(tree, settings):
    brand = make_brand(tree["grid"], "X")
    rate(brand, [5, 4, 3, 2, 1])
    scoring.scores_fold_incremental()
    first, computed = table(), sorted(BrandScore.objects.values_list("computed_at", flat=True))
    # The overlap re-reads the last minute; the month's cells come out the same, so nothing is written.
    assert scoring.scores_fold_incremental() == {"dirty_months": 1, "cells": 0, "periods": 0, "rebuilt": 0}
    assert table() == first
    assert sorted(BrandScore.objects.values_list("computed_at", flat=True)) == computed
    # A rating whose id is below the watermark (it committed late) but was created a moment ago.
    ScoreWatermark.objects.update(last_evaluation_id=10**9)
    make_evaluation(brand, 5, rated_on=NOV)
    scoring.scores_fold_incremental()
    assert cell("X", "2026-11").n == 6
    assert ScoreDirtyMonth.objects.count() == 0


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
                scoring.scores_fold_incremental()
        scoring.scores_fold_incremental()
        incremental = table()
        scoring.scores_recompute_full()
        assert table() == incremental
        transaction.set_rollback(True)


# --- failure, concurrency, debounce, command --------------------------------------------------------------


def fail_at_the_final_write():
    """Let the job stage everything and delete the rows it replaces, then fail on the INSERT of the new ones.

    On PostgreSQL the full job inserts them into a new table that it then swaps in (`scoring.BUILD`).
    """
    real = scoring._execute

    def execute(sql, params=None):
        if sql.lstrip().startswith((f"INSERT INTO {scoring.SCORE} ", f"INSERT INTO {scoring.BUILD} ")):
            raise RuntimeError("injected")
        return real(sql, params)

    return mock.patch.object(scoring, "_execute", side_effect=execute)


@pytest.mark.django_db
def test_a_job_failing_halfway_leaves_the_previous_rankings_and_the_next_run_is_right(example, settings):
    settings.SCORE_OVERLAP_SECONDS = 0
    scoring.scores_recompute_full()
    before, mark = table(), ScoreWatermark.objects.values_list("last_evaluation_id", "last_state_change_id").get()
    rate(example["F"], [5, 5, 5, 5])  # F now has 6 ratings and should be ranked
    with fail_at_the_final_write(), pytest.raises(RuntimeError):
        scoring.scores_fold_incremental()
    assert table() == before
    assert ScoreWatermark.objects.values_list("last_evaluation_id", "last_state_change_id").get() == mark
    assert ScoreDirtyMonth.objects.count() == 0
    with fail_at_the_final_write(), pytest.raises(RuntimeError):
        scoring.scores_recompute_full()
    assert table() == before
    scoring.scores_fold_incremental()
    assert cell("F", "2026-11").n == 6 and cell("F", "2026-11").rank is not None
    folded = table()
    scoring.scores_recompute_full()
    assert table() == folded


@pytest.mark.django_db(transaction=True)
def test_two_incremental_jobs_at_once_on_postgresql_count_nothing_twice(tree):
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks and concurrent writers: PostgreSQL only")
    brands = [make_brand(tree["grid"], f"K{i}") for i in range(5)]
    for i, brand in enumerate(brands):
        rate(brand, [5, 4, 3, 2, 1][: i + 1] * 3)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def job():
        try:
            barrier.wait()
            scoring.scores_fold_incremental()
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
    assert BrandScore.objects.get(brand=brands[4], period="all", rater_group="").n == 15
    assert sum(BrandScore.objects.filter(period="all", rater_group="").values_list("n", flat=True)) == 45
    scoring.scores_recompute_full()
    assert table() == folded


def _catalog(table: str) -> tuple:
    """A table's index definitions, constraints and granted privileges, as the catalog has them."""
    queries = [
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass",
        "SELECT pg_get_userbyid(a.grantee), a.privilege_type FROM pg_class c, aclexplode(c.relacl) a "
        "WHERE c.oid = %s::regclass AND a.grantee <> c.relowner",
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
    reader = f"brandscore_reader_{os.getpid()}"
    with connection.cursor() as cursor:  # both undone with the test's transaction
        cursor.execute(f"CREATE ROLE {reader} NOLOGIN")
        cursor.execute(f"GRANT SELECT ON {scoring.SCORE} TO {reader}")
    before = _catalog(scoring.SCORE)
    assert (reader, "SELECT") in before[2]
    scoring.scores_recompute_full()
    assert _catalog(scoring.SCORE) == before


@pytest.mark.django_db
def test_a_burst_of_refresh_requests_enqueues_one_job_until_it_starts():
    with mock.patch("evaluations.tasks.scores_fold.apply_async") as enqueue:
        results = [scoring.request_refresh() for _ in range(1000)]
        assert results.count(True) == 1
        assert enqueue.call_count == 1
        assert enqueue.call_args.kwargs == {"countdown": 3}
        scoring.refresh_started()  # the job begins: later ratings need a job of their own
        assert scoring.request_refresh() is True
        assert enqueue.call_count == 2


@pytest.mark.django_db
def test_a_fold_is_enqueued_no_sooner_than_the_minimum_interval_after_the_last_one_started(settings):
    settings.SCORE_REFRESH_MIN_INTERVAL_SECONDS = 20
    with mock.patch("evaluations.tasks.scores_fold.apply_async") as enqueue:
        with mock.patch("evaluations.scoring.time.time", return_value=1000.0):
            scoring.refresh_started()
        with mock.patch("evaluations.scoring.time.time", return_value=1005.5):
            assert scoring.request_refresh() is True
        assert enqueue.call_args.kwargs == {"countdown": 15}  # 1000 + 20 - 1005.5, rounded up
        with mock.patch("evaluations.scoring.time.time", return_value=1100.0):
            scoring.refresh_started()
        with mock.patch("evaluations.scoring.time.time", return_value=1130.0):
            assert scoring.request_refresh() is True
        assert enqueue.call_args.kwargs == {"countdown": 3}  # long enough ago: the usual short delay


@pytest.mark.django_db
def test_a_state_change_requests_a_refresh_after_commit(tree, django_capture_on_commit_callbacks):
    brand = make_brand(tree["grid"], "X")
    (evaluation,) = rate(brand, [1])
    with mock.patch.object(scoring, "request_refresh") as refresh:
        with django_capture_on_commit_callbacks(execute=True):
            evaluation_change_state(evaluation=evaluation, to_state=Evaluation.State.FLAGGED, reason="spam")
        assert refresh.call_count == 1


def _ranks(period: str) -> dict[str, int | None]:
    return {
        s.brand.code: s.rank for s in BrandScore.objects.filter(period=period, rater_group="").select_related("brand")
    }


@pytest.mark.django_db
def test_revoking_a_ranked_brand_re_ranks_every_period_it_has_cells_in(
    example, city_reviewer, django_capture_on_commit_callbacks
):
    scoring.scores_fold_incremental()
    assert _ranks("2026-Q4") == {"B": 1, "A": 2, "C": 3, "E": 4, "D": 5, "F": None, "G": 6, "H": 7}
    with django_capture_on_commit_callbacks(execute=True):  # the revocation asks for a fold; eager, it runs now
        brand_review(user=city_reviewer, brand=example["B"], decision="revoke", comment="整改不到位")
    # B keeps its counts but loses its places; the others close up, in every period B was in.
    assert _ranks("2026-Q4") == {"B": None, "A": 1, "C": 2, "E": 3, "D": 4, "F": None, "G": 5, "H": 6}
    assert _ranks("2026-11") == {"B": None, "A": 1, "C": 2, "E": 3, "D": 4, "F": None}
    assert (cell("B", "all").n, cell("B", "all", Evaluation.RaterGroup.MEMBER).rank) == (5, None)
    assert (cell("A", "all").rank_domain, cell("A", "2026-11").rank_parent) == (1, 1)
    folded = table()
    scoring.scores_recompute_full()
    assert table() == folded
    assert scoring.scores_fold_incremental()["rebuilt"] == 0


@pytest.mark.django_db
def test_an_organization_moved_or_given_another_domain_rescopes_its_brands_at_the_next_fold(example, tree, settings):
    settings.SCORE_OVERLAP_SECONDS = 0
    scoring.scores_recompute_full()
    assert scoring.scores_fold_incremental()["rebuilt"] == 0
    # The grid branch (A, E, F) moves from the community committee to the water group; the group becomes
    # "community" too, so C and D join A, B and E in the community domain ranking.
    enterprise = Organization.objects.get(pk=tree["enterprise"].pk)
    Organization.objects.move(Organization.objects.get(pk=tree["grid"].pk), enterprise, pos="sorted-child")
    Organization.objects.filter(pk=enterprise.pk).update(domain=Organization.Domain.COMMUNITY)
    assert scoring.scores_fold_incremental()["rebuilt"] == 1
    a, c = cell("A", "2026-11"), cell("C", "2026-11")
    assert (a.parent_organization_id, a.rank_parent, a.domain, a.rank_domain) == (enterprise.pk, 1, "community", 2)
    assert (c.domain, c.rank_domain, cell("D", "all").domain, cell("D", "2026-11").rank_domain) == (
        "community",
        3,
        "community",
        5,
    )
    folded = table()
    scoring.scores_recompute_full()
    assert table() == folded
    assert scoring.scores_fold_incremental()["rebuilt"] == 0


@pytest.mark.django_db
def test_approving_a_brand_without_scores_does_not_rebuild(example, city_reviewer, tree):
    scoring.scores_recompute_full()
    brand = make_brand(tree["grid"], "N", status=Brand.Status.SUBMITTED)
    brand_review(user=city_reviewer, brand=brand, decision="approve")
    assert scoring.scores_fold_incremental()["rebuilt"] == 0


@pytest.mark.django_db
def test_with_eager_tasks_a_refresh_request_folds_at_once(tree):
    brand = make_brand(tree["grid"], "X")
    rate(brand, [5, 5])
    assert scoring.request_refresh() is True
    assert cell("X", "all").n == 2


@pytest.mark.django_db
def test_the_command_runs_the_incremental_job_and_with_full_the_full_one(example, capsys):
    call_command("aggregate_scores")
    assert capsys.readouterr().out.startswith("incremental fold: dirty_months=8, cells=")
    call_command("aggregate_scores", "--full")
    assert capsys.readouterr().out.startswith("full recompute: cells=")
    assert cell("B", "2026-11").rank == 1


def test_beat_folds_every_30_seconds_and_recomputes_nightly(settings):
    from celery.schedules import crontab

    from config.celery import app

    assert settings.CELERY_BEAT_SCHEDULE["scores-fold"] == {"task": "evaluations.scores_fold", "schedule": 30.0}
    nightly = settings.CELERY_BEAT_SCHEDULE["scores-recompute-nightly"]
    assert (nightly["task"], nightly["schedule"]) == ("evaluations.scores_recompute", crontab(hour=3, minute=30))
    assert {"evaluations.scores_fold", "evaluations.scores_recompute"} <= set(app.tasks)


@pytest.mark.django_db
def test_the_full_task_rebuilds_and_the_fold_task_clears_the_debounce_key(example):
    from django.core.cache import cache

    from evaluations.tasks import scores_fold, scores_recompute

    assert scores_recompute.delay().get()["cells"] == BrandScore.objects.count()
    cache.set(scoring.REFRESH_PENDING_KEY, 1)
    assert scores_fold.delay().get()["dirty_months"] == 8  # everything was created within the overlap window
    assert cache.get(scoring.REFRESH_PENDING_KEY) is None
