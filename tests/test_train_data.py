"""Training data: field mapping, bad rows, empty files, the length policy, the tokenise cache."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("transformers")

from metamath.config import ConfigError  # noqa: E402
from metamath.io import DataError  # noqa: E402
from metamath.prompts.alpaca import render  # noqa: E402
from metamath.train.config import load_train_config  # noqa: E402
from metamath.train.data import load_examples, summary  # noqa: E402


@pytest.fixture(scope="module")
def tok(tiny_model_dir):
    import transformers

    return transformers.AutoTokenizer.from_pretrained(tiny_model_dir)


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _cfg(tmp_path, data, *extra):
    return load_train_config(
        None,
        [f"model={tmp_path}", f"data.path={data}", f"data.cache_dir={tmp_path / 'cache'}", *extra],
    )


GOOD = [
    {"query": "What is 2+3?", "response": "2+3=5.\nThe answer is: 5"},
    {"query": "What is 4*2?", "response": "4*2=8.\nThe answer is: 8"},
]


def test_row_without_response_names_file_line_and_field(tmp_path, tok):
    f = _write(tmp_path / "d.jsonl", [GOOD[0], {"query": "What is 1+1?"}])
    with pytest.raises(DataError) as e:
        load_examples(_cfg(tmp_path, f), tok)
    msg = str(e.value)
    assert "d.jsonl:2" in msg and "'response'" in msg and "is missing" in msg
    assert "data.response_field" in msg  # says how to fix it
    data = load_examples(_cfg(tmp_path, f, "data.on_bad_row=skip"), tok)
    assert len(data) == 1 and data.report["bad_rows_skipped"] == 1


def test_empty_file_is_a_clear_error(tmp_path, tok):
    f = tmp_path / "empty.jsonl"
    f.write_text("")
    with pytest.raises(DataError, match="no rows: the file is empty"):
        load_examples(_cfg(tmp_path, f), tok)


def test_over_long_prompt_and_response_are_dropped_and_reported(tmp_path, tok):
    long_q = "How many apples? " * 200  # prompt alone > 128 tokens
    long_r = "Step. " * 200
    rows = [*GOOD, {"query": long_q, "response": "5"}, {"query": "Hi?", "response": long_r}]
    f = _write(tmp_path / "d.jsonl", rows)
    data = load_examples(_cfg(tmp_path, f, "max_length=128"), tok)
    assert len(data) == 2
    reasons = {d["ref"].rsplit(":", 1)[1]: d["reason"] for d in data.dropped}
    assert reasons == {"3": "prompt_too_long", "4": "too_long"}
    line = summary(data.report)
    assert "1 dropped because the prompt alone is max_length=128 tokens or more" in line
    assert "2 longer than max_length=128" in line and "see dropped.jsonl" in line
    # over_length=cut keeps the long response cut (the original's behaviour), and says so
    cut = load_examples(_cfg(tmp_path, f, "max_length=128", "over_length=cut"), tok)
    assert len(cut) == 3 and cut.report["cut_at_max_length"] == 1
    assert max(len(x) for x in cut.ids) == 128
    assert "losing their answer line and EOS" in summary(cut.report)
    with pytest.raises(ValueError, match="no training examples left"):
        load_examples(
            _cfg(tmp_path, _write(tmp_path / "l.jsonl", rows[2:3]), "max_length=128"), tok
        )


def test_field_mapping_and_tokenise_once_cache(tmp_path, tok):
    f = _write(
        tmp_path / "g.jsonl", [{"question": r["query"], "answer": r["response"]} for r in GOOD]
    )
    cfg = _cfg(tmp_path, f, "data.query_field=question", "data.response_field=answer")
    first = load_examples(cfg, tok)
    again = load_examples(cfg, tok)
    assert not first.report["cache_hit"] and again.report["cache_hit"]
    assert [x.tolist() for x in first.ids] == [x.tolist() for x in again.ids]
    assert first.prompt_lens == again.prompt_lens
    assert first.ids[0].tolist() == tok(render(GOOD[0]["query"]))["input_ids"] + tok(
        GOOD[0]["response"], add_special_tokens=False
    )["input_ids"] + [tok.eos_token_id]
    style = load_examples(
        _cfg(
            tmp_path,
            f,
            "data.query_field=question",
            "data.response_field=answer",
            "prompt_style=original",
        ),
        tok,
    )
    assert not style.report["cache_hit"]  # another prompt style is another cache entry


def test_config_errors_name_the_key(tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'micro_batch_size'"):
        load_train_config(None, ["model=x", "data.path=y.jsonl", "micro_batchsize=2"])
    with pytest.raises(ConfigError, match="data.path"):
        load_train_config(None, ["model=x"])
    with pytest.raises(ConfigError, match="prompt_style"):
        load_train_config(None, ["model=x", "data.path=y.jsonl", "prompt_style=alpaca"])
    with pytest.raises(ConfigError, match="eval.tasks: unknown task 'gsm9k'"):
        load_train_config(None, ["model=x", "data.path=y.jsonl", "eval.tasks=[gsm9k]"])
    with pytest.raises(ConfigError, match="val_size"):
        load_train_config(None, ["model=x", "data.path=y.jsonl", "val_size=-1"])


@pytest.mark.slow  # importing datasets and its offline look-ups take ~25 s here
def test_unreachable_hub_dataset_says_so(tmp_path, tok, monkeypatch):
    pytest.importorskip("datasets")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(RuntimeError, match="not a local file and the Hub dataset could not"):
        load_examples(_cfg(tmp_path, "no-such-owner/no-such-dataset"), tok)


def test_validation_split_is_seeded_and_disjoint():
    from metamath.train.data import TrainData, split_validation

    def data():
        return TrainData([[i] for i in range(50)], [0] * 50, [f"f:{i}" for i in range(50)])

    train, val = split_validation(data(), 10, seed=3)
    assert len(val) == 10 and len(train) == 40
    assert set(train.refs).isdisjoint(val.refs) and len(set(train.refs) | set(val.refs)) == 50
    assert split_validation(data(), 10, seed=3)[1].refs == val.refs  # same on every process
    assert split_validation(data(), 10, seed=4)[1].refs != val.refs
    assert split_validation(data(), 0, seed=3)[1] is None
    with pytest.raises(ValueError, match="val_size=50"):
        split_validation(data(), 50, seed=3)


def test_on_bad_row_skip_records_every_kind_of_bad_row(tmp_path, tok):
    f = tmp_path / "d.jsonl"
    f.write_bytes(
        b"\xef\xbb\xbf"  # a BOM: row 1 is good
        + json.dumps(GOOD[0]).encode()
        + b"\n{not json}\n"
        + b'{"query": "Caf\xe9?", "response": "x"}\n'
        + b'{"query": "Q?", "response": 5}\n'
        + b'{"query": "'
        + b"9" * 3000
        + b'", "response": "x"}\n'
        + json.dumps(GOOD[1]).encode()
        + b"\n"
    )
    with pytest.raises(DataError, match="d.jsonl:2: malformed JSONL line"):
        load_examples(_cfg(tmp_path, f), tok)
    data = load_examples(_cfg(tmp_path, f, "data.on_bad_row=skip", "data.max_row_bytes=2000"), tok)
    assert len(data) == 2 and data.report["bad_rows_skipped"] == 4
    bad = [d for d in data.dropped if d["reason"] == "bad_row"]
    assert [d["ref"] for d in bad] == [f"{f}:{n}" for n in (2, 3, 4, 5)]
    for d, why in zip(
        bad, ["malformed JSONL", "not valid UTF-8", "not text", "data.max_row_bytes"], strict=True
    ):
        assert why in d["error"], d
    assert "4 bad rows skipped" in summary(data.report)


def test_rows_that_cannot_fit_are_dropped_before_tokenising(tmp_path, tok, monkeypatch):
    import metamath.train.data as td

    seen: list[int] = []
    real = td.encode_batch

    def spy(tok_, queries, responses, style):
        seen.extend(len(q) + len(r) for q, r in zip(queries, responses, strict=True))
        return real(tok_, queries, responses, style)

    monkeypatch.setattr(td, "encode_batch", spy)
    huge = {"query": "What is 1+1?", "response": "1 + 1 = 2. " * 80_000}
    long_prompt = {"query": "1 + 1 " * 100_000, "response": "2"}
    f = _write(tmp_path / "d.jsonl", [GOOD[0], huge, long_prompt, GOOD[1]])
    data = load_examples(_cfg(tmp_path, f, "max_length=256"), tok)
    assert len(data) == 2 and max(seen) < 1000  # the 1 MB rows were never tokenised
    early = {d["reason"]: d for d in data.dropped}
    assert set(early) == {"too_long", "prompt_too_long"}
    assert "not tokenised" in early["too_long"]["note"]
    cut = load_examples(_cfg(tmp_path, f, "max_length=256", "over_length=cut"), tok)
    assert len(cut) == 3 and max(len(x) for x in cut.ids) == 256
    assert cut.report["cut_at_max_length"] == 1
