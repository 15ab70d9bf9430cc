import json
import math
import shutil
import subprocess
import sys

import numpy as np
import pytest
from report_fixtures import gold_labels, predictions_with_accuracy, write_run

from train.core.paths import ROOT
from train.reporting.compare import load_runs, main, paired_test
from train.core.metrics import macro_f1
from train.reporting.evaluation import bootstrap_macro_f1

N = 300
GOLD = gold_labels(N)
RIGHT_60 = predictions_with_accuracy(GOLD, set(range(180)))
RIGHT_90 = predictions_with_accuracy(GOLD, set(range(270)))
RIGHT_61 = predictions_with_accuracy(GOLD, set(range(183)))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    write_run(root / "base", GOLD, RIGHT_60)
    write_run(root / "same", GOLD, RIGHT_60, hyperparameters={"trainer.learning_rate": 3e-5})
    write_run(root / "good", GOLD, RIGHT_90, hyperparameters={"trainer.learning_rate": 1e-4})
    write_run(root / "close", GOLD, RIGHT_61)
    write_run(root / "base-cv", GOLD, RIGHT_90, cv_gold=GOLD, cv_pred=RIGHT_60)
    write_run(root / "good-cv", GOLD, RIGHT_90, cv_gold=GOLD, cv_pred=RIGHT_90)
    write_run(root / "other-data", GOLD, RIGHT_90, content_hash="0123456789abcdef")
    write_run(root / "other-sentences", GOLD[:200], RIGHT_90[:200])
    write_run(root / "evil", GOLD, RIGHT_60, run_name="<script>alert(1)</script>")
    write_run(root / "dollar", GOLD, RIGHT_60, run_name="lr $\\frac$ run")
    for job in range(11):
        write_run(root / "multirun" / "20261122-101010" / str(job), GOLD, RIGHT_60, run_name=f"job{job}")
    return root


def compare(capsys, *args):
    main([str(arg) for arg in args])
    return capsys.readouterr().out


def table_row(output, run_name):
    """The run's row of the main table."""
    table = output.split("## Paired tests")[0]
    return next(line for line in table.splitlines() if line.startswith(f"| {run_name} |"))


def paired_row(output, run_name):
    """The run's row of the paired-tests table, without the run name."""
    return output.split("## Paired tests")[1].split(f"| {run_name} |")[1].splitlines()[0]


def test_identical_predictions_show_no_significant_difference(runs, capsys):
    output = compare(capsys, runs / "base", runs / "same")
    assert paired_row(output, "same").rstrip().endswith("| no significant difference |")
    assert " test split | 300 | +0.000 |" in paired_row(output, "same")


def test_a_run_that_fixes_many_errors_is_better_and_the_reverse_worse(runs, capsys):
    output = compare(capsys, runs / "base", runs / "good")
    row = paired_row(output, "good")
    assert "| 90 / 0 |" in row and row.rstrip().endswith("| better |")

    output = compare(capsys, runs / "good", runs / "base")
    assert paired_row(output, "base").rstrip().endswith("| worse |")


def test_a_small_difference_is_not_significant(runs, capsys):
    output = compare(capsys, runs / "base", runs / "close")
    row = paired_row(output, "close")
    assert "| 3 / 0 |" in row and "(exact)" in row
    assert row.rstrip().endswith("| no significant difference |")


def _paired(runs, base: str, other: str):
    baseline, run = load_runs([runs / base / "report.json", runs / other / "report.json"])
    return paired_test(baseline, run)


def test_paired_test_values_match_direct_computations(runs):
    """The p-values and the interval themselves, not only the verdict they lead to."""
    test = _paired(runs, "base", "close")  # 3 sentences fixed, none broken: the exact binomial
    assert (test.fixed, test.broken, test.mcnemar_method) == (3, 0, "exact")
    assert test.mcnemar_p == pytest.approx(2 * 0.5 ** 3)  # two-sided: P(3 of 3) + P(0 of 3)
    assert test.delta == pytest.approx(macro_f1(GOLD, RIGHT_61) - macro_f1(GOLD, RIGHT_60))

    test = _paired(runs, "base", "good")  # 90 fixed, 0 broken: continuity-corrected chi-square
    assert test.mcnemar_method == "chi-square"
    statistic = (90 - 0 - 1) ** 2 / 90
    assert test.mcnemar_p == pytest.approx(math.erfc(math.sqrt(statistic / 2)))  # chi-square sf, 1 df
    # The interval of the difference: percentiles of the paired bootstrap over the same resamples.
    scores = bootstrap_macro_f1(GOLD, [RIGHT_60, RIGHT_90], seed=0, n_resamples=1000)
    assert test.delta_interval == pytest.approx(list(np.percentile(scores[:, 1] - scores[:, 0], [2.5, 97.5])))
    assert test.bootstrap_p == pytest.approx(2 / 1001)  # no resample favours the baseline


def test_cross_validation_predictions_are_preferred(runs, capsys):
    # Both runs are equally good on the test split, but "good-cv" is better out of fold.
    output = compare(capsys, runs / "base-cv", runs / "good-cv")
    row = paired_row(output, "good-cv")
    assert "cross-validation out-of-fold (pooled)" in row and row.rstrip().endswith("| better |")
    # With only one run having cross-validation predictions, the test predictions are used.
    assert " test split |" in paired_row(compare(capsys, runs / "base", runs / "good-cv"), "good-cv")


def test_only_differing_hyperparameters_are_shown(runs, capsys):
    output = compare(capsys, runs / "base", runs / "same", runs / "good")
    header = output.splitlines()[4]
    assert "trainer.learning_rate" in header
    assert "seed" not in header and "num_train_epochs" not in header
    assert "| 3e-05 |" in table_row(output, "same") and "| 0.0001 |" in table_row(output, "good")
    assert "| +0.300 |" in table_row(output, "good")


def test_baseline_option(runs, capsys):
    output = compare(capsys, runs / "base", runs / "good", "--baseline", "good")
    assert table_row(output, "good (baseline)")
    assert paired_row(output, "base").rstrip().endswith("| worse |")


def test_different_data_is_refused_unless_allowed(runs, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([str(runs / "base"), str(runs / "other-data")])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("error: other-data (01234567) evaluated on different data") and error.count("\n") == 1
    assert "--allow-different-data" in error

    output = compare(capsys, runs / "base", runs / "other-data", runs / "good", "--allow-different-data")
    assert table_row(output, "other-data †")
    assert "| other-data |" not in output.split("## Paired tests")[1]
    assert paired_row(output, "good").rstrip().endswith("| better |")


def test_runs_on_other_sentences_are_not_paired(runs, capsys):
    output = compare(capsys, runs / "base", runs / "other-sentences")
    assert "not tested: evaluated on different sentences" in paired_row(output, "other-sentences")


def test_globs_and_multirun_folders_expand_in_order(runs, capsys):
    output = compare(capsys, runs / "multirun" / "20261122-101010")
    table = output.split("## Paired tests")[0]
    names = [line.split(" |")[0][2:] for line in table.splitlines() if line.startswith("| job")]
    assert names == ["job0 (baseline)", *(f"job{i}" for i in range(1, 11))]

    # The same run named twice (as a folder and as its report.json) is compared once.
    table = compare(capsys, f"{runs}/go*", runs / "base" / "report.json", runs / "base").split("## Paired tests")[0]
    names = [line.split(" |")[0][2:] for line in table.strip().splitlines()[6:]]
    assert names == ["good (baseline)", "good-cv", "base"]


def test_html_output_escapes_text_and_embeds_the_plot(runs, tmp_path, capsys):
    page, plot = tmp_path / "cmp.html", tmp_path / "f1.png"
    compare(capsys, runs / "base", runs / "evil", "--output", page, "--plot", plot)
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'src="data:image/png;base64,' in html
    assert plot.read_bytes().startswith(b"\x89PNG")

    markdown = compare(capsys, runs / "base", runs / "evil")
    assert "<script>" not in markdown and "&lt;script>" in markdown


def test_a_dollar_in_a_run_name_is_text_in_the_plot(runs, tmp_path, capsys):
    plot = tmp_path / "f1.png"
    compare(capsys, runs / "base", runs / "dollar", "--plot", plot)
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_markdown_output_file_links_the_plot(runs, tmp_path, capsys):
    (tmp_path / "out").mkdir()
    markdown = tmp_path / "out" / "cmp.md"
    compare(capsys, runs / "base", runs / "good", "--output", markdown, "--plot", tmp_path / "f1.png")
    assert "![per-class F1 per run](../f1.png)" in markdown.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing-run"], "error: missing-run does not exist; pass run directories"),
        (["nothing-*"], "error: no file or folder matches 'nothing-*'"),
        (["RUNS/base", "--output", "cmp.txt"], "error: --output cmp.txt: give a file name ending in .md"),
        (["RUNS/base", "--baseline", "nobody"], "error: --baseline nobody: no such run; the runs are base"),
        (["RUNS/base", "RUNS/empty"], "error: RUNS/empty holds no report.json"),
        (["RUNS/base", "--output", "RUNS/empty.md"], "error: --output RUNS/empty.md: is a folder"),
        (["RUNS/base", "RUNS/good", "--output", "RUNS/good/report.md"],
         "error: --output RUNS/good/report.md: RUNS/good is a run or model folder"),
        (["RUNS/base", "RUNS/good", "--plot", "RUNS/base/confusion_matrix.png"],
         "error: --plot RUNS/base/confusion_matrix.png: RUNS/base is a run or model folder"),
        # A run that is not compared, and a new file name: never written into either.
        (["RUNS/base", "RUNS/same", "--output", "RUNS/good/cmp.md"],
         "error: --output RUNS/good/cmp.md: RUNS/good is a run or model folder"),
        (["RUNS/base", "RUNS/typed"], "error: RUNS/typed/report.json: run_name, metrics.macro_f1 have the wrong type"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(runs, capsys, args, message):
    (runs / "empty").mkdir(exist_ok=True)
    (runs / "empty.md").mkdir(exist_ok=True)
    if not (runs / "typed").exists():
        shutil.copytree(runs / "base", runs / "typed")
        report = json.loads((runs / "typed" / "report.json").read_text())
        report["run_name"], report["metrics"]["macro_f1"] = 5, None
        (runs / "typed" / "report.json").write_text(json.dumps(report))
    args = [arg.replace("RUNS", str(runs)) for arg in args]
    message = message.replace("RUNS", str(runs))
    before = {p: p.read_bytes() for p in (runs / "good").iterdir()}
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    error = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert error.startswith(message) and error.count("\n") == 1
    assert {p: p.read_bytes() for p in (runs / "good").iterdir()} == before


def test_script_runs_from_the_command_line(runs):
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "compare_reports.py"), str(runs / "base"), str(runs / "nowhere")],
        capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def _edited_copy(runs, tmp_path, name, edit_report=None, edit_predictions=None):
    """A copy of run "base" with its report or its prediction records edited."""
    run_dir = tmp_path / name
    shutil.copytree(runs / "base", run_dir)
    if edit_report:
        report = json.loads((run_dir / "report.json").read_text())
        edit_report(report)
        (run_dir / "report.json").write_text(json.dumps(report))
    if edit_predictions:
        lines = (run_dir / "predictions.jsonl").read_text().splitlines()
        records = [json.loads(line) for line in lines]
        edit_predictions(records[3])
        (run_dir / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return run_dir


@pytest.mark.parametrize(("edit_report", "edit_predictions", "message"), [
    (lambda r: r.update(hyperparameters=None), None, "report.json: hyperparameters have the wrong type"),
    (lambda r: r.update(timing=None), None, "report.json: timing have the wrong type"),
    (lambda r: r["timing"].update(train_seconds="long"), None, "report.json: timing.train_seconds have the wrong"),
    (lambda r: r.update(predictions=["predictions.jsonl"]), None, "report.json lacks predictions.test"),
    (None, lambda record: record.update(label="Claim"), "predictions.jsonl:4: not a prediction record"),
    (None, lambda record: record.pop("gold"), "predictions.jsonl:4: not a prediction record"),
])
def test_a_malformed_report_or_prediction_file_is_one_line(runs, tmp_path, capsys, edit_report, edit_predictions,
                                                           message):
    broken = _edited_copy(runs, tmp_path, "broken", edit_report, edit_predictions)
    with pytest.raises(SystemExit) as exit_info:
        main([str(runs / "base"), str(broken)])
    error = capsys.readouterr().err
    assert exit_info.value.code == 2 and error.count("\n") == 1
    assert error.startswith(f"error: {broken}") and message in error


def test_outputs_are_checked_before_anything_is_written(runs, tmp_path, capsys):
    (tmp_path / "somefile").write_text("")
    plot = tmp_path / "plots" / "f1.png"
    with pytest.raises(SystemExit):
        main([str(runs / "base"), str(runs / "good"), "--output", str(tmp_path / "somefile" / "cmp.md"),
              "--plot", str(plot)])
    assert "somefile is a file, not a folder" in capsys.readouterr().err
    assert not plot.exists()


def test_never_writes_into_a_model_folder(runs, tmp_path, capsys):
    model = tmp_path / "models" / "base"
    model.mkdir(parents=True)
    (model / "model.safetensors").write_bytes(b"")
    with pytest.raises(SystemExit):
        main([str(runs / "base"), "--output", str(model / "README.md")])
    assert f"{model} is a run or model folder" in capsys.readouterr().err
    assert not (model / "README.md").exists()


def test_an_exported_model_folder_is_answered_with_the_run_folder_to_pass(runs, tmp_path, capsys):
    model = tmp_path / "models" / "good"
    model.mkdir(parents=True)
    shutil.copy(runs / "good" / "report.json", model)
    (model / "config.json").write_text("{}")
    with pytest.raises(SystemExit):
        main([str(runs / "base"), str(model)])
    error = capsys.readouterr().err
    assert error.startswith(f"error: {model} is an exported model folder") and "runs/<run_name>" in error


def test_the_same_run_twice_is_noted_and_an_ambiguous_baseline_refused(runs, tmp_path, capsys):
    main([str(runs / "base"), str(runs / "good"), str(runs / "base")])
    assert f"note: {runs / 'base'} is named more than once" in capsys.readouterr().err
    for folder in ("a", "b"):
        write_run(tmp_path / folder / "twin", GOLD, RIGHT_60)
    with pytest.raises(SystemExit):
        main([str(tmp_path / "a" / "twin"), str(tmp_path / "b" / "twin"), "--baseline", "twin"])
    assert "--baseline twin: 2 runs have this name" in capsys.readouterr().err
    output = compare(capsys, tmp_path / "a" / "twin", tmp_path / "b" / "twin", "--baseline",
                     tmp_path / "b" / "twin")
    assert table_row(output, f"{tmp_path / 'b' / 'twin'} (baseline)")


def test_nested_hyperparameters_are_dotted_columns_and_folders_sort_by_name(tmp_path, capsys):
    write_run(tmp_path / "offline-500-e4", GOLD, RIGHT_60, hyperparameters={"model.pretrain": {"run_name": "p2"}})
    write_run(tmp_path / "offline-500", GOLD, RIGHT_60, hyperparameters={"model.pretrain": {"run_name": "p1"}})
    output = compare(capsys, tmp_path)
    assert "| model.pretrain.run_name |" in output.splitlines()[4]
    assert "| p1 |" in table_row(output, "offline-500 (baseline)") and "| p2 |" in table_row(output, "offline-500-e4")


def test_hyperparameters_are_shown_as_written_in_a_config(tmp_path, capsys):
    write_run(tmp_path / "a", GOLD, RIGHT_60, hyperparameters={"trainer.save_total_limit": None,
                                                                "overrides": ["trainer.max_steps=500"]})
    write_run(tmp_path / "b", GOLD, RIGHT_60, hyperparameters={"trainer.save_total_limit": 1,
                                                                "overrides": ["trainer.max_steps=1500"]})
    row = table_row(compare(capsys, tmp_path / "a", tmp_path / "b"), "a (baseline)")
    assert "| null |" in row and "| [trainer.max_steps=500] |" in row


def test_a_line_break_in_a_run_name_stays_on_one_line_in_markdown(runs, tmp_path, capsys):
    write_run(tmp_path / "odd", GOLD, RIGHT_60, run_name="two\n# lines")
    output = compare(capsys, tmp_path / "odd", runs / "base")
    assert "Baseline: two # lines." in output and "\n# lines" not in output


def test_predictions_that_contradict_their_report_are_named(runs, tmp_path, capsys):
    output = compare(capsys, runs / "base", runs / "good", runs / "base-cv")
    assert "Warning" not in output and "warning" not in capsys.readouterr().err
    edited = shutil.copytree(runs / "good", tmp_path / "good")
    lines = [json.loads(line) for line in (edited / "predictions.jsonl").read_text().splitlines()]
    (edited / "predictions.jsonl").write_text("".join(json.dumps({**r, "label": "quote"}) + "\n" for r in lines))
    main([str(runs / "base"), str(edited)])
    output, err = capsys.readouterr()
    (warning,) = err.splitlines()
    assert warning.startswith("warning: good: its predictions.jsonl gives macro-F1 0.") and "states 0." in warning
    assert "re-run it" in warning and "**Warning**: good: its predictions.jsonl gives macro-F1" in output
