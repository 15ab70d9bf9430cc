"""scripts/select_corpus.py reads the committed IndoSum corpus and refuses bad settings in one line."""

import json
import subprocess
import sys

import pytest

from train.core.paths import INDOSUM, ROOT

SCRIPT = ROOT / "scripts" / "select_corpus.py"


def select(*arguments, cwd):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, arguments)], capture_output=True, text=True, cwd=cwd)


def test_selects_from_the_gzipped_corpus_by_quota(tmp_path):
    output = tmp_path / "articles.jsonl"
    result = select(INDOSUM, "--output", output, "--quota", '{"olahraga": 3, "teknologi": 2}', cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    articles = [json.loads(line) for line in output.read_text().splitlines()]
    assert [a["category"] for a in articles] == ["olahraga"] * 3 + ["teknologi"] * 2
    assert all(set(a) == {"id", "source", "category", "url", "text"} for a in articles)


@pytest.mark.parametrize("arguments, message", [
    ([INDOSUM, "--quota", "[1]"], "--quota [1]: give a JSON object"),
    ([INDOSUM, "--quota", '{"olahraga": -1}'], '--quota {"olahraga": -1}: give a JSON object'),
    ([INDOSUM, "--quota", '{"olahraga": 0}'], "not all 0"),
    (["missing.jsonl"], "missing.jsonl: corpus file not found"),
    ([INDOSUM, "--quota", '{"olahraga": 100000}'], "'olahraga' has only"),
])
def test_bad_settings_fail_in_one_line_and_write_nothing(tmp_path, arguments, message):
    result = select(*arguments, "--output", tmp_path / "out.jsonl", cwd=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and message in line
    assert not (tmp_path / "out.jsonl").exists()
