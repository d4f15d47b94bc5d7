"""First contact with the CLI: overrides anywhere on the line, inputs checked before anything is
created (and by --dry-run), data-not-found messages that name what was tried and the command's
own way to pass a file."""

from __future__ import annotations

import pytest

from metamath.cli import main, parse_args


def _stub_model(d):
    """A directory a model reference accepts (config.json); a dry run loads nothing."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.json").write_text("{}")
    return d


@pytest.mark.parametrize(
    "argv, option, value, overrides",
    [
        (["augment", "--out", "x", "k=v"], "out", "x", ["k=v"]),
        (
            ["augment", "a=1", "--out", "x", "a=2", "--shard", "0/2", "b=3"],
            "out",
            "x",
            ["a=1", "a=2", "b=3"],
        ),  # order kept: the later a=2 wins
        (["eval", "--model", "m", "--out", "x", "limit=3"], "out", "x", ["limit=3"]),
        (
            ["eval", "--tasks", "gsm8k", "decoding.n=1", "--limit", "2"],
            "limit",
            2,
            ["decoding.n=1"],
        ),
        (["train", "--config", "c.yaml", "--run-dir", "x", "lr=1e-3"], "run_dir", "x", ["lr=1e-3"]),
        (["train", "--out", "x", "lr=1e-3", "model=m"], "run_dir", "x", ["lr=1e-3", "model=m"]),
        (
            ["quickstart", "--no-progress", "seeds=4", "--config", "q.yaml", "k=2"],
            "config",
            "q.yaml",
            ["seeds=4", "k=2"],
        ),
    ],
)
def test_overrides_after_an_option(argv, option, value, overrides):
    _, args = parse_args(argv)
    assert getattr(args, option) == value
    assert args.overrides == overrides


@pytest.mark.parametrize(
    "argv", [["serve", "m", "k=v"], ["eval", "--bogus"], ["compare", "a", "b", "k=v"]]
)
def test_what_a_command_does_not_take_is_still_refused(argv, capsys):
    with pytest.raises(SystemExit) as e:
        parse_args(argv)
    assert e.value.code == 2
    assert f"metamath {argv[0]}: error: unrecognized arguments" in capsys.readouterr().err


@pytest.fixture
def no_data(monkeypatch, tmp_path):
    monkeypatch.setenv("METAMATH_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path


def _err(capsys) -> str:
    return capsys.readouterr().err


def test_eval_without_data_creates_nothing_and_says_how_to_pass_a_file(
    no_data, tiny_model_dir, capsys
):
    out = no_data / "run"
    assert (
        main(["eval", "--model", str(tiny_model_dir), "--tasks", "gsm8k", "--out", str(out)]) == 2
    )
    err = _err(capsys)
    assert str(no_data / "nowhere" / "gsm8k" / "test.jsonl") in err  # where it looked
    assert "export METAMATH_DATA=" in err and "--tasks my.jsonl" in err
    assert "path=" not in err.replace("data_path=", "")  # no key eval would reject
    assert not out.exists()


def test_augment_without_data_creates_nothing_and_says_how_to_pass_a_file(no_data, capsys):
    out = no_data / "aug"
    model = _stub_model(no_data / "model")
    argv = ["augment", "--config", "configs/augment/quickstart.yaml", f"teacher.model={model}"]
    argv.append("--out")
    assert main([*argv, str(out)]) == 2
    err = _err(capsys)
    assert "seeds[0]: gsm8k:train was not found" in err
    assert "seeds=[{name: mine, path: my.jsonl" in err and "HF_HUB_OFFLINE is set" in err
    assert not out.exists()


def test_train_with_a_missing_data_file_creates_nothing(no_data, tiny_model_dir, capsys):
    out = no_data / "train"
    argv = ["train", "--config", "configs/train/tiny_lora_cpu.yaml", f"model={tiny_model_dir}"]
    assert main([*argv, "data.path=nope.jsonl", "--run-dir", str(out)]) == 2
    assert "data.path[0]: nope.jsonl does not exist (relative to the working directory" in _err(
        capsys
    )
    assert not out.exists()


def test_quickstart_without_data_creates_nothing(no_data, capsys):
    out = no_data / "qs"
    assert main(["quickstart", f"out={out}", "teacher=a/b", "student=a/b"]) == 2
    assert "seed data: gsm8k:train was not found" in _err(capsys)
    assert not out.exists()


def test_dry_run_checks_every_input_and_creates_nothing(tmp_path, capsys):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text('{"question": "1+1?", "answer": "2"}\n')
    out = tmp_path / "aug"
    seed = f"seeds=[{{name: mine, path: {seeds}}}]"
    model = _stub_model(tmp_path / "model")
    argv = ["augment", "--config", "configs/augment/quickstart.yaml", seed, "--out", str(out)]
    argv.append(f"teacher.model={model}")
    assert main([*argv, "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert f"# checked seeds[0].path: {seeds} (36 bytes)" in printed
    assert (
        "# checked --config: " in printed and f"# checked --out: {out} (will be created)" in printed
    )
    assert f"# checked teacher.model: {model} (a local model directory)" in printed
    assert not out.exists()
    missing = f"seeds=[{{name: mine, path: {tmp_path / 'gone.jsonl'}}}]"
    assert main(["augment", missing, "--out", str(out), "--dry-run"]) == 2
    assert f"seeds[0].path: {tmp_path / 'gone.jsonl'} does not exist" in _err(capsys)
    # an output path that is a file is refused before anything runs
    f = tmp_path / "a-file"
    f.write_text("x")
    argv = ["eval", "--model", str(model), "--tasks", str(seeds), "--out", str(f), "--dry-run"]
    assert main(argv) == 2
    assert "--out: " in _err(capsys)


def test_dry_run_reads_the_data_it_will_use(data_dir, tmp_path, capsys):
    model = str(_stub_model(tmp_path / "model"))
    assert main(["eval", "--model", model, "--tasks", "gsm8k,math500", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert (
        f"# checked task gsm8k (gsm8k:test): {data_dir.resolve() / 'gsm8k' / 'test.jsonl'}"
        in printed
    )
    assert "# checked task math500 (math500:test): " in printed


@pytest.mark.parametrize("dry", [True, False])
def test_a_mistyped_backend_option_or_backend_creates_nothing(tmp_path, capsys, dry):
    """A misspelled backend option is one error line naming the closest option (not a
    traceback), found by --dry-run too, before the run directory exists; so is an unknown
    teacher backend."""
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text('{"question": "1+1?", "answer": "2"}\n')
    model = _stub_model(tmp_path / "model")
    out = tmp_path / "run"
    flag = ["--dry-run"] if dry else []
    argv = ["eval", "--model", str(model), "--tasks", str(seeds), "--out", str(out)]
    assert main([*argv, "options.batchsize=4", *flag]) == 2
    err = _err(capsys)
    assert "options.batchsize" in err and "did you mean 'batch_size'?" in err, err
    assert "Traceback" not in err and not out.exists()
    seed = f"seeds=[{{name: mine, path: {seeds}}}]"
    argv = ["augment", "--config", "configs/augment/quickstart.yaml", seed, "--out", str(out)]
    for bad, says in [
        (
            [f"teacher.model={model}", "teacher.backend=hf", "teacher.options.batchsize=8"],
            "did you mean 'batch_size'?",
        ),
        (["teacher.backend=scripted", "teacher.options.p_corect=0.5"], "did you mean 'p_correct'?"),
        ([f"teacher.model={model}", "teacher.backend=hf_"], "'hf_' is not one of"),
    ]:
        assert main([*argv, *bad, *flag]) == 2
        assert says in _err(capsys)
        assert not out.exists()


def test_a_mistyped_path_or_task_name_gets_the_close_name(tmp_path, capsys):
    """A config file, a data file or a task name one slip away from a real one: the error
    names the real one."""
    (tmp_path / "quickstart.yaml").write_text("seeds: []\n")
    (tmp_path / "samples.jsonl").write_text('{"question": "1+1?", "answer": "2"}\n')
    model = _stub_model(tmp_path / "model")
    assert main(["augment", "--config", str(tmp_path / "quickstrat.yaml"), "--dry-run"]) == 2
    assert f"did you mean {tmp_path / 'quickstart.yaml'}?" in _err(capsys)
    argv = ["eval", "--model", str(model), "--out", str(tmp_path / "o"), "--dry-run"]
    assert main([*argv, "--tasks", str(tmp_path / "sample.jsonl")]) == 2
    assert f"did you mean {tmp_path / 'samples.jsonl'}?" in _err(capsys)
    for typed, meant in [("gsm8K", "gsm8k"), ("math-500", "math500"), ("MATH", "math")]:
        assert main([*argv, "--tasks", typed]) == 2
        assert f"did you mean '{meant}'?" in _err(capsys)
    assert main([*argv, "--tasks", "xyz"]) == 2
    assert "did you mean" not in _err(capsys)
    assert not (tmp_path / "o").exists()
