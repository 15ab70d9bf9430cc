"""The dataset builder on the real seeds and annotations, and on every kind of bad input."""

import json
import shutil
import subprocess
import sys

import pytest
from hydra import compose, initialize_config_dir
from other_user import needs_permissions, run_restricted

from train.core.errors import KalimatError
from train.core.labels import LABELS
from train.core.paths import CONFIG_DIR, ROOT
from train import dataset as dataset_command
from train.data import build, store
from train.data.store import build_dataset, ensure_dataset, load_processed
from train.data.teacher import fit_teacher
from train.modeling.training import cv_phases
from train.core.metrics import macro_f1

SEEDS = ROOT / "seeds"
ANNOTATIONS = ROOT / "data" / "annotations" / "seeds.jsonl"


def dataset_cfg(tmp_path, *overrides, data="seeds"):
    """The dataset config; the five seed articles unless ``data=`` names another data config."""
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose("dataset", overrides=[f"data={data}", f"paths.processed_dir={tmp_path / 'processed'}",
                                             *overrides])


@pytest.fixture
def seeds_copy(tmp_path):
    """A writable copy of the seeds, for tests that damage or change an article."""
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    return folder


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_seed_sentence_has_a_gold_label(tmp_path, capsys):
    out = build_dataset(dataset_cfg(tmp_path))
    records = read_jsonl(out / "sentences.jsonl")
    assert len(records) > 100
    assert {r["label_source"] for r in records} == {"gold"}
    assert {r["label"] for r in records} == set(LABELS)
    assert set(records[0]) == {"article_id", "sentence_index", "text", "label", "label_source",
                               "rules", "weak_label", "split", "outlet", "category", "previous", "next"}
    printed = capsys.readouterr().out
    for label in LABELS:
        assert f"  {label}" in printed
    assert "reporting_verb" in printed  # each labeling function's coverage and accuracy


def test_outputs_agree_and_splits_are_grouped_by_article(tmp_path):
    out = build_dataset(dataset_cfg(tmp_path))
    dataset, metadata = load_processed(out)
    records = read_jsonl(out / "sentences.jsonl")
    assert sum(len(dataset[s]) for s in dataset) == len(records) == metadata["num_sentences"]
    assert dataset["train"].features["label"].names == list(LABELS)
    split_of = {}
    for r in records:
        assert split_of.setdefault(r["article_id"], r["split"]) == r["split"]
    assert sorted(set(split_of.values())) == ["test", "train", "validation"]
    card = (out / "dataset_card.md").read_text(encoding="utf-8")
    assert metadata["content_hash"] in card
    assert "Logo Bloomberg Technoz" in card  # the cleaning log names what was removed
    for label in LABELS:
        assert label in card


def test_same_inputs_give_the_same_content_hash(tmp_path):
    first = load_processed(build_dataset(dataset_cfg(tmp_path / "a")))[1]["content_hash"]
    second = load_processed(build_dataset(dataset_cfg(tmp_path / "b")))[1]["content_hash"]
    other_split = load_processed(build_dataset(dataset_cfg(tmp_path / "d", "data.split.test=0.4")))[1]
    assert first == second != other_split["content_hash"]


def test_the_committed_corpus_builds_with_every_annotation_matched(tmp_path, capsys):
    """The default dataset: seeds + the annotated IndoSum articles, every annotation finds its sentence."""
    out = build_dataset(dataset_cfg(tmp_path, data="news"))  # unmatched or missing annotations would raise
    records = read_jsonl(out / "sentences.jsonl")
    corpus = [r for r in records if r["outlet"] != "seeds"]
    assert len(corpus) >= 2500 and len({r["article_id"] for r in corpus}) >= 150
    assert {r["label_source"] for r in records} == {"gold"}
    assert {"tajuk utama", "olahraga", "teknologi", "showbiz", "hiburan", "inspirasi"} <= {r["category"] for r in corpus}
    assert len({r["outlet"] for r in corpus}) >= 5
    split_articles = {s: {r["article_id"] for r in records if r["split"] == s} for s in ("train", "validation", "test")}
    fixed = {line for line in (ROOT / "data" / "splits" / "test_articles.txt").read_text().splitlines()
             if line and not line.startswith("#")}
    assert split_articles["test"] == fixed  # the committed test set, whatever else the build changes
    assert all(r["split"] == "train" for r in records if r["outlet"] == "seeds")  # the rules were written from them
    _, metadata = load_processed(out)
    assert 0 < metadata["agreement"]["cohen_kappa"] <= 1 and metadata["agreement"]["sentences"] >= 500
    card = (out / "dataset_card.md").read_text(encoding="utf-8")
    for section in ("Per category", "Per outlet", "Annotator agreement", "Cohen's kappa", "rules baseline on the test"):
        assert section in card


def test_weak_only_articles_always_train_and_cv_folds_leave_the_test_split_out(tmp_path):
    extra = tmp_path / "extra.jsonl"
    extra.write_text("".join(json.dumps({"id": f"weak-{i}", "category": "olahraga", "text": "Tim itu menang 2-0. "
                                         "Pelatih senang."}) + "\n" for i in range(30)), encoding="utf-8")
    out = build_dataset(dataset_cfg(tmp_path, f"data.unlabeled_sources=[{extra}]", data="news"))
    dataset, _ = load_processed(out)
    records = read_jsonl(out / "sentences.jsonl")
    weak = {r["article_id"] for r in records if r["label_source"] == "weak"}
    assert len(weak) == 30 and all(r["split"] == "train" for r in records if r["article_id"] in weak)
    for split in ("validation", "test"):  # gold articles still fill validation and test
        assert len({r["article_id"] for r in records if r["split"] == split}) >= 25
    test_articles = {r["article_id"] for r in records if r["split"] == "test"}
    phases = cv_phases(dataset, 5, seed=42, train_only=["seeds"])
    scored = [a for phase in phases for a in phase.test_articles]
    assert len(scored) == len(set(scored))  # every article scored by one fold only
    assert not set(scored) & (test_articles | weak)
    assert not any(a.startswith("00") for a in scored)  # seeds (train_only) are never scored
    for phase in phases:
        assert weak <= set(phase.train["article_id"])


def test_a_changed_sentence_is_reported_not_relabeled(tmp_path, seeds_copy, capsys):
    article = seeds_copy / "002_1339c969938d1fb3.txt"
    old = "Lavrov juga mengatakan bahwa penasihat militer Barat Ukraina telah mendukung pasukan Ukraina sejak lama."
    text = article.read_text(encoding="utf-8")
    assert old in text
    article.write_text(text.replace(old, old.replace("sejak lama", "sejak 2014")), encoding="utf-8")
    cfg = dataset_cfg(tmp_path, f"data.sources=[{seeds_copy}]")
    with pytest.raises(KalimatError, match="1 annotations match no sentence.*1 sentences of annotated"):
        build_dataset(cfg)
    warnings = capsys.readouterr().err
    assert "seeds.jsonl:" in warnings and "Lavrov juga" in warnings
    out = build_dataset(dataset_cfg(tmp_path, f"data.sources=[{seeds_copy}]",
                                    "data.allow_unmatched_annotations=true",
                                    "data.allow_unlabeled_sentences=true"))
    (changed,) = [r for r in read_jsonl(out / "sentences.jsonl") if "sejak 2014" in r["text"]]
    assert changed["label_source"] == "weak" and changed["label"] == changed["weak_label"]


def test_unlabeled_articles_get_weak_labels_with_their_rules(tmp_path):
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"id": "baru", "text": (
        "Menteri itu mengatakan anggaran naik 20 persen. “Kami akan bekerja keras untuk rakyat,” ujarnya. "
        "Pemerintah seharusnya lebih transparan.")}) + "\n", encoding="utf-8")
    out = build_dataset(dataset_cfg(tmp_path, f"data.unlabeled_sources=[{extra}]"))
    weak = [r for r in read_jsonl(out / "sentences.jsonl") if r["article_id"] == "baru"]
    assert [r["label"] for r in weak] == ["claim", "quote", "opinion"]
    assert all(r["label_source"] == "weak" for r in weak)
    assert "number_or_estimate" in weak[0]["rules"] and "quote_with_speaker" in weak[1]["rules"]


def test_max_unlabeled_articles_reads_the_first_new_articles_in_file_order(tmp_path):
    # The annotated seed article first: it is read from data.sources and does not count.
    annotated = (SEEDS / "000_da2521d8e10fc030.txt").read_text(encoding="utf-8")
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"id": "000_da2521d8e10fc030", "text": annotated}) + "\n" + "".join(
        json.dumps({"id": f"baru-{i}", "text": f"Harga beras naik {i} persen."}) + "\n" for i in range(4)),
        encoding="utf-8")
    out = build_dataset(dataset_cfg(tmp_path, f"data.unlabeled_sources=[{extra}]", "data.max_unlabeled_articles=2"))
    records = read_jsonl(out / "sentences.jsonl")
    assert sorted({r["article_id"] for r in records if r["label_source"] == "weak"}) == ["baru-0", "baru-1"]
    with pytest.raises(KalimatError, match=r"^data.max_unlabeled_articles=-1: expected null \(all of them\) or a whole"):
        build_dataset(dataset_cfg(tmp_path, f"data.unlabeled_sources=[{extra}]", "data.max_unlabeled_articles=-1"))


def test_the_teacher_labels_unlabeled_sentences_from_the_gold_training_sentences(tmp_path, monkeypatch):
    # Three training sentences whose gold label the rules' vote misses, copied into a new
    # article; the teacher, fit on the gold training sentences, labels them as annotated.
    copied = {
        "Pertimbangan politik yang lebih luas juga berperan.": ("opinion", "background"),
        "Seperti Kim, Xi membantu perang Rusia.": ("claim", "background"),
        "Dia dan Putin menandatangani perjanjian pertahanan bersama pada bulan Juni.": ("background", "claim"),
    }
    annotated = (SEEDS / "000_da2521d8e10fc030.txt").read_text(encoding="utf-8")
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"id": "baru", "text": " ".join(copied)}) + "\n"
                     + json.dumps({"id": "000_da2521d8e10fc030", "text": annotated}) + "\n", encoding="utf-8")
    plain = read_jsonl(build_dataset(dataset_cfg(tmp_path / "plain")) / "sentences.jsonl")
    fitted_on = []
    monkeypatch.setattr(build, "fit_teacher", lambda records: fitted_on.extend(records) or fit_teacher(records))
    out = build_dataset(dataset_cfg(tmp_path, f"data.unlabeled_sources=[{extra}]", "data.weak_labeler=teacher"))
    records = read_jsonl(out / "sentences.jsonl")

    gold = {r["text"]: r for r in plain}
    assert all(gold[text]["split"] == "train" and gold[text]["label"] == label for text, (label, _) in copied.items())
    assert {(r["split"], r["label_source"]) for r in fitted_on} == {("train", "gold")}
    assert len(fitted_on) == sum(r["split"] == "train" for r in plain)  # every gold training sentence, no other
    weak = [r for r in records if r["label_source"] == "weak"]
    assert [(r["label"], r["weak_label"]) for r in weak] == list(copied.values())
    # The annotated article is read once, with its gold labels; no gold record changed.
    assert [r for r in records if r["label_source"] == "gold"] == plain

    card = (out / "dataset_card.md").read_text()
    assert "weak labels by a logistic regression on TF-IDF and the labeling functions" in card
    _, metadata = load_processed(out)
    validation = [r for r in plain if r["split"] == "validation"]
    teacher = metadata["teacher_on_validation"]
    assert teacher["sentences"] == len(validation) > 0
    assert teacher["rules_macro_f1"] == macro_f1([r["label"] for r in validation], [r["weak_label"] for r in validation])
    assert teacher["macro_f1"] == macro_f1([r["label"] for r in validation],
                                           list(fit_teacher([r for r in plain if r["split"] == "train"]).predict(validation)))
    assert f"The teacher's macro-F1 on the {len(validation)} validation sentences: {teacher['macro_f1']:.3f}" in card
    assert metadata["weak_labeler"] == "teacher"


def test_an_unknown_weak_labeler_is_named_with_the_choices(tmp_path):
    with pytest.raises(KalimatError, match="^data.weak_labeler=oracle: expected one of rules, teacher$"):
        build_dataset(dataset_cfg(tmp_path, "data.weak_labeler=oracle"))


def test_another_article_under_a_taken_id_still_fails(tmp_path):
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"id": "000_da2521d8e10fc030", "text": "Artikel lain sama sekali."}) + "\n",
                     encoding="utf-8")
    with pytest.raises(KalimatError, match="article id '000_da2521d8e10fc030' appears in"):
        build_dataset(dataset_cfg(tmp_path, f"data.unlabeled_sources=[{extra}]"))


@pytest.mark.parametrize("name, content, message", [
    ("binary.txt", b"\x00\x01\x02PNG", "binary"),
    ("latin.txt", "Caf\xe9 di Jakarta.".encode("latin-1"), "not valid UTF-8"),
    ("empty.txt", b"\n  \n", "empty article"),
])
def test_bad_files_fail_the_build_or_are_skipped(tmp_path, seeds_copy, capsys, name, content, message):
    (seeds_copy / name).write_bytes(content)
    with pytest.raises(KalimatError, match=message) as err:
        build_dataset(dataset_cfg(tmp_path, f"data.sources=[{seeds_copy}]"))
    assert name in str(err.value)
    out = build_dataset(dataset_cfg(tmp_path, f"data.sources=[{seeds_copy}]", "data.on_bad_file=skip"))
    assert f"warning: skipped: {seeds_copy / name}" in capsys.readouterr().err
    assert len({r["article_id"] for r in read_jsonl(out / "sentences.jsonl")}) == 5


@needs_permissions
def test_unreadable_files_and_folders_fail_the_build_or_are_skipped(tmp_path, seeds_copy):
    (seeds_copy / "locked").mkdir()
    (seeds_copy / "locked" / "lost.txt").write_text("Artikel yang hilang.", encoding="utf-8")
    (seeds_copy / "secret.txt").write_text("Artikel rahasia.", encoding="utf-8")
    (seeds_copy / "locked").chmod(0)
    (seeds_copy / "secret.txt").chmod(0)
    build = ["-m", "train.dataset", "data=seeds", f"data.sources=[{seeds_copy}]",
             f"paths.processed_dir={tmp_path / 'processed'}"]
    try:
        failed = run_restricted(build, cwd=tmp_path)
        skipped = run_restricted([*build, "data.on_bad_file=skip"], cwd=tmp_path)
    finally:
        (seeds_copy / "locked").chmod(0o755)
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines() == [
        f"error: {seeds_copy / 'locked'}: folder cannot be read (Permission denied); its articles are left out, "
        "fix its permissions"]
    assert skipped.returncode == 0, skipped.stderr
    assert [line for line in skipped.stderr.splitlines() if line.startswith("warning: skipped")] == [
        f"warning: skipped: {seeds_copy / 'locked'}: folder cannot be read (Permission denied); its articles are left "
        "out, fix its permissions",
        f"warning: skipped: {seeds_copy / 'secret.txt'}: cannot be read (Permission denied); check the file and its "
        "permissions",
    ]
    records = read_jsonl(tmp_path / "processed" / "seeds" / "sentences.jsonl")
    assert len({r["article_id"] for r in records}) == 5


def test_bad_settings_and_paths(tmp_path):
    with pytest.raises(KalimatError, match="no such file"):
        build_dataset(dataset_cfg(tmp_path, f"data.sources=[{tmp_path / 'nowhere'}]"))
    with pytest.raises(KalimatError, match="on_bad_file"):
        build_dataset(dataset_cfg(tmp_path, "data.on_bad_file=maybe"))
    with pytest.raises(KalimatError, match="annotation file not found"):
        build_dataset(dataset_cfg(tmp_path, f"data.annotations=[{tmp_path / 'none.jsonl'}]"))


@pytest.mark.parametrize("line, message", [
    ('{"article_id": "a", "text": "t", "label": "fact"}', "unknown label 'fact' in .*bad.jsonl:1"),
    ('{"article_id": "a", "text": "t"', "bad.jsonl:1: malformed JSON"),
    ('{"article_id": "a", "label": "claim"}', 'bad.jsonl:1: needs string fields'),
])
def test_bad_annotation_lines_name_file_and_line(tmp_path, line, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(KalimatError, match=message):
        build_dataset(dataset_cfg(tmp_path, f"data.annotations=[{bad}]"))


def test_a_sentence_annotated_twice_is_refused(tmp_path):
    row = json.loads(ANNOTATIONS.read_text(encoding="utf-8").splitlines()[0])
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**row, "text": row["text"].replace(" ", "  ", 1), "label": "opinion"}) + "\n")
    with pytest.raises(KalimatError, match=rf"bad.jsonl:1: article {row['article_id']} holds the sentence .* 1 time\(s\), "
                                           r"but it is annotated again here \(first at .*seeds.jsonl:1\); keep one"):
        build_dataset(dataset_cfg(tmp_path, f"data.annotations=[{ANNOTATIONS},{bad}]"))


def test_a_text_repeated_in_an_article_is_labeled_occurrence_by_occurrence(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "list.txt").write_text("Ada dua cara.\n\nTabungan\n\nCara pertama ialah menabung.\n\nTabungan\n\nIa pulang.\n")
    labels = ["claim", "background", "claim", "quote", "background"]
    texts = ["Ada dua cara.", "Tabungan", "Cara pertama ialah menabung.", "Tabungan", "Ia pulang."]
    annotations = tmp_path / "list.jsonl"
    annotations.write_text("".join(json.dumps({"article_id": "list", "text": t, "label": lab}) + "\n"
                                   for t, lab in zip(texts, labels)))
    out = build_dataset(dataset_cfg(tmp_path, f"data.sources=[{folder},{SEEDS}]",
                                    f"data.annotations=[{annotations},{ANNOTATIONS}]"))
    records = [r for r in read_jsonl(out / "sentences.jsonl") if r["article_id"] == "list"]
    assert [(r["text"], r["label"]) for r in records] == list(zip(texts, labels))


def test_failed_build_leaves_the_previous_dataset_intact(tmp_path, seeds_copy):
    out = build_dataset(dataset_cfg(tmp_path, f"data.sources=[{seeds_copy}]"))
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    (seeds_copy / "broken.txt").write_bytes(b"\x00binary")
    with pytest.raises(KalimatError):
        build_dataset(dataset_cfg(tmp_path, f"data.sources=[{seeds_copy}]"))
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert [p.name for p in out.parent.iterdir()] == ["seeds"]  # no temporary folder left behind


def test_ensure_dataset_rebuilds_only_when_inputs_change(tmp_path, seeds_copy):
    cfg = dataset_cfg(tmp_path, f"data.sources=[{seeds_copy}]")
    out = ensure_dataset(cfg)
    stamp = (out / "metadata.json").stat().st_mtime_ns
    assert ensure_dataset(cfg) == out and (out / "metadata.json").stat().st_mtime_ns == stamp
    annotations = tmp_path / "annotations.jsonl"  # a relabeled sentence is a changed input too
    annotations.write_text(ANNOTATIONS.read_text(encoding="utf-8").replace('"label": "background"', '"label": "claim"', 1))
    ensure_dataset(dataset_cfg(tmp_path, f"data.sources=[{seeds_copy}]", f"data.annotations=[{annotations}]"))
    assert (out / "metadata.json").stat().st_mtime_ns != stamp
    extra = seeds_copy / "005_new.txt"
    extra.write_text("Sebuah artikel baru. Isinya pendek.", encoding="utf-8")
    cfg = dataset_cfg(tmp_path, f"data.sources=[{seeds_copy}]", "data.allow_unlabeled_sentences=true")
    ensure_dataset(cfg)
    assert "005_new" in (out / "sentences.jsonl").read_text(encoding="utf-8")


def test_cli_reports_one_line_error_and_exit_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "train.dataset", f"paths.processed_dir={tmp_path}", "data.on_bad_file=maybe"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: data.on_bad_file='maybe'; use fail or skip"
    ]
    assert not any(tmp_path.iterdir())


def test_a_sweep_builds_each_dataset_and_writes_nothing_into_the_current_folder(tmp_path):
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "train.dataset", "-m", "data=seeds", "data.name=a,b",
         f"paths.processed_dir={tmp_path / 'processed'}", f"paths.runs_dir={tmp_path / 'runs'}"],
        cwd=workdir, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "processed").iterdir()) == ["a", "b"]
    assert not any(workdir.iterdir())  # Hydra's multirun/ folder went here before
    (sweep,) = (tmp_path / "runs" / "multirun").iterdir()
    assert [p.name for p in sweep.iterdir()] == ["multirun.yaml"]


def test_a_dataset_built_with_another_label_order_is_refused(tmp_path):
    out = build_dataset(dataset_cfg(tmp_path))
    metadata = json.loads((out / "metadata.json").read_text())
    metadata["labels"] = list(reversed(metadata["labels"]))
    (out / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(KalimatError, match="built with the labels .*; rebuild it with python -m train.dataset"):
        load_processed(out)


@pytest.mark.parametrize("override, message", [
    ("data.name=''", "data.name=: expected a plain folder name"),
    ("data.name=..", "data.name=..: expected a plain folder name"),
    ("data.name=null", "data.name=null: expected a plain folder name"),
    ("data.name=a/b", "data.name=a/b: expected a plain folder name"),
    ("paths.processed_dir=''", "paths.processed_dir=: expected a path"),
])
def test_a_dataset_name_or_path_that_is_no_folder_of_its_own_is_refused(tmp_path, override, message):
    """data.name='' made processed/ itself the dataset, deleting every other dataset in it; an empty
    paths.processed_dir wrote at the filesystem root. (The missing source keeps a build that lets
    them through from writing anything.)"""
    other = tmp_path / "processed" / "other"
    other.mkdir(parents=True)
    with pytest.raises(KalimatError, match=f"^{message}"):
        build_dataset(dataset_cfg(tmp_path, override, f"data.sources=[{tmp_path / 'nowhere'}]"))
    assert [p.name for p in (tmp_path / "processed").iterdir()] == ["other"]


def test_only_a_dataset_or_an_empty_folder_is_replaced(tmp_path):
    mine = tmp_path / "mydocs"
    mine.mkdir()
    (mine / "thesis.txt").write_text("precious")
    with pytest.raises(KalimatError, match=f"^data.output_dir={mine}: holds files that are not a dataset"):
        build_dataset(dataset_cfg(tmp_path, f"data.output_dir={mine}"))
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(KalimatError, match=f"^data.output_dir={afile}: is a file, not a dataset folder"):
        build_dataset(dataset_cfg(tmp_path, f"data.output_dir={afile}"))
    with pytest.raises(KalimatError, match=f"^data.output_dir={afile}/seeds: {afile} is a file, not a folder"):
        build_dataset(dataset_cfg(tmp_path, f"paths.processed_dir={afile}"))
    assert [p.name for p in mine.iterdir()] == ["thesis.txt"] and afile.read_text() == "x"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert build_dataset(dataset_cfg(tmp_path, f"data.output_dir={empty}")) == empty
    build_dataset(dataset_cfg(tmp_path, f"data.output_dir={empty}"))  # a dataset now: replaced
    assert (empty / "metadata.json").is_file()


@pytest.mark.parametrize("override, message", [
    # a string was matched as a substring: "seeds" in "xseedsx" made every seed article train-only
    ("data.split.train_only=xseedsx",
     r"data.split.train_only=xseedsx: expected a list of outlet names, e.g. data.split.train_only=\[xseedsx\]$"),
    ("data.split.train_only=null", r"data.split.train_only=null: expected a list of outlet names"),
    ("data.split.train_only=5", r"data.split.train_only=5: expected a list of outlet names"),
    ("data.sources=[5]", r"data.sources=\[5\]: expected a list of paths"),
    ("data.annotations=null", r"data.annotations=null: expected a list of paths"),
])
def test_list_settings_given_as_anything_else_are_named(tmp_path, override, message):
    with pytest.raises(KalimatError, match=f"^{message}"):
        build_dataset(dataset_cfg(tmp_path, override))
    assert not (tmp_path / "processed").exists()


def test_ctrl_c_is_one_line_and_leaves_the_previous_dataset(tmp_path, monkeypatch, capsys):
    """Ctrl-C while the new dataset is written: exit 130 with one line, the old dataset whole, no temporary folder."""
    out = build_dataset(dataset_cfg(tmp_path))
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    capsys.readouterr()

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "write_jsonl", interrupted)
    monkeypatch.setattr(sys, "argv", ["train.dataset", "data=seeds", f"paths.processed_dir={tmp_path / 'processed'}",
                                      "data.split.test=0.4"])
    with pytest.raises(SystemExit) as exit_:
        dataset_command.main()
    assert exit_.value.code == 130
    assert capsys.readouterr().err.splitlines() == [
        "error: interrupted; no dataset was written, a previous one is left as it was"]
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert [p.name for p in out.parent.iterdir()] == ["seeds"]


def test_a_damaged_dataset_is_rebuilt_by_training_and_named_when_loaded(tmp_path, seeds_copy, capsys):
    """metadata.json intact but parts of dataset_dict/ deleted: the fingerprint alone trusted it (a traceback)."""
    cfg = dataset_cfg(tmp_path, f"data.sources=[{seeds_copy}]")
    out = ensure_dataset(cfg)
    content_hash = json.loads((out / "metadata.json").read_text())["content_hash"]
    shutil.rmtree(out / "dataset_dict" / "train")
    with pytest.raises(KalimatError, match=f"^{out} is incomplete or damaged .*; rebuild it with python -m train.dataset"):
        load_processed(out)
    capsys.readouterr()
    assert ensure_dataset(cfg) == out
    assert f"{out} is incomplete or damaged" in capsys.readouterr().out
    dataset, metadata = load_processed(out)
    assert metadata["content_hash"] == content_hash and len(dataset["train"]) > 0
    next((out / "dataset_dict" / "test").glob("*.arrow")).unlink()
    ensure_dataset(cfg)
    assert len(load_processed(out)[0]["test"]) > 0


def test_an_empty_annotations_file_shows_a_few_warnings_and_a_count(tmp_path, capsys):
    """Every sentence unlabeled printed one warning each (3,186 lines for the default dataset) before the error."""
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(KalimatError, match=r"^(\d+) sentences of annotated articles have no annotation") as err:
        build_dataset(dataset_cfg(tmp_path, f"data.annotations=[{empty}]"))
    unlabeled = int(err.value.args[0].split()[0])
    warnings = capsys.readouterr().err.splitlines()
    assert len(warnings) == build.SHOWN_WARNINGS + 1 and unlabeled > build.SHOWN_WARNINGS
    assert all(": no annotation for sentence " in line for line in warnings[:-1])
    assert warnings[-1] == f"warning: ... and {unlabeled - build.SHOWN_WARNINGS} more sentences without an annotation"
