"""find_overlap on a pair with known leaks of every kind (issue 5's Done-when) and on small special cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftprep.overlap_pass import find_overlap
from tests.unit.overlap.leakset import build, chat, write


def test_every_leak_is_found_at_its_line_with_its_kind(tmp_path: Path) -> None:
    train, valid, expected, _ = build(tmp_path)
    report = find_overlap(train, valid)
    assert {p.validation_line: (p.kind, p.train_line) for p in report.pairs} == expected


def test_no_independent_template_sharing_example_is_flagged(tmp_path: Path) -> None:
    train, valid, _, independent = build(tmp_path)
    report = find_overlap(train, valid)
    assert {p.validation_line for p in report.pairs} & set(independent) == set()
    assert len(independent) == 11


def test_counts_and_leak_share(tmp_path: Path) -> None:
    train, valid, _, _ = build(tmp_path)
    report = find_overlap(train, valid)
    assert report.counts == {"exact": 1, "normalised": 1, "same-prompt": 1, "near": 1}
    assert (report.train_examples, report.validation_examples) == (30, 15)
    assert report.leak_share == pytest.approx(4 / 15)


def test_near_similarity_is_reported(tmp_path: Path) -> None:
    train, valid, _, _ = build(tmp_path)
    near = [p for p in find_overlap(train, valid).pairs if p.kind == "near"]
    assert len(near) == 1
    assert near[0].similarity is not None and 0.8 <= near[0].similarity < 1.0


def test_result_does_not_depend_on_which_file_is_larger(tmp_path: Path) -> None:
    train, valid, expected, _ = build(tmp_path)
    # Pad the validation file so that it becomes the larger one and the index is built over training.
    big_valid = tmp_path / "valid_big.jsonl"
    filler = b'{"messages": [{"role": "user", "content": "' + b"z" * 20000 + b'"}]}\n'
    big_valid.write_bytes(valid.read_bytes() + filler)
    report = find_overlap(train, big_valid)
    assert {p.validation_line: (p.kind, p.train_line) for p in report.pairs} == expected


def test_kinds_limit_the_search(tmp_path: Path) -> None:
    train, valid, _, _ = build(tmp_path)
    report = find_overlap(train, valid, kinds=("exact",))
    assert [(p.kind, p.validation_line) for p in report.pairs] == [("exact", 2)]
    assert report.counts == {"exact": 1}


def test_dpo_rows_compare_on_input(tmp_path: Path) -> None:
    def dpo(question: str, good: str, bad: str) -> dict[str, object]:
        return {"input": {"messages": [{"role": "user", "content": question}]},
                "preferred_output": [{"role": "assistant", "content": good}],
                "non_preferred_output": [{"role": "assistant", "content": bad}]}

    train = write(tmp_path / "t.jsonl", [dpo("Is the sky blue?", "Yes.", "No."),
                                         dpo("Name a fruit.", "Apple", "Car")])
    valid = write(tmp_path / "v.jsonl", [dpo("is the SKY blue", "It is.", "Never."),
                                         dpo("Name a car.", "Ford", "Pear")])
    report = find_overlap(train, valid)
    assert [(p.kind, p.train_line, p.validation_line) for p in report.pairs] == [("normalised", 1, 1)]


def test_reinforcement_rows_compare_on_messages(tmp_path: Path) -> None:
    def rft(question: str, reference: str) -> dict[str, object]:
        return {"messages": [{"role": "user", "content": question}], "reference_answer": reference}

    train = write(tmp_path / "t.jsonl", [rft("What is 6 times 7?", "42"), rft("What is 2 plus 2?", "4")])
    valid = write(tmp_path / "v.jsonl", [rft("What is 6 times 7?", "43"), rft("What is 3 plus 3?", "6")])
    report = find_overlap(train, valid)
    assert [(p.kind, p.train_line, p.validation_line) for p in report.pairs] == [("normalised", 1, 1)]


def test_completion_same_prompt_other_completion(tmp_path: Path) -> None:
    train = write(tmp_path / "t.jsonl", [{"prompt": "Rate: great value ->", "completion": " positive"}])
    valid = write(tmp_path / "v.jsonl", [{"prompt": "Rate: great value ->", "completion": " neutral"}])
    report = find_overlap(train, valid)
    assert [(p.kind, p.train_line, p.validation_line, p.similarity) for p in report.pairs] == [
        ("same-prompt", 1, 1, None)]


def test_unparseable_lines_are_skipped(tmp_path: Path) -> None:
    train = write(tmp_path / "t.jsonl", [b"{not json", chat("a b c", "d")])
    valid = write(tmp_path / "v.jsonl", [b"[1, 2]", chat("a b c", "d")])
    report = find_overlap(train, valid)
    assert [(p.kind, p.train_line, p.validation_line) for p in report.pairs] == [("exact", 2, 2)]
    assert (report.train_examples, report.validation_examples) == (1, 1)


def test_threshold_outside_range_is_refused(tmp_path: Path) -> None:
    train, valid, _, _ = build(tmp_path)
    with pytest.raises(ValueError, match="threshold"):
        find_overlap(train, valid, threshold=1.5)


def test_a_probing_collector_travels_without_the_index_it_probes(tmp_path: Path) -> None:
    # A byte range's copy of the collector goes to a forked worker and comes back: the index it probes (the
    # other file's signatures) must not be copied each way.
    import pickle

    from ftprep.overlap.compare import DigestCollector
    from ftprep.overlap_pass import scan_records

    _, valid, _, _ = build(tmp_path)
    small = DigestCollector(signatures=True)
    scan_records(str(valid), small)
    index = small.index
    assert index is not None
    large = DigestCollector(probe=index, probe_is_validation=True)
    travelled = pickle.loads(pickle.dumps(large))
    assert travelled.probe is index
    assert len(pickle.dumps(large)) < 1_000 < len(pickle.dumps(index)) - 5_000  # the index is not in it


@pytest.mark.parametrize("workers", [1, 2])
def test_the_leaks_are_the_same_in_one_process_and_two(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       workers: int) -> None:
    from ftprep import engine, parallel

    if not parallel.fork_available():
        pytest.skip("worker processes are forked")
    train, valid, expected, _ = build(tmp_path)
    # Both files cut into byte ranges checked by `workers` processes.
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "usable_cpus", lambda: workers)
    report = find_overlap(train, valid)
    assert {p.validation_line: (p.kind, p.train_line) for p in report.pairs} == expected
