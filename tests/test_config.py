"""Config: defaults <- YAML <- key=value overrides; unknown keys name the closest valid key."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import yaml

from metamath.config import ConfigError, load_config, parse_overrides, save_resolved


@dataclass
class Decoding:
    n: int = 1
    temperature: float = 0.0
    stop: list[str] = field(default_factory=list)


@dataclass
class Cfg:
    model: str = "base"
    tasks: list[str] = field(default_factory=lambda: ["gsm8k"])
    limit: int | None = None
    greedy: bool = True
    decoding: Decoding = field(default_factory=Decoding)


def test_defaults_yaml_then_overrides(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("model: llama\ndecoding:\n  n: 4\n  temperature: 0.7\n")
    cfg = load_config(Cfg, f, ["decoding.n=8", "tasks=gsm8k,math500", "limit=20", "greedy=false"])
    assert cfg.model == "llama"
    assert cfg.decoding.n == 8 and cfg.decoding.temperature == 0.7
    assert cfg.tasks == ["gsm8k", "math500"]
    assert cfg.limit == 20 and cfg.greedy is False


def test_unknown_key_suggests_closest(tmp_path):
    with pytest.raises(
        ConfigError,
        match=r"unknown config key 'decoding.temprature'.*"
        r"did you mean 'decoding.temperature'",
    ):
        load_config(Cfg, None, ["decoding.temprature=0.5"])


@pytest.mark.parametrize(
    "override,msg",
    [
        ("decoding.n=many", "decoding.n: expected an integer"),
        ("greedy=maybe", "greedy: expected true/false"),
        ("decoding=3", "decoding: expected a mapping"),
        ("novalue", "not of the form key=value"),
    ],
)
def test_bad_values_name_key_and_value(override, msg):
    with pytest.raises(ConfigError, match=msg):
        load_config(Cfg, None, [override])


def test_a_space_after_the_equals_sign_is_named():
    """The shell splits "model= ./ckpt" into "model=" and "./ckpt": say so."""
    with pytest.raises(ConfigError, match=r"no space after '=' \(write model=\./ckpt\)"):
        load_config(Cfg, None, ["model=", "./ckpt"])


def test_bad_yaml_file_is_named(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        load_config(Cfg, f)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(Cfg, tmp_path / "missing.yaml")


@dataclass
class Seed:
    name: str = "gsm8k"
    limit: int | None = None


@dataclass
class WithList:
    seeds: list[Seed] = field(default_factory=list)
    decoding: Decoding = field(default_factory=Decoding)


@pytest.mark.parametrize(
    "text, overrides, where, msg",
    [
        ("model: x\nlimt: 3\n", [], "c.yaml, line 2", "unknown config key 'limt'; did you mean"),
        ("decoding:\n  n: 2\n  temprature: 1\n", [], "c.yaml, line 3", "'decoding.temprature'"),
        ("decoding:\n  n: two\n", [], "c.yaml, line 2", "decoding.n: expected an integer"),
        ("greedy: maybe\n", [], "c.yaml, line 1", "greedy: expected true/false"),
        # the override sets the value that is wrong, so the override is named, not the file
        ("decoding:\n  n: 2\n", ["decoding.n=x"], "override 'decoding.n=x'", "expected an integer"),
        ("decoding:\n  n: x\n", ["decoding.n=2", "limit=y"], "override 'limit=y'", "limit"),
    ],
)
def test_a_bad_key_in_a_yaml_file_names_file_and_line(tmp_path, text, overrides, where, msg):
    f = tmp_path / "c.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_config(Cfg, f, overrides)
    assert where in str(e.value) and msg in str(e.value)


def test_a_bad_key_in_a_yaml_list_item_names_its_line(tmp_path):
    f = tmp_path / "seeds.yaml"
    f.write_text("seeds:\n  - {name: gsm8k, limit: 5}\n  - name: math\n    limitt: 3\n")
    with pytest.raises(ConfigError, match=r"seeds.yaml, line 4: unknown config key 'seeds\[1\]"):
        load_config(WithList, f)


def test_parse_overrides_nested():
    assert parse_overrides(["a.b.c=1", "a.d=x", "e="]) == {"a": {"b": {"c": 1}, "d": "x"}, "e": ""}


def test_save_resolved_roundtrips(tmp_path):
    cfg = load_config(Cfg, None, ["model=m1", "decoding.stop=[a, b]"])
    out = save_resolved(cfg, tmp_path)
    doc = yaml.safe_load(out.read_text())
    assert doc["config"]["model"] == "m1"
    assert doc["config"]["decoding"]["stop"] == ["a", "b"]
    assert doc["run"]["metamath_version"]
    # the saved config is itself a valid config file
    again = load_config(Cfg, None, base=doc["config"])
    assert again == cfg


# One name per knob across commands: the old eval spellings still load, with a warning naming
# the new key; both spellings at once is an error.
RENAMED = [
    (
        ["primary=strict"],
        "grade_mode",
        "strict",
        "'primary' is deprecated: it is now called 'grade_mode'",
    ),
    (
        ["backend_options.device=cpu"],
        "options",
        {"device": "cpu"},
        "'backend_options' is deprecated: it is now called 'options'",
    ),
]


@pytest.mark.parametrize("overrides,key,value,warning", RENAMED)
def test_renamed_keys_still_load_with_a_warning(overrides, key, value, warning):
    from metamath.evaluate import EvalConfig

    with pytest.warns(FutureWarning, match=warning):
        cfg = load_config(EvalConfig, None, overrides)
    assert getattr(cfg, key) == value


def test_renamed_key_and_new_key_together_is_an_error(tmp_path):
    from metamath.evaluate import EvalConfig

    f = tmp_path / "e.yaml"
    f.write_text("grade_mode: flexible\nprimary: strict\n")
    with pytest.raises(ConfigError, match=r"e.yaml, line 2: 'primary' and 'grade_mode' are both"):
        load_config(EvalConfig, f)


def test_literal_fields_are_checked_in_python_too():
    from metamath.evaluate import EvalConfig

    with pytest.raises(
        ConfigError, match="grade_mode='lenient': use one of auto, strict, flexible"
    ):
        EvalConfig(model="m", grade_mode="lenient").check()


def test_yaml_bare_no_reads_as_the_literal_no(tmp_path):
    from metamath.train.config import TrainConfig

    f = tmp_path / "t.yaml"
    f.write_text("model: m\ndata: {path: [d.jsonl]}\nmixed_precision: no\n")
    assert load_config(TrainConfig, f).mixed_precision == "no"
