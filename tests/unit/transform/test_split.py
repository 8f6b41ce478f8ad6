"""split_file: partition, groups, stratification, determinism, rejects, no overlap."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from ftprep.errors import ConfigError
from ftprep.overlap_pass import find_overlap
from ftprep.transform.split import output_stem, split_file


def chat(user: str, answer: str) -> bytes:
    return orjson.dumps({"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]})


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines() if path.exists() else []


def write(tmp_path: Path, lines: list[bytes], name: str = "data.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def test_default_outputs_sit_next_to_the_input(tmp_path: Path) -> None:
    source = write(tmp_path, [chat(f"q{i}", f"a{i}") for i in range(10)])
    result = split_file(source, valid_count=2)
    assert result.accounting.paths["train"] == str(tmp_path / "data.train.jsonl")
    assert len(lines_of(tmp_path / "data.train.jsonl")) == 8
    assert len(lines_of(tmp_path / "data.valid.jsonl")) == 2
    assert not (tmp_path / "data.rejects.jsonl").exists()


def test_output_stem_drops_data_suffixes() -> None:
    assert output_stem("dir/data.jsonl.gz") == Path("dir/data")
    assert output_stem("set.v2.json") == Path("set.v2")


def test_singleton_groups_hit_the_ratio_exactly(tmp_path: Path) -> None:
    source = write(tmp_path, [chat(f"question {i}", f"answer {i}") for i in range(200)])
    result = split_file(source, valid_ratio=0.15)
    assert result.accounting.outputs == {"train": 170, "valid": 30}
    assert result.groups == 200


def test_outputs_are_a_partition_of_the_input_lines(tmp_path: Path) -> None:
    records = [chat(f"question {i % 30}", f"answer {i}") for i in range(90)]
    source = write(tmp_path, records)
    split_file(source, valid_ratio=0.2)
    out = lines_of(tmp_path / "data.train.jsonl") + lines_of(tmp_path / "data.valid.jsonl")
    assert Counter(out) == Counter(records)


def test_same_prompt_never_straddles(tmp_path: Path) -> None:
    source = write(tmp_path, [chat(f"Question {i % 25}?", f"answer {i}") for i in range(100)])
    split_file(source, valid_ratio=0.2)
    prompt = {line: orjson.loads(line)["messages"][0]["content"] for line in lines_of(source)}
    train = {prompt[line] for line in lines_of(tmp_path / "data.train.jsonl")}
    valid = {prompt[line] for line in lines_of(tmp_path / "data.valid.jsonl")}
    assert train & valid == set()
    assert len(valid) == 5


def test_exact_grouping_lets_same_prompts_split_but_not_duplicates(tmp_path: Path) -> None:
    records = [chat("same question", f"answer {i}") for i in range(20)] + [chat("dup", "dup")] * 5
    source = write(tmp_path, records)
    split_file(source, valid_count=5, group_by="exact", seed=3)
    valid = lines_of(tmp_path / "data.valid.jsonl")
    train = lines_of(tmp_path / "data.train.jsonl")
    assert len(valid) == 5
    assert not (chat("dup", "dup") in valid and chat("dup", "dup") in train)


def test_normalized_grouping_joins_case_and_punctuation_variants(tmp_path: Path) -> None:
    records = [chat("What is the capital of France?", "Paris."), chat("what is the capital of france", "paris")]
    records += [chat(f"filler {i}", f"answer {i}") for i in range(20)]
    source = write(tmp_path, records)
    for seed in range(10):
        split_file(source, valid_count=4, group_by="normalized", seed=seed, force=True)
        valid = lines_of(tmp_path / "data.valid.jsonl")
        assert (records[0] in valid) == (records[1] in valid)


def test_near_duplicates_land_on_one_side(tmp_path: Path) -> None:
    base = ("Explain how photosynthesis turns sunlight water and carbon dioxide into glucose and oxygen "
            "inside the chloroplasts of green plant leaves during the day")
    records = [chat(base, "Light reactions then the Calvin cycle."),
               chat(base + " please", "Light reactions then the Calvin cycle.")]
    records += [chat(f"Unrelated question number {i} about topic {i * 7}", f"Reply {i}") for i in range(30)]
    source = write(tmp_path, records)
    for seed in range(8):
        result = split_file(source, valid_count=6, group_by="near", seed=seed, force=True)
        valid = lines_of(tmp_path / "data.valid.jsonl")
        assert (records[0] in valid) == (records[1] in valid)
    assert result.groups == 31


def test_split_result_has_no_overlap(tmp_path: Path) -> None:
    records = [chat(f"Question {i % 40}?", f"Answer {i}.") for i in range(120)]
    records += [chat(f"QUESTION {i}!", f"answer {i}") for i in range(10)]
    source = write(tmp_path, records)
    split_file(source, valid_ratio=0.2, group_by="near")
    report = find_overlap(tmp_path / "data.train.jsonl", tmp_path / "data.valid.jsonl")
    assert report.pairs == ()


def test_stratified_shares_stay_within_one_per_class(tmp_path: Path) -> None:
    labels = ["positive"] * 61 + ["negative"] * 29 + ["neutral"] * 10
    source = write(tmp_path, [chat(f"Review {i}", label) for i, label in enumerate(labels)])
    result = split_file(source, valid_ratio=0.2, stratify_by="/messages/-1/content")
    valid = Counter(orjson.loads(line)["messages"][-1]["content"] for line in lines_of(tmp_path / "data.valid.jsonl"))
    assert sum(valid.values()) == 20
    for label, share in (("positive", 0.61), ("negative", 0.29), ("neutral", 0.10)):
        assert abs(valid[label] - 20 * share) <= 1
    assert result.strata['"neutral"'] == {"records": 10, "valid_target": 2, "valid": 2}


def test_same_seed_same_split_other_seed_other_split(tmp_path: Path) -> None:
    source = write(tmp_path, [chat(f"q{i}", f"a{i}") for i in range(100)])
    split_file(source, valid_count=10, seed=1)
    first = lines_of(tmp_path / "data.valid.jsonl")
    split_file(source, valid_count=10, seed=1, force=True)
    assert lines_of(tmp_path / "data.valid.jsonl") == first
    split_file(source, valid_count=10, seed=2, force=True)
    assert lines_of(tmp_path / "data.valid.jsonl") != first


def test_invalid_lines_go_to_rejects_and_blank_lines_are_counted(tmp_path: Path) -> None:
    source = write(tmp_path, [chat(f"q{i}", f"a{i}") for i in range(10)] + [b"", b"{oops", b"[1, 2]"])
    result = split_file(source, valid_count=2)
    rejects = [orjson.loads(line) for line in lines_of(tmp_path / "data.rejects.jsonl")]
    assert [(r["line"], r["reasons"], r["raw"]) for r in rejects] == [(12, ["FT101"], "{oops"),
                                                                     (13, ["FT102"], "[1, 2]")]
    assert result.accounting.blank == 1
    assert result.accounting.balanced
    assert dict(result.accounting.reasons) == {"FT101": 1, "FT102": 1}


def test_bom_and_crlf_do_not_reach_the_outputs(tmp_path: Path) -> None:
    source = tmp_path / "data.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(chat(f"q{i}", f"a{i}") for i in range(10)) + b"\r\n")
    split_file(source, valid_count=3)
    out = (tmp_path / "data.train.jsonl").read_bytes() + (tmp_path / "data.valid.jsonl").read_bytes()
    assert b"\r" not in out and b"\xef\xbb\xbf" not in out
    assert len(out.splitlines()) == 10


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"valid_ratio": 1.0}, "between 0 and 1"),
    ({"valid_count": 10}, "leaves no example"),
    ({}, "exactly one of"),
    ({"valid_ratio": 0.1, "valid_count": 1}, "exactly one of"),
    ({"valid_count": 1, "group_by": "fuzzy"}, "unknown --group-by"),
])
def test_bad_options_are_refused_before_writing(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    source = write(tmp_path, [chat(f"q{i}", f"a{i}") for i in range(10)])
    with pytest.raises(ConfigError, match=message):
        split_file(source, **kwargs)  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl"]


def test_refuses_existing_outputs_without_force(tmp_path: Path) -> None:
    source = write(tmp_path, [chat(f"q{i}", f"a{i}") for i in range(10)])
    (tmp_path / "data.valid.jsonl").write_bytes(b"mine\n")
    with pytest.raises(ConfigError, match="already exists"):
        split_file(source, valid_count=2)
    assert (tmp_path / "data.valid.jsonl").read_bytes() == b"mine\n"
    assert not (tmp_path / "data.train.jsonl").exists()
