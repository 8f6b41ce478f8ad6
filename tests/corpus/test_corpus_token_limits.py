"""On every corpus row, the token-limit test's byte bound is at least the exact count, and its decision at a
limit one under and at the count is the exact one (gpt-4o-mini's o200k_base and gpt-3.5-turbo's cl100k_base)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ftprep.data.models import resolve_model
from ftprep.formats.detect import detect_format
from ftprep.tokens.accounting import Accountant
from ftprep.tokens.encoding import get_encoding
from ftprep.tokens.limits import byte_bound, tokens_over
from tests.conftest import CORPUS

pytestmark = [pytest.mark.corpus,
              pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside this clone")]

FILES = sorted(CORPUS.rglob("*.jsonl")) if CORPUS.is_dir() else []


@pytest.mark.parametrize("model_name", ["gpt-4o-mini", "gpt-3.5-turbo"])
def test_the_bound_and_the_decision_hold_on_every_corpus_row(model_name: str) -> None:
    model = resolve_model(model_name)
    accountant = Accountant(get_encoding(model.encoding), model)
    bound = byte_bound(model)
    assert bound is not None
    rows = 0
    for path in FILES:
        for line in Path(path).read_bytes().splitlines():
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            kind = detect_format(record) if isinstance(record, dict) else None
            if kind is None:
                continue
            total = accountant.count(record, kind).total
            assert bound.count(record, kind).total >= total, (path, line[:80])
            for limit in (total - 1, total):
                expected = total if total > limit else None
                assert tokens_over(record, kind, limit, bound, lambda: accountant) == expected, (path, limit)
            rows += 1
    assert rows > 20_000
