"""Choose the IndoSum articles to annotate: seeded, stratified by category and outlet.

    python scripts/select_corpus.py ../shared/corpus/indosum_unlabeled.jsonl \
        --output data/corpus/articles.jsonl

Every IndoSum category gets a quota (``--quota``); inside a category the articles are dealt
round-robin over its outlets, each outlet's articles in a seeded random order, so small
outlets are represented and no outlet dominates a section. Very short and very long articles
(counted in IndoSum's own sentences) are left out: a three-sentence article is mostly a
headline, a seventy-sentence one would fill a whole annotation batch.

The output keeps each article as IndoSum gives it (``id``, ``source``, ``category``, ``url``,
``text``), so the project's own cleaning and splitting apply to it like to any article.
The same corpus, seed and settings always give the same file.
"""

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from train.core.atomic import write_jsonl  # noqa: E402
from train.core.errors import KalimatError, exit_on_error  # noqa: E402
from train.data.segmentation_eval import corpus_records  # noqa: E402

DEFAULT_QUOTA = {"tajuk utama": 62, "olahraga": 42, "teknologi": 30, "showbiz": 30, "hiburan": 30, "inspirasi": 6}
FIELDS = ("id", "source", "category", "url", "text")


def sentence_count(record: dict) -> int:
    return sum(len(paragraph) for paragraph in record["paragraphs"])


def select(records: list[dict], quota: dict[str, int], seed: int, min_sentences: int, max_sentences: int) -> list[dict]:
    """Articles per category, round-robin over outlets; raises if a quota cannot be met."""
    rng = random.Random(seed)
    by_category: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for record in sorted(records, key=lambda r: r["id"]):
        if min_sentences <= sentence_count(record) <= max_sentences:
            by_category[record["category"]][record["source"]].append(record)
    chosen = []
    for category, wanted in quota.items():
        outlets = by_category.get(category, {})
        queues = [rng.sample(outlets[name], len(outlets[name])) for name in sorted(outlets)]
        picked = []
        while len(picked) < wanted and any(queues):
            for queue in queues:
                if queue and len(picked) < wanted:
                    picked.append(queue.pop())
        if len(picked) < wanted:
            raise KalimatError(f"category {category!r} has only {len(picked)} articles of "
                               f"{min_sentences}-{max_sentences} sentences; lower its quota")
        chosen += picked
    return [{key: record[key] for key in FIELDS} for record in chosen]


def check_quota(quota) -> dict[str, int]:
    if not isinstance(quota, dict) or not quota or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in quota.values()
    ) or sum(quota.values()) == 0:
        raise KalimatError(f"--quota {json.dumps(quota, ensure_ascii=False)}: give a JSON object of categories and "
                           'article counts of 0 or more, not all 0, e.g. \'{"olahraga": 40, "teknologi": 30}\'')
    return quota


@exit_on_error
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path, help="IndoSum JSONL, .jsonl or .jsonl.gz (id, source, category, url, "
                        "paragraphs, text)")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--min-sentences", type=int, default=6)
    parser.add_argument("--max-sentences", type=int, default=30)
    parser.add_argument("--quota", type=json.loads, default=DEFAULT_QUOTA,
                        help="JSON object: category -> number of articles")
    args = parser.parse_args(argv)
    quota = check_quota(args.quota)
    records = list(corpus_records(args.corpus, fields=(*FIELDS, "paragraphs")))
    chosen = select(records, quota, args.seed, args.min_sentences, args.max_sentences)
    write_jsonl(args.output, chosen)
    outlets = sorted({r["source"] for r in chosen})
    print(f"{len(chosen)} articles from {len(outlets)} outlets ({', '.join(outlets)}) -> {args.output}")


if __name__ == "__main__":
    main()
