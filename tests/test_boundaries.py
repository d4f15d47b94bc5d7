"""The boundaries where text enters (metamath.text, metamath.io, metamath.llm.base) and where
secrets could leave (metamath.secrets): tables of real strings and real files with each defect."""

from __future__ import annotations

import json
import os
import stat

import pytest

from metamath.io import DataError, atomic_write_text, follow_umask, read_jsonl, read_records
from metamath.llm.base import Completion, Request, Result
from metamath.secrets import find_secrets, redact, redact_text
from metamath.text import clean_obj, clean_text, reply_char_limit

CLEAN = [
    ("plain text 12 + 3 = 15", "plain text 12 + 3 = 15"),
    ("tab\tand\nnewline", "tab\tand\nnewline"),
    ("a\x00b", "ab"),  # NUL
    ("\x1b[31mred\x1b[0m", "red"),  # CSI colour
    ("\x1b[2J\x1b[Hcleared", "cleared"),  # clear screen, cursor home
    ("\x1b]0;title\x07text", "text"),  # OSC window title
    ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),  # OSC 8 hyperlink
    ("\x9b31mC1 CSI", "C1 CSI"),
    ("bell\x07 back\x08space del\x7f", "bell backspace del"),
    ("C1\x85\x90\x9f", "C1"),
    ("win\r\nline\rold mac", "win\nline\nold mac"),
    ("lone \ud800 high and \udfff low", "lone \ufffd high and \ufffd low"),
    ("emoji 😀 and é stay", "emoji 😀 and é stay"),
    ("\\frac{1}{2} and $x^2$", "\\frac{1}{2} and $x^2$"),
]


@pytest.mark.parametrize("raw, want", CLEAN)
def test_clean_text(raw, want):
    got = clean_text(raw)
    assert got == want
    got.encode("utf-8")  # strict: valid UTF-8
    assert clean_text(got) == got  # idempotent


def test_clean_obj_cleans_keys_and_nested_values():
    assert clean_obj({"q\x00": ["a\x1b[1mb", {"x": "\ud83d"}], "n": 3}) == {
        "q": ["ab", {"x": "\ufffd"}],
        "n": 3,
    }


def test_completion_is_cleaned_and_a_null_is_a_failed_sample():
    c = Completion("x\x00\ud800\x1b[0m", 0)
    assert c.text == "x\ufffd" and c.ok
    bad = Completion(None, 1)  # what a `content: null` choice carries
    assert not bad.ok and bad.text == "" and bad.finish_reason == "error"
    assert "no text" in bad.error


def test_result_bounds_a_reply_longer_than_max_tokens_allows():
    req = Request(id="r", prompt="p", n=2, max_tokens=100)
    huge = "1 + 1 = 2. " * 200_000  # 2.2 MB from a server that ignored max_tokens
    res = Result(req, (Completion("short", 0), Completion(huge, 1)))
    assert res.completions[0].text == "short" and res.completions[0].finish_reason == "stop"
    assert len(res.completions[1].text) == reply_char_limit(100)
    assert res.completions[1].finish_reason == "length"


def test_errors_are_redacted_at_the_result_boundary():
    req = Request(id="r", prompt="p")
    res = Result(req, error="HTTP 500 from https://bob:s3cretPW@api.example.com/v1?api_key=K123")
    assert "s3cretPW" not in res.error and "K123" not in res.error


# -- files ---------------------------------------------------------------------------------
def test_bom_at_file_start_is_accepted_everywhere(tmp_path):
    f = tmp_path / "bom.jsonl"
    f.write_bytes(b'\xef\xbb\xbf{"q": "a"}\n{"q": "b"}\n')
    assert [r for _, r in read_jsonl(f)] == [{"q": "a"}, {"q": "b"}]
    j = tmp_path / "bom.json"
    j.write_bytes(b'\xef\xbb\xbf[{"q": "a"}]')
    assert [r for _, r in read_records(j)] == [{"q": "a"}]


def test_a_bom_after_line_one_is_not_silently_dropped(tmp_path):
    f = tmp_path / "mid.jsonl"
    f.write_bytes(b'{"q": "a"}\n\xef\xbb\xbf{"q": "b"}\n')
    with pytest.raises(DataError, match="mid.jsonl:2"):
        list(read_jsonl(f))


def test_rows_are_cleaned_when_read(tmp_path):
    f = tmp_path / "x.jsonl"
    f.write_text('{"q": "a\\u0000b\\u001b[31mc\\ud800"}\n', encoding="utf-8")
    assert [r for _, r in read_jsonl(f)] == [{"q": "abc\ufffd"}]


def test_a_long_line_is_refused_without_being_read_whole(tmp_path):
    import tracemalloc

    f = tmp_path / "big.jsonl"
    with open(f, "wb") as out:
        out.write(b'{"q": "small"}\n{"q": "' + b"7" * (50 << 20) + b'"}\n{"q": "after"}\n')
    bad: list = []
    tracemalloc.start()
    rows = list(read_jsonl(f, skip_bad=True, bad=bad, max_bytes=1 << 20))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [r["q"] for _, r in rows] == ["small", "after"]
    assert bad[0].line == 2 and "row too large: 52,428,8" in str(bad[0])
    assert "over the limit of 1,048,576 (max_row_bytes)" in str(bad[0])
    assert peak < 8 << 20, peak  # the 50 MB line never sat in memory
    with pytest.raises(DataError, match="big.jsonl:2: row too large"):
        list(read_jsonl(f, max_bytes=1 << 20))


# -- secrets ---------------------------------------------------------------------------------
REDACT = [
    ("https://user:pa55@host:8000/v1", "https://***@host:8000/v1"),
    ("http://TOKEN123@git.example.com/x", "http://***@git.example.com/x"),
    ("http://h/v1?api_key=K1&x=2", "http://h/v1?api_key=***&x=2"),
    ("http://h/v1?x=1&access_token=K2", "http://h/v1?x=1&access_token=***"),
    ("Authorization: Bearer abcdefghijklmnop", "Authorization: ***"),
    ('{"authorization": "Basic dXNlcjpwYXNz"}', '{"authorization": "***"}'),
    ("key sk-proj-abcdefghijklmnopqrstuvwx end", "key *** end"),
    ("hf_abcdefghijklmnopqrstuvwxyz0123", "***"),
    ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
    ("the bearer of 12 bonds", "the bearer of 12 bonds"),
    ("max_tokens=512 key=value", "max_tokens=512 key=value"),
]


@pytest.mark.parametrize("raw, want", REDACT)
def test_redact_text(raw, want):
    assert redact_text(raw) == want


def test_find_secrets_names_keys_but_not_lookalikes():
    cfg = {
        "teacher": {"options": {"api_key": "K", "api_key_env": "MY_KEY", "max_tokens": 5}},
        "seeds": [{"password": "p"}],
        "hf_token": "",
        "model": {"pad_token": "<pad>"},
        "extra_body": {"api_key": "allowed-here"},
    }
    assert find_secrets(cfg) == ["teacher.options.api_key", "seeds[0].password"]


def test_redact_masks_secret_keys_also_inside_extra_body_and_headers():
    cfg = {
        "options": {
            "base_url": "http://u:PW@h/v1",
            "extra_body": {"api_key": "K", "top_k": 20},
            "headers": {"Authorization": "Bearer x", "X-Trace": "1"},
        }
    }
    out = json.dumps(redact(cfg))
    assert "PW" not in out and '"K"' not in out and "Bearer x" not in out
    assert '"top_k": 20' in out and '"X-Trace": "1"' in out


# -- file modes ------------------------------------------------------------------------------
def test_written_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "report.md", "hi")
        lib = tmp_path / "model" / "model.safetensors"
        lib.parent.mkdir()
        lib.write_bytes(b"x")
        os.chmod(lib, 0o600)  # what safetensors' writer leaves
        follow_umask(lib.parent)
        os.umask(0o027)
        atomic_write_text(tmp_path / "group.md", "hi")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "report.md").stat().st_mode) == 0o644
    assert stat.S_IMODE(lib.stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "group.md").stat().st_mode) == 0o640


def test_a_saved_model_follows_the_umask(tiny_model_dir):
    """safetensors writes model.safetensors 0600; metamath tiny-model (like train's save) fixes it."""
    from metamath.io import file_mode

    for f in tiny_model_dir.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == file_mode(), f


def test_redacting_json_text_keeps_it_json():
    doc = {"e": 'HTTP 401 from http://u:p@h/v1?key=k\\"x authorization: "Bearer abcdefghijklmnopq"'}
    text = json.dumps(doc)
    assert json.loads(redact_text(text))["e"].count("***") == 3


@pytest.mark.parametrize(
    "line, want",
    [
        (r'{"q": "\\frac{1}{2} \\right) \\begin"}', "\\frac{1}{2} \\right) \\begin"),
        (r'{"q": "\\\u0007bell"}', "\\bell"),  # an escaped backslash, then a real escape
        (r'{"q": "a\rb\fc\bd"}', "a\nbcd"),
        (r'{"q": "\u0085next\u009b31mline\u007f"}', "nextline"),
        ('{"q": "caf\u00e9 \\u00e9"}', "café é"),
    ],
)
def test_each_row_is_cleaned_exactly_when_it_needs_it(tmp_path, line, want):
    f = tmp_path / "x.jsonl"
    f.write_text(line + "\n", encoding="utf-8")
    assert next(read_jsonl(f))[1] == {"q": want}
